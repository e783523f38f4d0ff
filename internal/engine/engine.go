package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/sensor/clock"
	"github.com/bwc-project/bwc/internal/sensor/polling"
	"github.com/bwc-project/bwc/internal/sensor/timer"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/secret"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

// DefaultListen is the address the API listens on by default.
const DefaultListen = "127.0.0.1:9101"

// APIKeyFileName is the name of the file, beside the database, that holds
// the admin API key written on first start.
const APIKeyFileName = "api-key"

// Config configures an engine.
type Config struct {
	// PackDirs are the directories of packs to load (each a directory of
	// packs or one pack); the caller includes the core pack.
	PackDirs []string
	// DBPath is the SQLite file; default sqlite.DefaultPath.
	DBPath string
	// Listen is the API's address; default DefaultListen. Port 0 picks a
	// free port (see Engine.URL).
	Listen string
	// Version is reported by /api/v1/health.
	Version string
	// MaxRunning caps the executions running at once (default 64).
	MaxRunning int
	// PackConfig is a YAML or JSON file {pack: {key: value}} of pack
	// configuration values ($config()); unset keys take the defaults of
	// the packs' config.schema.yaml.
	PackConfig string
	// WebhookSecrets is a YAML file {<url>: {scheme, secret | secret_env}}:
	// webhooks listed there need a valid signature (GitHub's
	// X-Hub-Signature-256 or Standard Webhooks) instead of the API key.
	WebhookSecrets string
	// Logger; default a text logger on stderr.
	Logger *slog.Logger
}

// Engine is the embedded engine: the packs, the store, the bus, the
// enforcer, the executor, the timers and the API server of one process.
type Engine struct {
	cfg Config
	log *slog.Logger

	// Packs and Content are what was loaded and compiled; Diagnostics are
	// the problems found (the engine runs with what loaded).
	Packs       *pack.Set
	Content     *content.Compiled
	Diagnostics pack.Diagnostics

	// Store is the open store.
	Store store.Store

	// URL is the API's base URL once the listener is bound.
	URL string
	// APIKeyFile is where the admin API key is; NewAPIKey says whether
	// this start created it.
	APIKeyFile string
	NewAPIKey  bool
	// Timers and Webhooks count what the rules listen to; Sensors are the
	// custom sensors run as child processes.
	Timers   int
	Webhooks []string
	Sensors  []string

	bus       *bus.Bus
	enforcer  *enforcer.Enforcer
	executor  *Executor
	inquirer  *inquirer
	workflows *workflowRunner
	sensors   *sensorRunner
	sched     *timer.Scheduler
	timers    map[string]rule.Trigger // by scheduler entry id; read-only after Open
	server    *http.Server
	ln        net.Listener

	root     context.Context
	stopRoot context.CancelFunc
}

// Open loads and compiles the packs, opens the store, builds the bus,
// enforcer, executor and timers, makes sure an admin API key exists and
// binds the API's listener. Nothing runs until Run.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.DBPath == "" {
		cfg.DBPath = sqlite.DefaultPath
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, timers: map[string]rule.Trigger{}}
	set, diags, err := pack.LoadDirs(cfg.PackDirs...)
	if err != nil {
		return nil, fmt.Errorf("loading packs: %w", err)
	}
	compiled, cdiags := content.Compile(set)
	e.Packs, e.Content, e.Diagnostics = set, compiled, append(diags, cdiags...).Sort()

	configs, err := loadPackConfigs(set, cfg.PackConfig)
	if err != nil {
		return nil, err
	}
	cipher, err := secretCipher(filepath.Join(filepath.Dir(cfg.DBPath), SecretKeyFileName))
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg.DBPath, store.Options{Cipher: cipher})
	if err != nil {
		return nil, err
	}
	st := db // writes are group-committed by the store itself
	e.Store = st
	fns := enforcer.DatastoreFunctions(st, configs.value)
	ok := false
	defer func() {
		if !ok {
			_ = st.Close()
		}
	}()
	if err := e.ensureAPIKey(ctx); err != nil {
		return nil, err
	}

	e.root, e.stopRoot = context.WithCancel(context.WithoutCancel(ctx))
	e.bus = bus.New(st, bus.TargetFunc(func(ctx context.Context, ruleRef string, env rule.Envelope) error {
		_, err := e.enforcer.Enforce(ctx, ruleRef, env)
		return err
	}), bus.Options{Logger: e.log})
	if err := e.bus.SetRules(compiled.Rules.Rules); err != nil {
		return nil, err
	}
	valid := &enforcer.Validator{Functions: fns}
	runners := runner.New(runner.Options{})
	e.executor = NewExecutor(e.root, st, runners, e.bus, set, valid, ExecutorOptions{
		MaxRunning: cfg.MaxRunning,
		Logger:     e.log,
	})
	pols, perrs := loadPolicies(set)
	for _, err := range perrs {
		e.log.Warn("policy not applied", "err", err)
	}
	e.executor.policies = pols
	e.executor.triggerTypes = set.TriggerType
	var aslActions []*pack.Action
	for _, a := range set.Actions() {
		if a.RunnerType == pack.RunnerASL && a.EntryPointPath != "" {
			aslActions = append(aslActions, a)
		}
	}
	wf, err := newWorkflowRunner(e.executor, compiled.Machines, aslActions, st)
	e.workflows = wf
	if err != nil {
		// The workflows that parsed run; the others fail when started.
		e.log.Error("some workflows cannot run", "err", err)
	}
	runners.Register(pack.RunnerWorkflow, wf)
	runners.Register(pack.RunnerASL, wf)
	e.inquirer = newInquirer(st, e.bus)
	e.inquirer.stopping = func() bool { return e.root.Err() != nil }
	runners.Register(pack.RunnerInquirer, e.inquirer)
	e.enforcer, err = enforcer.New(compiled.Rules.Rules, set, st, e.executor, valid, enforcer.Options{
		Functions: fns,
	})
	if err != nil {
		return nil, err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	e.sensors = &sensorRunner{
		sensors: goSensors(set), set: set, configs: configs, pub: e.bus, log: e.log,
		cacheDir: filepath.Join(cache, "bwc", "sensors"), restart: 5 * time.Second, check: polling.NewChecker(set),
	}
	for _, s := range e.sensors.sensors {
		e.Sensors = append(e.Sensors, s.Ref)
	}
	e.sched = timer.NewScheduler(clock.System(), e.fireTimer)
	if err := e.addTimers(); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	e.ln = ln
	e.URL = "http://" + ln.Addr().String()
	e.executor.opts.APIURL = e.URL
	verifiers, err := webhookVerifiers(cfg.WebhookSecrets, compiled.Rules.Rules, datastoreSecrets{st})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	catalog := newCatalog(set, compiled.Rules.Rules)
	catalog.verifiers = verifiers
	e.Webhooks = catalog.urls()
	srv := api.New(e.bus, apiRunner{e.executor}, e.inquirer, st, catalog, api.Options{Version: cfg.Version, Logger: e.log})
	e.server = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ok = true
	return e, nil
}

