package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/api/routes"
	"github.com/bwc-project/bwc/internal/aws/direct"
	"github.com/bwc-project/bwc/internal/aws/sfnddb"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/localcloud"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/clock"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
)

// Default addresses of the local cloud.
const (
	defaultAWSListen   = "127.0.0.1:4566"
	defaultAPIGWListen = "127.0.0.1:4567"
)

// awsFunctionNames are the functions --lambda may name (functions/<fn>).
var awsFunctionNames = []string{"webhook", "timer", "poller", "enforcer", "runner", "completion", "inquiry", "api"}

// awsOptions are the flags of `bwc serve --aws`.
type awsOptions struct {
	enabled          bool
	listen           string
	apigwListen      string
	lambdas          []string
	table            string // --table: the DynamoDB table of the direct rules
	dynamodbEndpoint string // --dynamodb-endpoint; default $AWS_ENDPOINT_URL_DYNAMODB
	functionURLs     map[string]string

	// pollers are the polling sensors handed off to the poller function
	// (set by serveAWS before the engine runs).
	pollers []*pack.Sensor
}

// check validates the flags; the error is a usage error (exit 2).
func (o *awsOptions) check() error {
	if !o.enabled {
		for _, f := range []struct {
			name string
			set  bool
		}{{"--lambda", len(o.lambdas) > 0}, {"--table", o.table != ""}, {"--dynamodb-endpoint", o.dynamodbEndpoint != ""}} {
			if f.set {
				return fmt.Errorf("%s needs --aws", f.name)
			}
		}
		return nil
	}
	if o.dynamodbEndpoint != "" {
		if o.table == "" {
			return errors.New("--dynamodb-endpoint needs --table")
		}
		if u, err := url.Parse(o.dynamodbEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--dynamodb-endpoint %s: expected an http:// URL of a DynamoDB endpoint (dynalite)", o.dynamodbEndpoint)
		}
	}
	o.functionURLs = map[string]string{}
	for _, l := range o.lambdas {
		name, raw, ok := strings.Cut(l, "=")
		if !ok || name == "" || raw == "" {
			return fmt.Errorf("--lambda %q: expected NAME=URL, e.g. runner=http://127.0.0.1:9002", l)
		}
		if !slices.Contains(awsFunctionNames, name) {
			return fmt.Errorf("--lambda %s: no such function; expected one of %s", name, strings.Join(awsFunctionNames, ", "))
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--lambda %s=%s: expected an http:// URL of aws-lambda-rie", name, raw)
		}
		if _, dup := o.functionURLs[name]; dup {
			return fmt.Errorf("--lambda %s: given twice", name)
		}
		o.functionURLs[name] = raw
	}
	return nil
}

// serveAWS runs the engine and, once it has recovered what an earlier
// process left (its API answers), the local cloud, until ctx ends; then it
// stops the local cloud first, so that no execution of the local cloud
// records the engine's shutdown as a task failure, then the engine.
func serveAWS(ctx context.Context, stdout io.Writer, eng *engine.Engine, o *awsOptions, dbPath string, logger *slog.Logger) error {
	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	// What a function given to --lambda does, the engine must not do too.
	if _, ok := o.functionURLs[localcloud.FnTimer]; ok {
		eng.HandOffTimers()
	}
	if _, ok := o.functionURLs[localcloud.FnPoller]; ok {
		o.pollers = eng.HandOffSensors()
	}
	runErr := make(chan error, 1)
	go func() { runErr <- eng.Run(engCtx) }()
	engineErr := func(err error) error {
		if err != nil {
			return fmt.Errorf("running the engine: %w", err)
		}
		return nil
	}
	if err := waitEngine(ctx, eng.URL, runErr); err != nil {
		stopEngine()
		if rerr := <-runErr; rerr != nil {
			return engineErr(rerr)
		}
		return err
	}
	lc, err := startLocalCloud(eng, o, dbPath, logger)
	if err != nil {
		stopEngine()
		return errors.Join(err, engineErr(<-runErr))
	}
	var b strings.Builder
	printBanner(&b, eng, dbPath)
	fmt.Fprint(stdout, strings.TrimSuffix(b.String(), "\nStop with Ctrl-C.\n"))
	printAWSBanner(stdout, lc)
	fmt.Fprintf(stdout, "\nStop with Ctrl-C.\n")
	select {
	case <-ctx.Done():
		lc.stop()
		stopEngine()
		return engineErr(<-runErr)
	case err := <-runErr:
		lc.stop()
		return engineErr(err)
	}
}

