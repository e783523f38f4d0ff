package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awseventbridge "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/bwc-project/bwc/internal/aws/eventbridge"
	"github.com/bwc-project/bwc/internal/aws/kms"
	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/secret"
)

// Environment variables the functions read (docs/deploy.md).
const (
	EnvTable      = "BWC_TABLE"
	EnvEventBus   = "BWC_EVENT_BUS"
	EnvKMSKey     = "BWC_KMS_KEY"
	EnvName       = "BWC_NAME"
	EnvPacks      = "BWC_PACKS"
	EnvPackConfig = "BWC_PACK_CONFIG"
	EnvAccount    = "BWC_ACCOUNT"
	EnvAPIURL     = "BWC_API_URL"
	// EnvCreateTable=true makes Load create the table when it does not
	// exist: for running the functions against dynalite, never on AWS
	// (the stack creates the table).
	EnvCreateTable = "BWC_CREATE_TABLE"
)

// Env is the functions' configuration, read from the environment.
type Env struct {
	// Table is the DynamoDB table (BWC_TABLE, required).
	Table string
	// EventBus is the EventBridge bus (BWC_EVENT_BUS; default "default").
	EventBus string
	// KMSKey encrypts datastore secrets (BWC_KMS_KEY): a KMS key ARN, or
	// file:<path> naming a local AES key file (internal/store/secret), as
	// `bwc serve` uses, for running the functions without AWS; empty: no
	// secrets.
	KMSKey string
	// Name is the deployment's name prefix (BWC_NAME; default "bwc").
	Name string
	// Packs are the pack directories (BWC_PACKS, separated by the OS list
	// separator; default $LAMBDA_TASK_ROOT/packs, else packs/ beside the
	// executable), which `make lambda` copies beside each bootstrap.
	Packs []string
	// PackConfig is a YAML or JSON file {pack: {key: value}} of pack
	// configuration values (BWC_PACK_CONFIG; optional).
	PackConfig string
	// Account is the account id of the state machine ARNs (BWC_ACCOUNT);
	// default: the account of the function's own ARN at the first
	// invocation. Set it to 000000000000 under aws-lambda-rie, whose
	// function ARN names another account.
	Account string
	// APIURL is passed to actions as BWC_API_URL (optional).
	APIURL string
}

// ErrConfig is returned by ReadEnv for a missing or malformed variable.
var ErrConfig = errors.New("function configuration")

// ReadEnv reads Env from getenv (os.Getenv in the functions).
func ReadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		Table:      getenv(EnvTable),
		EventBus:   getenv(EnvEventBus),
		KMSKey:     getenv(EnvKMSKey),
		Name:       getenv(EnvName),
		PackConfig: getenv(EnvPackConfig),
		Account:    getenv(EnvAccount),
		APIURL:     getenv(EnvAPIURL),
	}
	if e.Table == "" {
		return e, fmt.Errorf("%w: %s is not set: expected the DynamoDB table's name", ErrConfig, EnvTable)
	}
	if e.EventBus == "" {
		e.EventBus = "default"
	}
	if e.Name == "" {
		e.Name = "bwc"
	}
	if p := getenv(EnvPacks); p != "" {
		e.Packs = filepath.SplitList(p)
	} else if root := getenv("LAMBDA_TASK_ROOT"); root != "" {
		e.Packs = []string{filepath.Join(root, "packs")}
	} else if exe, err := os.Executable(); err == nil {
		e.Packs = []string{filepath.Join(filepath.Dir(exe), "packs")}
	}
	if len(e.Packs) == 0 {
		return e, fmt.Errorf("%w: %s is not set and no packs directory is beside the executable", ErrConfig, EnvPacks)
	}
	return e, nil
}

// Publisher puts trigger events on the bus; *eventbridge.Publisher
// satisfies it (and *bus.Bus).
type Publisher interface {
	PutEvents(ctx context.Context, entries []bus.Entry) (bus.Output, error)
}

// SFN is the subset of the Step Functions client the functions call.
type SFN interface {
	stepfunctionsStartAPI
	stepfunctionsTokenAPI
	stepfunctionsStopAPI
	stepfunctionsDescribeAPI
}

// Deps are what the handlers are built from: the store, the compiled
// packs and the AWS adapters. Load builds them from the environment; tests
// build them with fakes.
type Deps struct {
	Store   store.Store
	Content *content.Compiled
	Events  Publisher
	SFN     SFN
	// Name is the deployment's prefix (BWC_NAME) and Region/Account those
	// of the state machine ARNs; an empty Account is taken from the
	// function's ARN at the first invocation.
	Name, Region, Account string
	// Configs are the packs' configuration values ($config()).
	Configs map[string]map[string]any
	// Runners run actions; default runner.New with default options.
	Runners runner.Runner
	// APIURL is given to actions as BWC_API_URL.
	APIURL string
	Log    *slog.Logger
	Now    func() time.Time

	once  sync.Once
	valid *enforcer.Validator

	accountMu sync.Mutex
}