// Run recovers what an earlier process left unfinished, then runs the bus,
// the timers and the API until ctx ends; then it stops in order (API,
// timers, bus, running actions) and closes the store.
func (e *Engine) Run(ctx context.Context) (err error) {
	defer func() {
		if cerr := e.Store.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	e.bus.Start(e.root)
	if err := e.recover(ctx); err != nil {
		e.log.Error("recovering unfinished work", "err", err)
	}
	schedCtx, stopSched := context.WithCancel(e.root)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := e.sched.Run(schedCtx); err != nil && !errors.Is(err, context.Canceled) {
			e.log.Error("timer scheduler stopped", "err", err)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.sensors.run(schedCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Records past their retention are deleted hourly.
		_ = store.RunPurge(schedCtx, e.Store, time.Hour, func(n int, err error) {
			if err != nil {
				e.log.Error("purging expired records", "err", err)
			} else if n > 0 {
				e.log.Info("purged expired records", "count", n)
			}
		})
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- e.server.Serve(e.ln) }()

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serving the API: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.server.Shutdown(shutCtx)
	stopSched()
	wg.Wait()
	e.bus.Close()
	e.stopRoot()
	e.executor.Wait()
	return err
}

// Close releases an engine that was opened but not run.
func (e *Engine) Close() error {
	if e.ln != nil {
		_ = e.ln.Close()
	}
	if e.stopRoot != nil {
		e.stopRoot()
	}
	return e.Store.Close()
}

// Bus returns the engine's event bus (for tests and in-process senders).
func (e *Engine) Bus() *bus.Bus { return e.bus }

// Executor returns the engine's executor.
func (e *Engine) Executor() *Executor { return e.executor }

// ensureAPIKey makes sure the key in the api-key file beside the database
// exists in the store, creating both on first start.
func (e *Engine) ensureAPIKey(ctx context.Context) error {
	e.APIKeyFile = filepath.Join(filepath.Dir(e.cfg.DBPath), APIKeyFileName)
	key := ""
	if b, err := os.ReadFile(e.APIKeyFile); err == nil {
		key = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading the API key file %s: %w", e.APIKeyFile, err)
	}
	if key == "" {
		key = "bwc_" + randomID() + randomID()
		if err := os.WriteFile(e.APIKeyFile, []byte(key+"\n"), 0o600); err != nil {
			return fmt.Errorf("writing the API key file %s: %w", e.APIKeyFile, err)
		}
		e.NewAPIKey = true
	}
	hash := store.HashAPIKey(key)
	if _, err := e.Store.APIKeyByHash(ctx, hash); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("checking the admin API key: %w", err)
	}
	_, err := e.Store.CreateAPIKey(ctx, store.APIKey{ID: "admin-" + hash[:12], KeyHash: hash, User: "admin", Role: "admin", Enabled: true})
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("storing the admin API key: %w", err)
	}
	return nil
}

