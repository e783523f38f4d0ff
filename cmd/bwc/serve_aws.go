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
	"time"

	"github.com/bwc-project/bwc/internal/api/routes"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/localcloud"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/clock"
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
	enabled      bool
	listen       string
	apigwListen  string
	lambdas      []string
	functionURLs map[string]string
}

// check validates the flags; the error is a usage error (exit 2).
func (o *awsOptions) check() error {
	if !o.enabled {
		if len(o.lambdas) > 0 {
			return errors.New("--lambda needs --aws")
		}
		return nil
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
	timersDone   chan struct{}
	region, name string
	functions    map[string]string
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
	machines, err := localMachines(eng.Content, eng.Packs)
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
	lc := &localCloud{cloud: cloud, region: region, name: name, functions: o.functionURLs}
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
	if f := fns[localcloud.FnTimer]; f != nil {
		ctx, cancel := context.WithCancel(context.Background())
		lc.stopTimers, lc.timersDone = cancel, make(chan struct{})
		go func() {
			defer close(lc.timersDone)
			if err := localcloud.RunSchedules(ctx, eng.Content.Rules.Rules, f, clock.System(), logger); err != nil {
				logger.Error("the local schedules stopped", "err", err)
			}
		}()
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
		<-lc.timersDone
	}
	lc.cloud.Close()
}

// localMachines are the state machines of the local cloud: every compiled
// workflow, every hand-written ASL action, and the action machine.
func localMachines(c *content.Compiled, set *pack.Set) (map[string][]byte, error) {
	out := map[string][]byte{content.ActionMachineRef: content.ActionMachineDefinition()}
	for ref, m := range c.Machines {
		def, err := m.JSON()
		if err != nil {
			return nil, fmt.Errorf("encoding the state machine of %s: %w", ref, err)
		}
		out[ref] = def
	}
	for _, a := range set.Actions() {
		if a.RunnerType != pack.RunnerASL || a.EntryPointPath == "" {
			continue
		}
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
		case fn == "poller":
			where = "not invoked (no polling schedules yet)"
		case given && fn == "timer":
			where = u + " (a schedule per timer rule; the engine's own timers fire too)"
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
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=%s\n", lc.region)
	fmt.Fprintf(w, "  aws --endpoint-url %s stepfunctions list-state-machines\n", lc.awsURL)
	fmt.Fprintf(w, "  aws --endpoint-url %s events put-events --entries '[{\"EventBusName\": \"%s\", \"Source\": \"bwc.core\", \"DetailType\": \"core.webhook\", \"Detail\": \"{\\\"trigger\\\": \\\"core.webhook\\\", \\\"payload\\\": {}}\"}]'\n", lc.awsURL, lc.cloud.EventBusName())
	fmt.Fprintf(w, "  AWS_ENDPOINT_URL_EVENTBRIDGE=%s AWS_ENDPOINT_URL_SFN=%s <a function's bootstrap under aws-lambda-rie>\n", lc.awsURL, lc.awsURL)
}