// waitEngine waits until the engine's API answers its health check: the
// engine serves its API only once it has recovered unfinished work, which
// the local cloud must not race (a task it re-invokes in-process would be
// taken for abandoned). runErr reports an engine that stopped instead.
func waitEngine(ctx context.Context, url string, runErr <-chan error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/health", nil)
		if err != nil {
			return fmt.Errorf("checking the engine's API: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-runErr:
			return fmt.Errorf("the engine stopped before it was ready: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the engine's API: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// localCloud is the running `bwc serve --aws` part: the AWS JSON protocol
// endpoint and the API Gateway front.
type localCloud struct {
	cloud        *localcloud.Cloud
	awsURL       string
	apigwURL     string
	servers      []*http.Server
	stopTimers   context.CancelFunc
	timersDone   sync.WaitGroup
	region, name string
	functions    map[string]string
	pollers      int
	// direct: the rules on the direct path and how they run.
	direct     []string
	directHow  string
	tableNotes string
}

// startLocalCloud builds the local cloud over an opened engine and starts
// serving it. Stop it with stop.
func startLocalCloud(eng *engine.Engine, o *awsOptions, dbPath string, logger *slog.Logger) (*localCloud, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = localcloud.DefaultRegion
	}
	name := os.Getenv("BWC_NAME")
	if name == "" {
		name = localcloud.DefaultName
	}
	machines, err := localMachines(eng.Content)
	if err != nil {
		return nil, err
	}
	fns := map[string]localcloud.Function{}
	for fn, u := range o.functionURLs {
		fns[fn] = &localcloud.RIE{URL: u}
	}
	cfg := localcloud.Config{
		Region:    region,
		Name:      name,
		Rules:     eng.Content.Rules.Rules,
		Machines:  machines,
		Functions: map[string]localcloud.Function{},
		Dir:       filepath.Join(filepath.Dir(dbPath), "localcloud"),
		Logger:    logger,
	}
	for _, fn := range []string{localcloud.FnEnforcer, localcloud.FnRunner, localcloud.FnCompletion} {
		if f := fns[fn]; f != nil {
			cfg.Functions[fn] = f
		}
	}
	directs, err := directRules(eng.Content)
	if err != nil {
		return nil, err
	}
	var directHow, tableNote string
	switch {
	case len(directs) == 0:
	case o.table == "":
		directHow = "through the enforcer (no --table: the direct machines need a DynamoDB table)"
	case fns[localcloud.FnEnforcer] == nil:
		directHow = "through the engine's in-process enforcer, as every rule (the direct machines run where the enforcer function takes the matches)"
	default:
		ddb, note, err := dynamoClient(region, o, logger)
		if err != nil {
			return nil, err
		}
		cfg.Direct, cfg.Table, cfg.DynamoDB, tableNote = directs, o.table, &sfnddb.Port{API: ddb}, note
		directHow = fmt.Sprintf("started as their direct machines, which record the enforcement in table %s", o.table)
	}
	if cfg.Functions[localcloud.FnRunner] == nil {
		cfg.Functions[localcloud.FnRunner] = eng.LocalRunner()
	}
	if cfg.Functions[localcloud.FnEnforcer] == nil {
		cfg.Events = eng.LocalEvents()
	}
	cloud, err := localcloud.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting the local cloud: %w", err)
	}
	lc := &localCloud{cloud: cloud, region: region, name: name, functions: o.functionURLs, pollers: len(o.pollers), directHow: directHow, tableNotes: tableNote}
	for ref := range directs {
		lc.direct = append(lc.direct, ref)
	}
	slices.Sort(lc.direct)
	engineURL, err := url.Parse(eng.URL)
	if err != nil {
		cloud.Close()
		return nil, fmt.Errorf("reading the engine's URL %s: %w", eng.URL, err)
	}
	gw := &localcloud.APIGateway{
		Functions:   map[string]localcloud.Function{},
		Fallback:    httputil.NewSingleHostReverseProxy(engineURL),
		WebhookURLs: append([]string{}, eng.Webhooks...),
		Logger:      logger,
	}
	for _, fn := range []string{routes.FunctionAPI, routes.FunctionWebhook, routes.FunctionInquiry} {
		if f := fns[fn]; f != nil {
			gw.Functions[fn] = f
		}
	}
	schedCtx, cancel := context.WithCancel(context.Background())
	lc.stopTimers = cancel
	if f := fns[localcloud.FnTimer]; f != nil {
		lc.timersDone.Go(func() {
			if err := localcloud.RunSchedules(schedCtx, eng.Content.Rules.Rules, f, clock.System(), logger); err != nil {
				logger.Error("the local schedules stopped", "err", err)
			}
		})
	}
	if f := fns[localcloud.FnPoller]; f != nil && len(o.pollers) > 0 {
		pollers := make([]localcloud.Poller, 0, len(o.pollers))
		for _, s := range o.pollers {
			pollers = append(pollers, localcloud.Poller{Pack: s.Pack, Sensor: s.Ref, Every: time.Duration(engine.PollInterval(s)) * time.Second})
		}
		lc.timersDone.Go(func() {
			if err := localcloud.RunPollers(schedCtx, pollers, f, clock.System(), logger); err != nil {
				logger.Error("the local polling schedules stopped", "err", err)
			}
		})
	}
	if f := fns[routes.FunctionInquiry]; f != nil {
		lc.timersDone.Go(func() {
			if err := localcloud.RunInquirySweep(schedCtx, f, clock.System(), logger); err != nil {
				logger.Error("the local inquiry-sweep schedule stopped", "err", err)
			}
		})
	}
	for _, l := range []struct {
		addr string
		h    http.Handler
		url  *string
	}{{o.listen, cloud, &lc.awsURL}, {o.apigwListen, gw, &lc.apigwURL}} {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			lc.stop()
			return nil, fmt.Errorf("listening on %s: %w", l.addr, err)
		}
		*l.url = "http://" + ln.Addr().String()
		srv := &http.Server{Handler: l.h, ReadHeaderTimeout: 10 * time.Second}
		lc.servers = append(lc.servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	return lc, nil
}

// stop shuts the servers down and stops the cloud.
func (lc *localCloud) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range lc.servers {
		_ = s.Shutdown(ctx)
	}
	if lc.stopTimers != nil {
		lc.stopTimers()
		lc.timersDone.Wait()
	}
	lc.cloud.Close()
}

// directRules are the rules the stack deploys on the direct path, by
// reference, with their paths and direct machines, as the stack builds
// them (the enforcement kept for the default retention).
func directRules(c *content.Compiled) (map[string]localcloud.DirectRule, error) {
	out := map[string]localcloud.DirectRule{}
	for _, r := range c.Rules.Rules {
		p, err := c.RulePath(r)
		if err != nil {
			return nil, err
		}
		if p.Path != content.PathDirect {
			continue
		}
		def, err := direct.Definition(r.Ref, p, store.DefaultRetention.Enforcements)
		if err != nil {
			return nil, err
		}
		out[r.Ref] = localcloud.DirectRule{Path: p, Definition: def}
	}
	return out, nil
}

// dynamoClient builds the DynamoDB client of --table: the endpoint of
// --dynamodb-endpoint, else the AWS SDK's own settings
// (AWS_ENDPOINT_URL_DYNAMODB, ...); any credentials (local ones when none
// are set). It checks that the table exists and creates it, with the
// stack's keys and indexes, when the endpoint has none (a fresh dynalite);
// note says so for the banner.
func dynamoClient(region string, o *awsOptions, logger *slog.Logger) (client *dynamodb.Client, note string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("--table %s: loading the AWS SDK's settings: %w", o.table, err)
	}
	client = dynamodb.NewFromConfig(cfg, func(d *dynamodb.Options) {
		if o.dynamodbEndpoint != "" {
			d.BaseEndpoint = aws.String(o.dynamodbEndpoint)
		}
	})
	where := o.dynamodbEndpoint
	if where == "" {
		where = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	if where == "" {
		where = "the AWS SDK's default DynamoDB endpoint (set --dynamodb-endpoint or AWS_ENDPOINT_URL_DYNAMODB for dynalite)"
	}
	_, err = client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(o.table)})
	var missing *ddbtypes.ResourceNotFoundException
	switch {
	case err == nil:
		return client, "table " + o.table + " at " + where, nil
	case errors.As(err, &missing):
		if err := dynamo.CreateTable(ctx, client, o.table); err != nil {
			return nil, "", fmt.Errorf("--table %s: creating the table at %s: %w", o.table, where, err)
		}
		logger.Info("created the DynamoDB table of the direct rules", "table", o.table, "endpoint", where)
		return client, "table " + o.table + " at " + where + " (created)", nil
	default:
		return nil, "", fmt.Errorf("--table %s: reading the table at %s: %w", o.table, where, err)
	}
}

