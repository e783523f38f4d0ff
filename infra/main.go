// Command infra is BWC's CDK app: the AWS engine as one CloudFormation stack
// built from the packs. `cdk synth` at the repository root runs it (see
// cdk.json); docs/deploy.md describes the stack and its settings.
//
// Context values (cdk.json, or `cdk synth -c key=value`); paths are relative
// to the working directory, the repository root when cdk runs the app:
//
//	bwc:packs         pack directories, comma-separated (default packs)
//	bwc:code          the function build directory, build/lambda (default build/lambda)
//	bwc:name          prefix of every physical name (default bwc)
//	bwc:stack         the stack's name (default Bwc)
//	bwc:logRetention  days the logs are kept (default 30)
//	bwc:destroyData   "true" deletes the table and the key with the stack
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bwc-project/bwc/infra/stack"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bwc infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	get := func(key, def string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
			return v
		}
		return def
	}
	days, err := strconv.Atoi(get("bwc:logRetention", "30"))
	if err != nil {
		return fmt.Errorf("reading context bwc:logRetention: %w", err)
	}
	retention, err := stack.LogRetention(days)
	if err != nil {
		return fmt.Errorf("reading context bwc:logRetention: %w", err)
	}
	compiled, err := stack.Load(strings.Split(get("bwc:packs", "packs"), ",")...)
	if err != nil {
		return err
	}
	plan, err := stack.Build(compiled)
	if err != nil {
		return fmt.Errorf("planning the stack: %w", err)
	}
	if _, err := stack.New(app, get("bwc:stack", "Bwc"), stack.Props{
		StackProps:   awscdk.StackProps{Description: jsii.String("BWC: event-driven automation (rules, workflows, audit trail)")},
		Plan:         plan,
		Name:         get("bwc:name", "bwc"),
		CodeDir:      get("bwc:code", "build/lambda"),
		LogRetention: retention,
		DestroyData:  get("bwc:destroyData", "") == "true",
	}); err != nil {
		return err
	}
	stack.AddChecks(app)
	app.Synth(nil)
	return nil
}
