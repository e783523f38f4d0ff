package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/content"
)

// DirectRule is a rule on the direct AWS path.
type DirectRule struct {
	Path content.AWSPath
	// Definition is the ASL of its direct machine, with the substitutions
	// ${TableName} and ${StateMachineArn_<Path.Machine>} left in
	// (internal/aws/direct.Definition).
	Definition []byte
}

// tableNameParam is the direct machines' table substitution
// (internal/aws/direct.TableNameParam).
const tableNameParam = "TableName"

// directMachines adds the direct machine of every rule of Config.Direct to
// the machines the cloud parses, and notes the enabled ones, whose matches
// start them.
func (c *Cloud) directMachines() error {
	c.direct = map[string]content.AWSPath{}
	c.directRefs = map[string]bool{}
	if len(c.cfg.Direct) == 0 {
		return nil
	}
	if c.cfg.Table == "" || c.cfg.DynamoDB == nil {
		return fmt.Errorf("running %d direct rules: a DynamoDB table and client are needed (Config.Table, Config.DynamoDB)", len(c.cfg.Direct))
	}
	enabled := map[string]bool{}
	for _, r := range c.cfg.Rules {
		enabled[r.Ref] = r.Enabled
	}
	machines := maps.Clone(c.cfg.Machines)
	if machines == nil {
		machines = map[string][]byte{}
	}
	for ref, d := range c.cfg.Direct {
		p := d.Path
		if p.Path != content.PathDirect || p.DirectMachine == "" || len(d.Definition) == 0 {
			return fmt.Errorf("running rule %s on the direct path: its path is %q (direct machine %q), expected direct with a definition", ref, p.Path, p.DirectMachine)
		}
		if _, ok := machines[p.Machine]; !ok {
			return fmt.Errorf("running rule %s on the direct path: its state machine %s is not among the machines", ref, p.Machine)
		}
		machines[p.DirectMachine] = d.Definition
		c.directRefs[p.DirectMachine] = true
		if enabled[ref] {
			c.direct[ref] = p
		}
	}
	c.cfg.Machines = machines
	return nil
}

// DirectRules lists the rules whose matches start their direct machine.
func (c *Cloud) DirectRules() []string {
	out := make([]string, 0, len(c.direct))
	for ref := range c.direct {
		out = append(out, ref)
	}
	slices.Sort(out)
	return out
}

// startDirect starts the direct machine of rule ref for an event, as the
// stack's EventBridge target does: the input built by the rule's input
// transformer, a fresh execution name per delivery; failures to start are
// retried as a delivery is.
func (c *Cloud) startDirect(ref string, p content.AWSPath, eventID string, raw []byte) {
	log := c.log.With("rule", ref, "event", eventID, "machine", p.DirectMachine)
	paths, tmpl := p.DirectTarget()
	input, err := transformInput(paths, tmpl, raw)
	if err != nil {
		log.Error("event not delivered: building the direct machine's input", "err", err)
		return
	}
	var v any
	if err := json.Unmarshal([]byte(input), &v); err != nil {
		log.Error("event not delivered: the direct machine's input is not JSON", "input", input, "err", err)
		return
	}
	arn := c.MachineARN(p.DirectMachine)
	c.retrying(log, func(context.Context) error {
		_, err := c.startExecution(arn, newUUID(), v, input, nil)
		return err
	})
}

// placeholder is an input transformer variable in an input template.
var placeholder = regexp.MustCompile(`<([A-Za-z0-9_.\-]+)>`)

// transformInput applies an EventBridge input transformer (input paths
// map, input template) to an event: each <name> becomes the JSON value at
// its path ($.a.b), null when the event has none.
func transformInput(paths map[string]string, tmpl string, event []byte) (string, error) {
	var ev any
	if err := json.Unmarshal(event, &ev); err != nil {
		return "", fmt.Errorf("decoding the event: %w", err)
	}
	var errs []string
	out := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		path, ok := paths[m[1:len(m)-1]]
		if !ok {
			return m
		}
		if path != "$" && !strings.HasPrefix(path, "$.") {
			errs = append(errs, fmt.Sprintf("input path %s of <%s>: expected $ or $.a.b", path, m[1:len(m)-1]))
			return m
		}
		v := ev
		if path != "$" {
			for _, k := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
				obj, _ := v.(map[string]any)
				v = obj[k]
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			errs = append(errs, err.Error())
			return m
		}
		return string(b)
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("applying the input transformer: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// runDynamoDB runs a DynamoDB task of a state machine.
func (c *Cloud) runDynamoDB(ctx context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	if c.cfg.DynamoDB == nil {
		return asl.TaskResult{}, &asl.Failure{Name: "DynamoDB.AmazonDynamoDBException",
			Cause: fmt.Sprintf("state %s: %s: bwc serve --aws has no DynamoDB table configured (--table NAME, and the endpoint in --dynamodb-endpoint or AWS_ENDPOINT_URL_DYNAMODB)", req.StateName, req.Resource)}
	}
	return c.cfg.DynamoDB.RunTask(ctx, req)
}
