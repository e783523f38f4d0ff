package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/cost"
)

func newCostCmd() *cobra.Command {
	var (
		dirs      []string
		asJSON    bool
		durations []string
	)
	a := cost.DefaultAssumptions()
	cmd := &cobra.Command{
		Use:   "cost [--packs DIR]... [--triggers N] [--duration FN=MS]... [--json]",
		Short: "Estimate what the AWS stack of the packs costs per million triggers",
		Long: `Estimate, at AWS list prices (us-east-1, as of ` + cost.PricesAsOf + `, from the pricing
pages named in the output), what the stack that the CDK app synthesizes from the
packs costs: for every rule, N triggers (default a million) followed through
the resources the stack declares for it, and the stack's fixed monthly costs.

For each rule it counts: HTTP API requests (webhooks, and pack triggers
posted to /api/v1/webhooks/st2) or EventBridge Scheduler invocations (timers);
EventBridge PutEvents (one event per started 64 KB; deliveries to Lambda and
Step Functions targets are free); Lambda invocations of the webhook, timer,
enforcer, runner, completion and inquiry functions with their memory and an
assumed duration; Step Functions standard state transitions along the path a
typical run takes through the rule's state machine (read from the compiled
ASL: every task succeeds and every Choice takes its first rule, so it is an
estimate), and for a rule on the direct path its Express wrapper machine
(one request and its duration, per started 100 ms and 64 MB); DynamoDB
on-demand request units of the records written (trigger instance,
enforcement, execution and its status updates, output, inquiries; counted
from the DynamoDB adapter); CloudWatch Logs ingestion; X-Ray traces.
Whether a rule goes through the enforcer or straight to Step Functions is the
decision "bwc rule explain" shows. Fixed monthly: the KMS key, and the polls
of every polling sensor. Free tiers, storage and data transfer are not counted.

Flags:
  --packs DIR            a directory of packs (repeatable; default "packs").
  --triggers N           triggers of each rule to price (default 1000000).
  --duration FN=MS       billed milliseconds per invocation of function FN
                         (repeatable; webhook, timer, poller, enforcer, runner,
                         completion, inquiry; defaults webhook 30, timer 30,
                         poller 500, enforcer 50, runner 200, completion 50,
                         inquiry 30).
  --memory MB            the functions' memory (default 512, as the stack).
  --direct-duration MS   how long a direct rule's Express machine runs
                         (default 80; billed per started 100 ms at 64 MB).
  --event-bytes N        the size of a trigger event (default 1024).
  --log-bytes N          bytes logged per Lambda invocation (default 1024).
  --json                 print the estimate as JSON (per rule: usage per
                         trigger, cost by service; assumptions and prices).

Output: a table of USD per rule by service and the total for every rule,
the fixed monthly costs, what one trigger of each rule uses, the
assumptions and the prices with their source pages.

Exit codes: 0 printed; 1 the packs cannot be estimated (a state machine that
cannot be read); 2 bad flags or packs that cannot be loaded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, d := range durations {
				fn, ms, ok := strings.Cut(d, "=")
				v, err := strconv.ParseFloat(ms, 64)
				if !ok || err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc cost: --duration %q: expected FN=MS, e.g. runner=1500", d)}
				}
				a.DurationMS[fn] = v
			}
			if err := a.Check(); err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc cost: %v", err)}
			}
			c, err := loadCompiled(cmd, dirs)
			if err != nil {
				return err
			}
			rep, err := cost.Estimate(c, a, cost.ListPrices())
			if errors.Is(err, cost.ErrAssumption) {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc cost: %v", err)}
			}
			if err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("bwc cost: %v", err)}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			return rep.WriteTable(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&dirs, "packs", nil, "a directory of packs (repeatable; default packs)")
	f.Float64Var(&a.Triggers, "triggers", a.Triggers, "triggers of each rule to price")
	f.StringArrayVar(&durations, "duration", nil, "billed milliseconds per invocation, FN=MS (repeatable)")
	f.Float64Var(&a.MemoryMB, "memory", a.MemoryMB, "the functions' memory in MB")
	f.Float64Var(&a.DirectDurationMS, "direct-duration", a.DirectDurationMS, "milliseconds a direct rule's Express machine runs")
	f.Float64Var(&a.EventBytes, "event-bytes", a.EventBytes, "the size of a trigger event in bytes")
	f.Float64Var(&a.LambdaLogBytes, "log-bytes", a.LambdaLogBytes, "bytes logged per Lambda invocation")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
