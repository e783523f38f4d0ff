package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

func newServeCmd() *cobra.Command {
	var packDirs []string
	var dbPath, listen, corePack, logLevel, packConfig, cpuProfile, webhookSecrets string
	var aws awsOptions
	cmd := &cobra.Command{
		Use:   "serve [--packs DIR]... [--db PATH] [--listen ADDR] [--aws [--aws-listen ADDR] [--apigw-listen ADDR] [--lambda NAME=URL]... [--table NAME [--dynamodb-endpoint URL]]]",
		Short: "Run the embedded engine: packs, event bus, timers, webhooks and the API",
		Long: `Run BWC's embedded engine in this process: it loads and compiles the packs,
opens the SQLite store, starts the event bus, the enforcer, the executor, the
timers and the HTTP API, and serves until interrupted (SIGINT or SIGTERM).

Work left unfinished by an earlier process is recovered at start: executions
not started yet are started, workflows resume from their last checkpoint,
pending inquiries wait again, other executions that were running are marked
abandoned with the reason, and trigger instances recorded but not processed
are enforced (once: enforcement is idempotent). Custom Go sensors of the
packs are built and run as child processes. See docs/engine.md.

On first start an admin API key is written, mode 0600, to the file "api-key"
beside the database. The CLI reads it from there (or from BWC_API_KEY), and
every API call and webhook needs it in the X-BWC-Api-Key header.

Flags:
  --packs DIR     a directory of packs, or one pack; repeatable (default
                  "packs"). The core pack is always loaded: from a "core"
                  pack in these directories, else --core-pack, else
                  $BWC_CORE_PACK, else packs/core beside the bwc binary's
                  directory or in the working directory.
  --core-pack DIR the core pack's directory (see --packs).
  --db PATH       the SQLite database (default .bwc/bwc.db); created if absent.
  --listen ADDR   the API's address (default 127.0.0.1:9101); port 0 picks a
                  free port.
  --config FILE   pack configuration values, a YAML file {pack: {key: value}},
                  read by $config(); unset keys take the defaults of each
                  pack's config.schema.yaml.
  --webhook-secrets FILE
                  webhooks that authenticate by signature instead of the API
                  key: a YAML file {<url>: {scheme: github | standard-webhooks,
                  secret: S | secret_env: VAR}}. A request to such a webhook
                  without a valid signature gets 401 (409 for a replayed
                  Standard Webhooks id) and is not recorded.
  --log-level L   debug, info, warn or error (default info); logs go to stderr.

The local cloud (docs/local-cloud.md) — the AWS path on one machine:
  --aws           also answer, on loopback, the AWS JSON protocol calls of
                  BWC's Lambda functions: EventBridge PutEvents (matched
                  against the rules' compiled patterns) and Step Functions
                  StartExecution, DescribeExecution, StopExecution,
                  GetExecutionHistory, ListExecutions, SendTaskSuccess,
                  SendTaskFailure, SendTaskHeartbeat (the workflows, ASL
                  actions and the action machine, run on BWC's ASL
                  interpreter), and serve an API Gateway HTTP API front
                  (payload format 2.0). Any credentials are accepted. The
                  region is $AWS_REGION (default us-east-1), the name
                  prefix $BWC_NAME (default bwc): the bus is "bwc", the
                  state machines bwc-<ref>, account 000000000000.
                  Executions are kept in "localcloud" beside the database
                  and resume after a restart.
  --aws-listen ADDR
                  the AWS endpoint's address (default 127.0.0.1:4566).
  --apigw-listen ADDR
                  the API Gateway front's address (default 127.0.0.1:4567).
  --lambda NAME=URL
                  the function NAME (webhook, timer, poller, enforcer,
                  runner, completion, inquiry, api) is hosted by
                  aws-lambda-rie at URL (invoked with POST
                  URL/2015-03-31/functions/function/invocations);
                  repeatable. enforcer receives the rule matches of the
                  BWC bus, runner the state machines' lambda:invoke
                  tasks, completion every execution's end (a "Step
                  Functions Execution Status Change" event), webhook, api
                  and inquiry the API Gateway front's routes. A function
                  not given is the engine's in-process handler: events go
                  to the engine's bus, tasks run as engine executions,
                  routes go to the engine's API; no completion is sent.
                  timer is invoked by a schedule per timer rule, poller
                  by one per Go polling sensor with {"pack", "sensor", "scheduled_time"} at
                  its poll interval, as EventBridge Scheduler does; the
                  engine then fires no timer / runs no polling sensor.
                  inquiry is also invoked every minute with {"sweep":
                  true}, as the stack's schedule does: it times out the
                  inquiries past their ttl.
  --table NAME    the DynamoDB table (BWC_TABLE) in which the rules the
                  stack deploys direct (bwc rule explain) record their
                  enforcements: with --lambda enforcer, their matches
                  start their direct state machines, as on AWS, instead
                  of the enforcer. Created when the endpoint lacks it.
  --dynamodb-endpoint URL
                  the DynamoDB endpoint of --table (dynalite), default
                  $AWS_ENDPOINT_URL_DYNAMODB.

Output: on stdout, once the engine is ready, the API URL, the API key file,
the packs, rules, timers and webhooks loaded, and example commands (with
--aws, then the local cloud's endpoints, where each function runs and aws
CLI examples); then nothing until shutdown. Problems found in the packs
are listed on stderr; the engine runs with what loaded.

Exit codes: 0 after a clean shutdown; 1 when the engine cannot start (the
store cannot be opened, the address is in use, the --table cannot be read
or created) or stops on an error; 2 bad flags (a --lambda that is not
NAME=URL or names no function; --lambda, --table or --dynamodb-endpoint
without --aws; --dynamodb-endpoint without --table) or a packs directory
that cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: --log-level %q: expected debug, info, warn or error", logLevel)}
			}
			if len(packDirs) == 0 {
				packDirs = []string{defaultPacksDir}
			}
			for _, d := range packDirs {
				if st, err := os.Stat(d); err != nil || !st.IsDir() {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: --packs %s: not a readable directory", d)}
				}
			}
			if err := aws.check(); err != nil {
				return &exitError{code: 2, msg: "bwc: " + err.Error()}
			}
			dirs, err := withCorePack(packDirs, corePack)
			if err != nil {
				return &exitError{code: 2, msg: "bwc: " + err.Error()}
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: --cpuprofile: %v", err)}
				}
				defer func() { _ = f.Close() }()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("starting the CPU profile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			eng, err := engine.Open(ctx, engine.Config{
				PackDirs:       dirs,
				DBPath:         dbPath,
				Listen:         listen,
				PackConfig:     packConfig,
				WebhookSecrets: webhookSecrets,
				Version:        version,
				Logger:         logger,
			})
			if err != nil {
				return fmt.Errorf("starting the engine: %w", err)
			}
			for _, d := range eng.Diagnostics {
				fmt.Fprintf(cmd.ErrOrStderr(), "bwc: pack problem: %s\n", d)
			}
			if aws.enabled {
				return serveAWS(ctx, cmd.OutOrStdout(), eng, &aws, dbPath, logger)
			}
			printBanner(cmd.OutOrStdout(), eng, dbPath)
			if err := eng.Run(ctx); err != nil {
				return fmt.Errorf("running the engine: %w", err)
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
	})
	cmd.Flags().StringArrayVar(&packDirs, "packs", nil, "directory of packs (repeatable; default packs)")
	cmd.Flags().StringVar(&corePack, "core-pack", "", "directory of the core pack (default: found automatically)")
	cmd.Flags().StringVar(&dbPath, "db", sqlite.DefaultPath, "SQLite database file")
	cmd.Flags().StringVar(&listen, "listen", engine.DefaultListen, "address of the HTTP API")
	cmd.Flags().StringVar(&packConfig, "config", "", "pack configuration values: a YAML file {pack: {key: value}}")
	cmd.Flags().StringVar(&webhookSecrets, "webhook-secrets", "", "webhook signature schemes: a YAML file {url: {scheme, secret | secret_env}}")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file until shutdown")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().BoolVar(&aws.enabled, "aws", false, "also serve the local cloud: EventBridge, Step Functions, API Gateway (docs/local-cloud.md)")
	cmd.Flags().StringVar(&aws.listen, "aws-listen", defaultAWSListen, "address of the local cloud's AWS endpoint (with --aws)")
	cmd.Flags().StringVar(&aws.apigwListen, "apigw-listen", defaultAPIGWListen, "address of the local API Gateway front (with --aws)")
	cmd.Flags().StringArrayVar(&aws.lambdas, "lambda", nil, "NAME=URL: function NAME hosted by aws-lambda-rie at URL (with --aws; repeatable)")
	cmd.Flags().StringVar(&aws.table, "table", "", "DynamoDB table of the direct rules' enforcements (with --aws)")
	cmd.Flags().StringVar(&aws.dynamodbEndpoint, "dynamodb-endpoint", "", "DynamoDB endpoint URL of --table (default $AWS_ENDPOINT_URL_DYNAMODB)")
	return cmd
}

// withCorePack returns dirs with the core pack added when none of them
// holds it.
func withCorePack(dirs []string, explicit string) ([]string, error) {
	for _, d := range dirs {
		if isPack(d, "core") || isPack(filepath.Join(d, "core"), "core") {
			return dirs, nil
		}
	}
	var candidates []string
	if explicit != "" {
		candidates = append(candidates, explicit)
	} else {
		if env := os.Getenv("BWC_CORE_PACK"); env != "" {
			candidates = append(candidates, env)
		}
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(filepath.Dir(exe)), "packs", "core"))
		}
		candidates = append(candidates, filepath.Join("packs", "core"))
	}
	for _, c := range candidates {
		if isPack(c, "core") {
			return append(append([]string(nil), dirs...), c), nil
		}
	}
	return nil, fmt.Errorf("the core pack was not found (looked in %s); pass --core-pack DIR", strings.Join(candidates, ", "))
}

// isPack reports whether dir holds a pack.yaml whose ref or name is ref
// (or, lacking both, whose directory is named ref).
func isPack(dir, ref string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "pack.yaml"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "ref" || k == "name") && strings.Trim(strings.TrimSpace(v), `"'`) == ref {
			return true
		}
	}
	return filepath.Base(filepath.Clean(dir)) == ref
}