// Load reads the environment, loads and compiles the packs and builds the
// AWS clients (config.LoadDefaultConfig: AWS_REGION, credentials, and the
// service endpoints AWS_ENDPOINT_URL_DYNAMODB, _EVENTBRIDGE, _SFN, _KMS
// for local services).
func Load(ctx context.Context) (*Deps, error) {
	env, err := ReadEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS SDK configuration: %w", err)
	}
	var cipher store.Cipher
	switch {
	case strings.HasPrefix(env.KMSKey, "file:"):
		path := strings.TrimPrefix(env.KMSKey, "file:")
		c, err := secret.LoadKeyFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: loading the local secrets key %s: %w", EnvKMSKey, path, err)
		}
		cipher = c
	case env.KMSKey != "":
		cipher = kms.New(awskms.NewFromConfig(cfg), env.KMSKey)
	}
	log := NewLogger(os.Stdout)
	compiled, diags, err := LoadContent(env.Packs)
	if err != nil {
		return nil, err
	}
	for _, dg := range diags {
		log.Warn("pack diagnostic: this content does not run", "diagnostic", dg.String())
	}
	configs, err := PackConfigs(compiled.Packs, env.PackConfig)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(cfg)
	if os.Getenv(EnvCreateTable) == "true" {
		var inUse *dynamodbtypes.ResourceInUseException
		if err := dynamo.CreateTable(ctx, ddb, env.Table); err != nil && !errors.As(err, &inUse) {
			return nil, fmt.Errorf("%s: %w", EnvCreateTable, err)
		}
	}
	db := dynamo.New(ddb, env.Table, store.Options{Cipher: cipher})
	d := &Deps{
		Store:   db,
		Content: compiled,
		Events:  eventbridge.New(awseventbridge.NewFromConfig(cfg), env.EventBus, db, eventbridge.Options{}),
		SFN:     sfn.NewFromConfig(cfg),
		Name:    env.Name,
		Region:  cfg.Region,
		Account: env.Account,
		Configs: configs,
		APIURL:  env.APIURL,
		Log:     log,
	}
	return d, nil
}

// LoadContent loads the packs of dirs (the core pack among them) and
// compiles them. As in the embedded engine, what loaded runs and the
// diagnostics say what did not (the CDK app refuses to synthesize packs
// with diagnostics, so a deployed stack has none). The error is for
// directories that cannot be read.
func LoadContent(dirs []string) (*content.Compiled, pack.Diagnostics, error) {
	set, diags, err := pack.LoadDirs(dirs...)
	if err != nil {
		return nil, nil, fmt.Errorf("loading packs from %s: %w", strings.Join(dirs, ", "), err)
	}
	compiled, cdiags := content.Compile(set)
	return compiled, append(diags, cdiags...).Sort(), nil
}

// PackConfigs returns every pack's configuration (pack.Configs): the
// defaults of its config.schema.yaml, overridden by file ({pack: {key:
// value}}, YAML or JSON) when given.
func PackConfigs(set *pack.Set, file string) (map[string]map[string]any, error) {
	return pack.Configs(set, file)
}

func (d *Deps) init() {
	d.once.Do(func() {
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Log == nil {
			d.Log = NewLogger(os.Stdout)
		}
		if d.Runners == nil {
			d.Runners = runner.New(runner.Options{})
		}
		if d.Configs == nil {
			d.Configs = map[string]map[string]any{}
		}
		d.valid = &enforcer.Validator{Functions: d.functions()}
	})
}

// functions are $kv(), $secret() and $config() of templates.
func (d *Deps) functions() rule.Functions {
	return enforcer.DatastoreFunctions(d.Store, func(_ context.Context, packRef, key string) (any, error) {
		return d.Configs[packRef][key], nil
	})
}

// machines names the state machines; the account comes from the function's
// ARN when Account is empty.
func (d *Deps) machines(ctx context.Context) stepfunctions.Machines {
	d.accountMu.Lock()
	if d.Account == "" {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			if parts := strings.Split(lc.InvokedFunctionArn, ":"); len(parts) > 4 {
				d.Account = parts[4]
			}
		}
	}
	account := d.Account
	d.accountMu.Unlock()
	c := d.Content
	return stepfunctions.Machines{
		Prefix: d.Name, Region: d.Region, Account: account,
		IsWorkflow: c.HasMachine,
	}
}

func (d *Deps) starter(ctx context.Context) *stepfunctions.Starter {
	return stepfunctions.NewStarter(d.SFN, d.Store, d.machines(ctx), d.Now)
}

// starterPort resolves the machines at each start (the account may be
// known only once the function is invoked).
type starterPort struct{ d *Deps }

func (s starterPort) Start(ctx context.Context, req enforcer.StartRequest) (store.Execution, error) {
	return s.d.starter(ctx).Start(ctx, req)
}

// requestID is the Lambda request id of the invocation ("" outside Lambda).
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
