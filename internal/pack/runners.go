package pack

import (
	"fmt"
)

// Runner types BWC runs (st2's names, plus go and asl).
const (
	RunnerLocalShellCmd     = "local-shell-cmd"
	RunnerLocalShellScript  = "local-shell-script"
	RunnerRemoteShellCmd    = "remote-shell-cmd"
	RunnerRemoteShellScript = "remote-shell-script"
	RunnerHTTPRequest       = "http-request"
	RunnerNoop              = "noop"
	RunnerInquirer          = "inquirer"
	RunnerWorkflow          = "workflow"
	RunnerGo                = "go"
	RunnerASL               = "asl"
)

// Runner describes a runner type: whether its actions need an entry point,
// and the parameters it takes. An action's parameter of the same name as a
// runner parameter overrides it (st2's rules: only default, description,
// enum, immutable and required may change), and a runner parameter marked
// Immutable cannot be overridden at all.
type Runner struct {
	Name        string
	Description string
	// EntryPoint says what the action's entry_point names: "" for nothing
	// (an entry point is an error), else a description of the file
	// expected ("a shell script", "a workflow definition"...).
	EntryPoint string
	Parameters []*Parameter
}

// Runners returns BWC's runner types, by name. The table is built on each
// call; callers keep the result.
func Runners() map[string]*Runner {
	str := func(name, desc string) *Parameter { return rp(name, "string", desc) }
	shell := func(remote, cmd bool) []*Parameter {
		var ps []*Parameter
		if cmd {
			ps = append(ps, str("cmd", "The command to run, with the shell."))
		}
		ps = append(ps,
			str("cwd", "Working directory of the command."),
			rp("env", "object", "Environment variables for the command."),
			def(str("kwarg_op", "Operator put before each named argument passed to a script."), "--"),
			def(rp("sudo", "boolean", "Run the command with sudo."), false),
			secret(str("sudo_password", "Password for sudo, when it asks for one.")),
			def(rp("timeout", "integer", "Seconds after which the command is killed and the execution times out."), 60),
		)
		if remote {
			ps = append(ps,
				str("hosts", "Comma-separated hosts to run on."),
				str("username", "SSH user name."),
				secret(str("password", "SSH password, when not using a key.")),
				secret(str("private_key", "SSH private key (the key itself, or a path on the runner).")),
				secret(str("passphrase", "Passphrase of the private key.")),
				def(rp("port", "integer", "SSH port."), 22),
				def(rp("parallel", "boolean", "Run on all hosts at once."), false),
				def(str("dir", "Directory on the remote host where scripts are copied."), "/tmp"),
			)
		}
		return ps
	}
	list := []*Runner{
		{Name: RunnerLocalShellCmd, Description: "Runs a shell command where the runner runs (a Lambda on AWS, a subprocess of bwc serve).",
			Parameters: shell(false, true)},
		{Name: RunnerLocalShellScript, Description: "Runs a script of the pack where the runner runs; parameters become arguments.",
			EntryPoint: "a script in the pack's actions directory", Parameters: shell(false, false)},
		{Name: RunnerRemoteShellCmd, Description: "Runs a shell command on remote hosts over SSH.",
			Parameters: shell(true, true)},
		{Name: RunnerRemoteShellScript, Description: "Copies a script of the pack to remote hosts over SSH and runs it.",
			EntryPoint: "a script in the pack's actions directory", Parameters: shell(true, false)},
		{Name: RunnerHTTPRequest, Description: "Sends an HTTP request.", Parameters: []*Parameter{
			str("url", "URL to send the request to."),
			enum(def(str("method", "HTTP method."), "GET"), "HEAD", "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
			rp("headers", "object", "HTTP headers."),
			str("body", "Request body."),
			rp("params", "object", "Query parameters."),
			rp("cookies", "object", "Cookies to send."),
			str("username", "User name for basic authentication."),
			secret(str("password", "Password for basic authentication.")),
			def(rp("allow_redirects", "boolean", "Follow redirects."), false),
			def(rp("verify_ssl_cert", "boolean", "Verify the server's TLS certificate."), true),
			def(rp("timeout", "number", "Seconds to wait for the response."), 60),
			str("http_proxy", "Proxy for http:// URLs."),
			str("https_proxy", "Proxy for https:// URLs."),
			immutable(rp("url_hosts_blacklist", "array", "Hosts the runner refuses to call; set by the operator in the deployment, not by actions.")),
			immutable(rp("url_hosts_whitelist", "array", "Hosts the runner may call; set by the operator in the deployment, not by actions.")),
		}},
		{Name: RunnerNoop, Description: "Does nothing and succeeds."},
		{Name: RunnerInquirer, Description: "Asks a person and waits for the answer (an inquiry; a task token on AWS).", Parameters: []*Parameter{
			str("route", "An arbitrary value rules use to route the inquiry to the right channel."),
			def(rp("schema", "object", "JSON Schema the response must satisfy."), map[string]any{
				"type": "object",
				"properties": map[string]any{
					"continue": map[string]any{"type": "boolean", "description": "Would you like to continue the workflow?"},
				},
				"required":             []any{"continue"},
				"additionalProperties": false,
			}),
			rp("users", "array", "User names allowed to respond (anyone when empty)."),
			rp("roles", "array", "Roles allowed to respond (any when empty)."),
			def(rp("ttl", "integer", "Minutes to wait for a response before the inquiry times out."), 1440),
		}},
		{Name: RunnerWorkflow, Description: "Runs a BWC workflow (compiled to a Step Functions state machine); the action's parameters are its input.",
			EntryPoint: "a workflow definition, usually workflows/<name>.yaml"},
		{Name: RunnerGo, Description: "Runs a Go program of the pack, built as its own Lambda on AWS.",
			EntryPoint: "a Go main package: <name>/main.go or its directory", Parameters: []*Parameter{
				rp("env", "object", "Environment variables for the program."),
				def(rp("timeout", "integer", "Seconds after which the action times out."), 60),
			}},
		{Name: RunnerASL, Description: "Runs a hand-written Step Functions state machine (Amazon States Language, JSONata).",
			EntryPoint: "an ASL definition, e.g. ../statemachines/<name>.asl.json"},
	}
	out := make(map[string]*Runner, len(list))
	for _, r := range list {
		for _, p := range r.Parameters {
			p.Runner = r.Name
			p.Schema = paramSchema(p)
		}
		out[r.Name] = r
	}
	return out
}

// RunnerNames lists the runner types BWC runs, sorted.
func RunnerNames() []string {
	return sortedKeys(Runners())
}

// unsupportedRunner explains st2 runner types BWC does not run: ok is true
// when name is one, with the message to show.
func unsupportedRunner(name string) (string, bool) {
	renamed := map[string]string{
		"run-local":         RunnerLocalShellCmd,
		"run-local-script":  RunnerLocalShellScript,
		"run-remote":        RunnerRemoteShellCmd,
		"run-remote-script": RunnerRemoteShellScript,
		"http-runner":       RunnerHTTPRequest,
		"http-request-v2":   RunnerHTTPRequest,
	}
	if to, ok := renamed[name]; ok {
		return fmt.Sprintf("%q is st2's old name: use runner_type %s", name, to), true
	}
	switch name {
	case "orquesta", "mistral", "mistral-v2":
		return fmt.Sprintf("%s workflows are not supported by BWC: use runner_type workflow (BWC's workflow language keeps Orquesta's words, with JSONata expressions)", name), true
	case "action-chain":
		return "action-chain is not supported by BWC: write the chain as a workflow (runner_type workflow)", true
	case "python-script", "run-python":
		return fmt.Sprintf("%s is not supported by BWC: BWC does not run Python actions; use runner_type go, local-shell-script or http-request", name), true
	case "winrm-cmd", "winrm-ps-cmd", "winrm-ps-script", "windows-cmd", "windows-script":
		return fmt.Sprintf("%s is not supported by BWC: BWC has no Windows runners", name), true
	case "announcement", "cloudslang":
		return fmt.Sprintf("%s is not supported by BWC", name), true
	}
	return "", false
}

func rp(name, typ, desc string) *Parameter {
	return &Parameter{Name: name, Type: typ, Description: desc}
}

func def(p *Parameter, v any) *Parameter {
	p.Default, p.HasDefault = normalize(v), true
	return p
}

func secret(p *Parameter) *Parameter {
	p.Secret = true
	return p
}

func immutable(p *Parameter) *Parameter {
	p.Immutable = true
	return p
}

func enum(p *Parameter, values ...any) *Parameter {
	p.Enum = values
	return p
}

// paramSchema builds the JSON Schema of a parameter defined in Go.
func paramSchema(p *Parameter) map[string]any {
	s := map[string]any{}
	if p.Type != "" {
		s["type"] = p.Type
	}
	if p.Description != "" {
		s["description"] = p.Description
	}
	if p.HasDefault {
		s["default"] = normalize(p.Default)
	}
	if p.Enum != nil {
		s["enum"] = normalize(p.Enum)
	}
	return s
}
