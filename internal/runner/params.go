package runner

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParameterSpec describes one runner parameter, as st2's runner.yaml does.
type ParameterSpec struct {
	Name        string
	Type        string // JSON Schema type
	Default     any    // nil when there is none
	Secret      bool
	Required    bool
	Description string
}

var (
	specTimeout  = ParameterSpec{Name: "timeout", Type: "number", Default: 60, Description: "Seconds before the action is killed (its whole process group); 0 means no timeout."}
	specEnv      = ParameterSpec{Name: "env", Type: "object", Description: "Environment variables to set (string values)."}
	specKwargOp  = ParameterSpec{Name: "kwarg_op", Type: "string", Default: "--", Description: "Prefix of named arguments (--name=value)."}
	specSudo     = ParameterSpec{Name: "sudo", Type: "boolean", Default: false, Description: "Run the command with sudo -E."}
	specSudoPass = ParameterSpec{Name: "sudo_password", Type: "string", Secret: true, Description: "Password for sudo (sent on its standard input with -S)."}
	specCmd      = ParameterSpec{Name: "cmd", Type: "string", Required: true, Description: "Command line, run by /bin/sh -c."}
	specCwd      = ParameterSpec{Name: "cwd", Type: "string", Description: "Working directory."}
)

var remoteSpecs = []ParameterSpec{
	{Name: "hosts", Type: "string", Required: true, Description: "Comma-separated (or a JSON array of) [user@]host[:port]."},
	{Name: "username", Type: "string", Description: "SSH user; default Options.SSH.User, else the current user."},
	{Name: "password", Type: "string", Secret: true, Description: "SSH password."},
	{Name: "password_ref", Type: "string", Description: "Datastore name of the SSH password (read through Request.Secrets)."},
	{Name: "private_key", Type: "string", Secret: true, Description: "SSH private key: PEM/OpenSSH material or the path of a key file."},
	{Name: "private_key_ref", Type: "string", Description: "Datastore name of the SSH private key material."},
	{Name: "passphrase", Type: "string", Secret: true, Description: "Passphrase of the private key."},
	{Name: "passphrase_ref", Type: "string", Description: "Datastore name of the private key's passphrase."},
	{Name: "port", Type: "integer", Default: 22, Description: "SSH port for hosts that name none."},
	{Name: "parallel", Type: "boolean", Default: true, Description: "Run on all hosts at once (else one after the other)."},
	specSudo, specSudoPass, specCwd, specEnv, specKwargOp, specTimeout,
}

var specsByType = map[string][]ParameterSpec{
	TypeLocalShellCmd:    {specCmd, specCwd, specEnv, specSudo, specSudoPass, specTimeout, specKwargOp},
	TypeLocalShellScript: {specCwd, specEnv, specSudo, specSudoPass, specTimeout, specKwargOp},
	TypeRemoteShellCmd:   append([]ParameterSpec{specCmd}, remoteSpecs...),
	TypeRemoteShellScript: append([]ParameterSpec{
		{Name: "dir", Type: "string", Default: "/tmp", Description: "Remote directory the script is copied to (and removed from after the run)."},
	}, remoteSpecs...),
	TypeHTTPRequest: {
		{Name: "url", Type: "string", Required: true, Description: "URL of the request."},
		{Name: "method", Type: "string", Description: "HTTP method; default POST when there is a body, else GET."},
		{Name: "body", Type: "string", Description: "Request body: a string is sent as is, anything else as JSON."},
		{Name: "params", Type: "object", Description: "Query parameters added to the URL."},
		{Name: "headers", Type: "object", Description: "Request headers."},
		{Name: "cookies", Type: "object", Description: "Cookies to send."},
		{Name: "username", Type: "string", Description: "User for basic authentication."},
		{Name: "password", Type: "string", Secret: true, Description: "Password for basic authentication."},
		{Name: "allow_redirects", Type: "boolean", Default: false, Description: "Follow redirects."},
		{Name: "verify_ssl_cert", Type: "boolean", Default: true, Description: "Verify the server's TLS certificate."},
		{Name: "http_proxy", Type: "string", Description: "Proxy URL for http URLs."},
		{Name: "https_proxy", Type: "string", Description: "Proxy URL for https URLs."},
		{Name: "url_hosts_blacklist", Type: "array", Description: "Hosts the URL must not name."},
		{Name: "url_hosts_whitelist", Type: "array", Description: "When set, the only hosts the URL may name."},
		specTimeout,
	},
	TypeNoop: {},
	TypeGo:   {specEnv, specTimeout},
}

