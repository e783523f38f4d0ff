package lambdafn_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/bwc-project/bwc/internal/aws/eventbridge"
	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

// The fuzz targets feed the functions' untrusted inputs to their decoders
// the way the Lambda runtime does (json.Unmarshal into the handler's input
// type; what does not decode never reaches the handler) and check that
// the handler answers or fails with a stable error name, never panics.
// Seeds are in testdata/fuzz/<target>; crashers found are kept there.

// fuzzDeps are Deps over a SQLite store (fast enough for fuzzing) and the
// repository's packs, with the AWS calls faked.
func fuzzDeps(f *testing.F) *lambdafn.Deps {
	f.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "bwc.db"), store.Options{Cipher: &storetest.Cipher{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	compiled, _, err := lambdafn.LoadContent([]string{filepath.Join("..", "..", "..", "packs")})
	if err != nil {
		f.Fatal(err)
	}
	return &lambdafn.Deps{
		Store: st, Content: compiled,
		Events: eventbridge.New(&fakeEvents{}, "bwc-bus", st, eventbridge.Options{}),
		SFN:    &fakeSFN{}, Name: "bwc", Region: "us-east-1", Account: "000000000000",
		Log: lambdafn.NewLogger(io.Discard),
	}
}

// addSeeds adds the files of testdata as seeds besides the corpus.
func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkFunctionError fails unless err is nil or a function error with a
// bwc.* name (the names docs/deploy.md lists, or an action's).
func checkFunctionError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var fe messages.InvokeResponse_Error
	if !errors.As(err, &fe) || !strings.HasPrefix(fe.Type, "bwc.") || fe.Message == "" {
		t.Fatalf("error %T %v: want a function error named bwc.*", err, err)
	}
}

func FuzzHTTPRequest(f *testing.F) {
	addSeeds(f, "apigw-health.json")
	f.Add([]byte(`{"rawPath":"/api/v1/webhooks/a%2Fb","rawQueryString":"a=1&a=2","cookies":["a=b"],"isBase64Encoded":true,"body":"aGk=","requestContext":{"http":{"method":"POST"}}}`))
	a := lambdafn.HTTPAdapter{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != "" || !strings.HasPrefix(r.URL.Path, "/") {
			t := r.Context().Value(fuzzT{}).(*testing.T)
			t.Errorf("request URL %q: host %q path %q, want no host and an absolute path", r.URL, r.URL.Host, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev events.APIGatewayV2HTTPRequest
		if json.Unmarshal(raw, &ev) != nil {
			return
		}
		resp, err := a.Handle(context.WithValue(context.Background(), fuzzT{}, t), ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusBadRequest {
			var doc struct{ Code, Message string }
			if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil || doc.Code == "" {
				t.Fatalf("bad request body %q is not the API's JSON error (%v)", resp.Body, err)
			}
		}
	})
}

type fuzzT struct{}

func FuzzEnforcerEvent(f *testing.F) {
	f.Add([]byte(`{"rule":"examples.high_load_alert","event":{"detail-type":"core.webhook","source":"bwc.core","detail":{"trigger_instance_id":"ti-1","trace_tag":"t","payload":{"body":{}}}}}`))
	f.Add([]byte(`{"rule":"x","event":{"detail":{"trigger_instance_id":"ti"}}}`))
	f.Add([]byte(`{"rule":"x","event":"str"}`))
	d := fuzzDeps(f)
	h, err := lambdafn.NewEnforcer(d)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in lambdafn.EnforcerEvent
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		_, err := h.Handle(context.Background(), in)
		checkFunctionError(t, err)
	})
}

func FuzzTimerEvent(f *testing.F) {
	f.Add([]byte(`{"rule":"examples.r","trigger":"core.st2.IntervalTimer","parameters":{"unit":"seconds","delta":30},"scheduled_time":"2026-11-30T01:00:00Z"}`))
	f.Add([]byte(`{"trigger":"core.st2.CronTimer","scheduled_time":"not a time"}`))
	h := lambdafn.NewTimer(fuzzDeps(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in lambdafn.TimerEvent
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		_, err := h.Handle(context.Background(), in)
		checkFunctionError(t, err)
	})
}

func FuzzPollerEvent(f *testing.F) {
	f.Add([]byte(`{"pack":"examples","sensor":"examples.disk_watch","scheduled_time":"2026-11-30T01:00:00Z"}`))
	f.Add([]byte(`{"pack":"core","sensor":"x"}`))
	f.Add([]byte(`{"sensor":"."}`))
	h := lambdafn.NewPoller(fuzzDeps(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in lambdafn.PollerEvent
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		_, err := h.Handle(context.Background(), in)
		checkFunctionError(t, err)
	})
}

func FuzzCompletionEvent(f *testing.F) {
	addSeeds(f, "status-change.json")
	f.Add([]byte(`{"detail":{"executionArn":"arn:aws:states:us-east-1:0:execution:bwc-bwc_action:ex-1","stateMachineArn":"arn:aws:states:us-east-1:0:stateMachine:bwc-bwc_action","status":"FAILED","input":"{\"action\":\"core.noop\"}","error":"bwc.ActionFailed","cause":"{\"errorMessage\":\"m\"}"}}`))
	f.Add([]byte(`{"detail":{"executionArn":":","status":"RUNNING"}}`))
	h := lambdafn.NewCompletion(fuzzDeps(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in lambdafn.StatusChangeEvent
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		_, err := h.Handle(context.Background(), in)
		checkFunctionError(t, err)
	})
}
