package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseventbridge "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/bwc-project/bwc/internal/aws/eventbridge"
	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

// dynalite is one dynalite server for the package's tests.
var dynalite struct {
	once   sync.Once
	client *dynamodb.Client
	err    error
	srv    *dynamotest.Server
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dynalite.srv != nil {
		dynalite.srv.Stop()
	}
	os.Exit(code)
}

// newStore returns the DynamoDB store on a fresh table of a dynalite
// server started on loopback for the package's tests.
func newStoreWith(t *testing.T, opts store.Options) store.Store {
	t.Helper()
	node, cli := dynamotest.Paths(t)
	dynalite.once.Do(func() { dynalite.client, dynalite.err = startDynalite(node, cli) })
	if dynalite.err != nil {
		t.Fatal(dynalite.err)
	}
	name := dynamotest.TableName()
	if err := dynamo.CreateTable(context.Background(), dynalite.client, name); err != nil {
		t.Fatal(err)
	}
	return dynamo.New(dynalite.client, name, opts)
}

func startDynalite(node, cli string) (*dynamodb.Client, error) {
	srv, err := dynamotest.Start(node, cli)
	if err != nil {
		return nil, err
	}
	dynalite.srv = srv
	return srv.Client, nil
}

// fakeEvents stands in for the EventBridge client: it records the entries
// put and accepts them all.
type fakeEvents struct {
	mu      sync.Mutex
	entries []ebtypes.PutEventsRequestEntry
}

func (f *fakeEvents) PutEvents(_ context.Context, in *awseventbridge.PutEventsInput, _ ...func(*awseventbridge.Options)) (*awseventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &awseventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		f.entries = append(f.entries, e)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("eb-%d", len(f.entries)))})
	}
	return out, nil
}

// ofType returns the details of the entries put with a detail-type.
func (f *fakeEvents) ofType(detailType string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, e := range f.entries {
		if aws.ToString(e.DetailType) != detailType {
			continue
		}
		var d map[string]any
		_ = json.Unmarshal([]byte(aws.ToString(e.Detail)), &d)
		out = append(out, d)
	}
	return out
}

// fakeSFN stands in for the Step Functions client: StartExecution answers
// ExecutionAlreadyExists for a name started before, as Step Functions
// does once the execution has closed.
type fakeSFN struct {
	mu        sync.Mutex
	starts    []sfn.StartExecutionInput
	names     map[string]bool
	successes []sfn.SendTaskSuccessInput
	failures  []sfn.SendTaskFailureInput
	stops     []sfn.StopExecutionInput
	outputs   map[string]string // DescribeExecution's output by execution ARN
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, *in)
	key := aws.ToString(in.StateMachineArn) + "/" + aws.ToString(in.Name)
	if f.names == nil {
		f.names = map[string]bool{}
	}
	if f.names[key] {
		return nil, &sfntypes.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + key + "'")}
	}
	f.names[key] = true
	now := time.Now()
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(key), StartDate: &now}, nil
}

func (f *fakeSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.successes = append(f.successes, *in)
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, *in)
	return &sfn.SendTaskFailureOutput{}, nil
}

func (f *fakeSFN) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, ok := f.outputs[aws.ToString(in.ExecutionArn)]
	if !ok {
		return nil, &sfntypes.ExecutionDoesNotExist{Message: aws.String("no " + aws.ToString(in.ExecutionArn))}
	}
	return &sfn.DescribeExecutionOutput{ExecutionArn: in.ExecutionArn, Status: sfntypes.ExecutionStatusSucceeded, Output: aws.String(out)}, nil
}

func (f *fakeSFN) StopExecution(_ context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, *in)
	return &sfn.StopExecutionOutput{}, nil
}

// fixture is a Deps over dynalite, the repository's packs and fakes.
type fixture struct {
	deps   *lambdafn.Deps
	store  store.Store
	events *fakeEvents
	sfn    *fakeSFN
	logs   *bytes.Buffer
}

func newFixture(t *testing.T, extraPacks ...string) *fixture {
	t.Helper()
	st := newStoreWith(t, store.Options{Cipher: &storetest.Cipher{}})
	dirs := append([]string{filepath.Join("..", "..", "..", "packs")}, extraPacks...)
	compiled, diags, err := lambdafn.LoadContent(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) > 0 {
		t.Logf("pack diagnostics: %v", diags)
	}
	configs, err := lambdafn.PackConfigs(compiled.Packs, "")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, events: &fakeEvents{}, sfn: &fakeSFN{}, logs: &bytes.Buffer{}}
	f.deps = &lambdafn.Deps{
		Store:   st,
		Content: compiled,
		Events:  eventbridge.New(f.events, "bwc-bus", st, eventbridge.Options{}),
		SFN:     f.sfn,
		Name:    "bwc",
		Region:  "us-east-1",
		Account: "000000000000",
		Configs: configs,
		Log:     lambdafn.NewLogger(&lockedBuffer{b: f.logs}),
	}
	return f
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