// ParameterSpecs returns the runner parameters of a runner type, sorted by
// name, and whether the type is one of this package's.
func ParameterSpecs(runnerType string) ([]ParameterSpec, bool) {
	specs, ok := specsByType[runnerType]
	if !ok {
		return nil, false
	}
	out := append([]ParameterSpec(nil), specs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, true
}

func isRunnerParam(runnerType, name string) bool {
	for _, s := range specsByType[runnerType] {
		if s.Name == name {
			return true
		}
	}
	return false
}

// params reads runner parameters: RunnerParameters first, then (for st2
// compatibility) Parameters.
type params struct {
	req *Request
}

func (p params) lookup(name string) (any, bool) {
	if v, ok := p.req.RunnerParameters[name]; ok && v != nil {
		return v, true
	}
	if v, ok := p.req.Parameters[name]; ok && v != nil {
		return v, true
	}
	return nil, false
}

func (p params) str(name, def string) (string, error) {
	v, ok := p.lookup(name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64, int, int64, bool:
		return fmt.Sprint(x), nil
	}
	return "", invalidParam("runner parameter %q: found %T, expected a string", name, v)
}

func (p params) boolean(name string, def bool) (bool, error) {
	v, ok := p.lookup(name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err == nil {
			return b, nil
		}
	}
	return false, invalidParam("runner parameter %q: found %v, expected a boolean", name, v)
}

func (p params) number(name string, def float64) (float64, error) {
	v, ok := p.lookup(name)
	if !ok {
		return def, nil
	}
	var f float64
	var err error
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		f, err = x.Float64()
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	default:
		err = fmt.Errorf("found %T", v)
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, invalidParam("runner parameter %q: found %v, expected a number", name, v)
	}
	return f, nil
}

// timeout returns the timeout runner parameter (seconds; 0 for none).
func (p params) timeout(def float64) (time.Duration, error) {
	s, err := p.number("timeout", def)
	if err != nil {
		return 0, err
	}
	if s < 0 {
		return 0, invalidParam("runner parameter \"timeout\": found %v, expected seconds >= 0", s)
	}
	return time.Duration(s * float64(time.Second)), nil
}

func (p params) stringMap(name string) (map[string]string, error) {
	v, ok := p.lookup(name)
	if !ok {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		if sm, ok := v.(map[string]string); ok {
			return sm, nil
		}
		return nil, invalidParam("runner parameter %q: found %T, expected an object", name, v)
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
			continue
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, invalidParam("runner parameter %q: key %q: %v", name, k, err)
		}
		out[k] = string(b)
	}
	return out, nil
}

// stringList accepts a JSON array of strings or a comma-separated string.
func (p params) stringList(name string) ([]string, error) {
	v, ok := p.lookup(name)
	if !ok {
		return nil, nil
	}
	var items []string
	switch x := v.(type) {
	case string:
		items = strings.Split(x, ",")
	case []string:
		items = x
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, invalidParam("runner parameter %q[%d]: found %T, expected a string", name, i, e)
			}
			items = append(items, s)
		}
	default:
		return nil, invalidParam("runner parameter %q: found %T, expected a list or a comma-separated string", name, v)
	}
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// secretNames returns the names of secret parameters of a request: the
// action's secret parameters and its runner type's secret parameters.
func secretValues(req *Request) []string {
	var vals []string
	add := func(v any) {
		switch x := v.(type) {
		case string:
			vals = append(vals, x)
		case nil, bool:
		default:
			b, err := json.Marshal(x)
			if err == nil {
				vals = append(vals, string(b), fmt.Sprint(x))
			}
		}
	}
	for name, info := range req.Action.Parameters {
		if info.Secret {
			add(req.Parameters[name])
			add(req.RunnerParameters[name])
		}
	}
	for _, s := range specsByType[req.Action.RunnerType] {
		if s.Secret {
			add(req.Parameters[s.Name])
			add(req.RunnerParameters[s.Name])
		}
	}
	return vals
}