// SecretKeyFileName is the file, beside the database, holding the key that
// encrypts secrets in the datastore (created on first start, mode 0600).
const SecretKeyFileName = "secret-key"

// secretCipher loads the datastore's key, creating it on first start.
func secretCipher(path string) (*secret.AESGCM, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := secret.CreateKeyFile(path); err != nil {
			return nil, fmt.Errorf("creating the secrets key %s: %w", path, err)
		}
	}
	c, err := secret.LoadKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading the secrets key %s: %w", path, err)
	}
	return c, nil
}

// addTimers schedules one timer per distinct (timer type, parameters) that
// an enabled rule listens to.
func (e *Engine) addTimers() error {
	seen := map[string]bool{}
	for _, r := range e.Content.Rules.Rules {
		if !r.Enabled || !timer.IsTimer(r.Trigger.Type) {
			continue
		}
		id, err := timerID(r.Trigger)
		if err != nil {
			return err
		}
		if seen[id] {
			continue
		}
		sched, err := timer.Parse(r.Trigger.Type, r.Trigger.Parameters)
		if err != nil {
			e.log.Warn("rule timer not scheduled", "rule", r.Ref, "err", err)
			continue
		}
		e.timers[id] = r.Trigger
		if _, err := e.sched.Add(id, sched, timer.TimerPayload(r.Trigger.Parameters)); err != nil {
			if errors.Is(err, timer.ErrNoNextFire) {
				continue
			}
			return fmt.Errorf("scheduling the timer of rule %s: %w", r.Ref, err)
		}
		seen[id] = true
		e.Timers++
	}
	return nil
}

func timerID(t rule.Trigger) (string, error) {
	b, err := json.Marshal(t.Parameters)
	if err != nil {
		return "", fmt.Errorf("encoding timer parameters: %w", err)
	}
	return t.Type + string(b), nil
}

// fireTimer puts one timer fire on the bus. The event id is the timer and
// its scheduled time, so a fire is recorded once.
func (e *Engine) fireTimer(ctx context.Context, ev timer.Event) {
	t := e.timers[ev.ID]
	out, err := e.bus.PutEvents(ctx, []bus.Entry{{
		ID:                "timer:" + ev.ID + "@" + ev.At.UTC().Format(time.RFC3339Nano),
		Trigger:           t.Type,
		TriggerParameters: t.Parameters,
		Payload:           ev.Payload,
		Time:              ev.At,
	}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	if err != nil {
		e.log.Error("putting a timer event on the bus", "timer", ev.ID, "err", err)
	}
}

// catalog answers the API's questions about the packs.
type catalog struct {
	set       *pack.Set
	webhooks  map[string]bool
	verifiers map[string]webhook.Verifier
}

func newCatalog(set *pack.Set, rules []*rule.Compiled) *catalog {
	c := &catalog{set: set, webhooks: map[string]bool{}}
	for _, r := range rules {
		if !r.Enabled || r.Trigger.Type != api.WebhookTrigger {
			continue
		}
		if u, ok := r.Trigger.Parameters["url"].(string); ok {
			c.webhooks[strings.Trim(u, "/")] = true
		}
	}
	return c
}

func (c *catalog) TriggerType(ref string) *pack.TriggerType { return c.set.TriggerType(ref) }

func (c *catalog) HasWebhook(url string) bool { return c.webhooks[url] }

func (c *catalog) Action(ref string) *pack.Action { return c.set.Action(ref) }

func (c *catalog) Verifier(url string) webhook.Verifier { return c.verifiers[url] }

func (c *catalog) urls() []string {
	out := make([]string, 0, len(c.webhooks))
	for u := range c.webhooks {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// apiRunner adapts the executor to the API's Runner port.
type apiRunner struct{ x *Executor }

func (a apiRunner) Run(ctx context.Context, req api.RunRequest, user string) (store.Execution, error) {
	return a.x.Run(ctx, RunRequest{Action: req.Action, Parameters: req.Parameters, User: user, TraceTag: req.TraceTag})
}

func (a apiRunner) ReRun(ctx context.Context, id string, req api.ReRunRequest, user string) (store.Execution, error) {
	if len(req.Tasks) > 0 {
		if len(req.Parameters) > 0 {
			return store.Execution{}, &enforcer.ParameterError{Action: "re-run of " + id, In: "/parameters",
				Problems: []enforcer.Problem{{Message: "a re-run from tasks starts with the original run's variables: parameters cannot be given with tasks"}}}
		}
		return a.x.ReRunTasks(ctx, id, req.Tasks, user)
	}
	return a.x.ReRun(ctx, id, req.Parameters, user)
}

func (a apiRunner) Pause(ctx context.Context, id string) (store.Execution, error) {
	return a.x.Pause(ctx, id)
}

func (a apiRunner) Resume(ctx context.Context, id string) (store.Execution, error) {
	return a.x.Resume(ctx, id)
}

func (a apiRunner) Cancel(ctx context.Context, id string) (store.Execution, error) {
	return a.x.Cancel(ctx, id)
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