func printBanner(w io.Writer, eng *engine.Engine, dbPath string) {
	rules, enabled := 0, 0
	for _, r := range eng.Content.Rules.Rules {
		rules++
		if r.Enabled {
			enabled++
		}
	}
	keyNote := ""
	if eng.NewAPIKey {
		keyNote = " (created now)"
	}
	fmt.Fprintf(w, "BWC is running.\n\n")
	fmt.Fprintf(w, "  API:       %s\n", eng.URL)
	fmt.Fprintf(w, "  API key:   %s%s\n", eng.APIKeyFile, keyNote)
	fmt.Fprintf(w, "  database:  %s\n", dbPath)
	fmt.Fprintf(w, "  packs:     %d (%s, %s of which %d enabled, %s)\n",
		len(eng.Packs.Packs), plural(len(eng.Packs.Actions()), "action"), plural(rules, "rule"), enabled, plural(len(eng.Content.Machines), "workflow"))
	fmt.Fprintf(w, "  timers:    %d\n", eng.Timers)
	if len(eng.Sensors) > 0 {
		fmt.Fprintf(w, "  sensors:   %s\n", strings.Join(eng.Sensors, ", "))
	}
	for i, hook := range eng.Webhooks {
		label := "           "
		if i == 0 {
			label = "  webhooks: "
		}
		fmt.Fprintf(w, "%s%s/api/v1/webhooks/%s\n", label, eng.URL, hook)
	}
	if n := len(eng.Diagnostics); n > 0 {
		fmt.Fprintf(w, "  problems:  %d in the packs (listed on stderr; bwc pack validate shows them)\n", n)
	}
	hook := "monitoring/alert" // the example pack's alert webhook
	if len(eng.Webhooks) > 0 && !slices.Contains(eng.Webhooks, hook) {
		hook = eng.Webhooks[0]
	}
	env := ""
	if eng.URL != "http://"+engine.DefaultListen {
		env = "BWC_API_URL=" + eng.URL + " "
	}
	if filepath.Clean(eng.APIKeyFile) != filepath.Clean(defaultAPIKeyFile) {
		env += "BWC_API_KEY=$(cat " + eng.APIKeyFile + ") "
	}
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  %sbin/bwc run core.local cmd='echo hello'\n", env)
	fmt.Fprintf(w, "  %sbin/bwc execution list\n", env)
	fmt.Fprintf(w, "  curl -s -X POST -H \"X-BWC-Api-Key: $(cat %s)\" -H 'Content-Type: application/json' \\\n", eng.APIKeyFile)
	fmt.Fprintf(w, "       -d '{\"status\": \"firing\", \"labels\": {\"alertname\": \"DiskFull\", \"severity\": \"warning\", \"instance\": \"localhost\", \"mountpoint\": \"/\"}, \"annotations\": {\"threshold\": \"90\"}}' \\\n")
	fmt.Fprintf(w, "       %s/api/v1/webhooks/%s\n", eng.URL, hook)
	fmt.Fprintf(w, "  curl -s -H \"X-BWC-Api-Key: $(cat %s)\" %s/api/v1/executions\n", eng.APIKeyFile, eng.URL)
	fmt.Fprintf(w, "\nStop with Ctrl-C.\n")
	if f, ok := w.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
}

// plural writes a count with its noun: "1 workflow", "2 workflows".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