// localMachines are the state machines of the local cloud, those the stack
// deploys: every compiled workflow, every enabled hand-written ASL action
// (content.Compiled.HandWritten), and the action machine.
func localMachines(c *content.Compiled) (map[string][]byte, error) {
	out := map[string][]byte{content.ActionMachineRef: content.ActionMachineDefinition()}
	for ref, m := range c.Machines {
		def, err := m.JSON()
		if err != nil {
			return nil, fmt.Errorf("encoding the state machine of %s: %w", ref, err)
		}
		out[ref] = def
	}
	for _, a := range c.HandWritten() {
		def, err := os.ReadFile(filepath.FromSlash(a.EntryPointPath))
		if err != nil {
			return nil, fmt.Errorf("reading the state machine of %s: %w", a.Ref, err)
		}
		out[a.Ref] = def
	}
	return out, nil
}

// printAWSBanner prints the local cloud's endpoints and how to use them.
func printAWSBanner(w io.Writer, lc *localCloud) {
	fmt.Fprintf(w, "\nLocal cloud (AWS JSON protocol, any credentials; see docs/local-cloud.md):\n\n")
	fmt.Fprintf(w, "  EventBridge, Step Functions: %s   (bus %q, region %s, account %s)\n", lc.awsURL, lc.cloud.EventBusName(), lc.region, localcloud.Account)
	fmt.Fprintf(w, "  API Gateway HTTP API:        %s\n", lc.apigwURL)
	fmt.Fprintf(w, "  state machines:              %d (%s ...)\n", len(lc.cloud.MachineARNs()), lc.cloud.MachineARN(content.ActionMachineRef))
	for _, fn := range awsFunctionNames {
		u, given := lc.functions[fn]
		var where string
		switch {
		case given && fn == "poller":
			where = fmt.Sprintf("%s (a schedule per polling sensor: %d; the engine does not run them)", u, lc.pollers)
		case fn == "poller":
			where = "in-process (the engine runs the polling sensors)"
		case given && fn == "timer":
			where = u + " (a schedule per timer rule; the engine's own timers do not fire)"
		case given && fn == "inquiry":
			where = u + " (and its sweep every minute, which times out inquiries past their ttl)"
		case given:
			where = u
		case fn == "completion":
			where = "none (status changes are not sent)"
		case fn == "timer":
			where = "in-process (the engine's timers)"
		default:
			where = "in-process"
		}
		fmt.Fprintf(w, "  function %-11s          %s\n", fn+":", where)
	}
	if len(lc.direct) > 0 {
		fmt.Fprintf(w, "  direct rules:                %s\n", strings.Join(lc.direct, ", "))
		fmt.Fprintf(w, "                               %s\n", lc.directHow)
		if lc.tableNotes != "" {
			fmt.Fprintf(w, "                               %s\n", lc.tableNotes)
		}
	}
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=%s\n", lc.region)
	fmt.Fprintf(w, "  aws --endpoint-url %s stepfunctions list-state-machines\n", lc.awsURL)
	fmt.Fprintf(w, "  aws --endpoint-url %s events put-events --entries '[{\"EventBusName\": \"%s\", \"Source\": \"bwc.core\", \"DetailType\": \"core.webhook\", \"Detail\": \"{\\\"trigger\\\": \\\"core.webhook\\\", \\\"payload\\\": {}}\"}]'\n", lc.awsURL, lc.cloud.EventBusName())
	fmt.Fprintf(w, "  AWS_ENDPOINT_URL_EVENTBRIDGE=%s AWS_ENDPOINT_URL_SFN=%s <a function's bootstrap under aws-lambda-rie>\n", lc.awsURL, lc.awsURL)
}
