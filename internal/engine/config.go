package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
)

// packConfigs holds the configuration values of every pack: the defaults of
// its config.schema.yaml, overridden by the deployment's values.
type packConfigs map[string]map[string]any

// loadPackConfigs builds the pack configurations. file, when set, is a YAML
// or JSON document {pack: {key: value}}.
func loadPackConfigs(set *pack.Set, file string) (packConfigs, error) {
	out := packConfigs{}
	for _, p := range set.Packs {
		m := map[string]any{}
		for _, c := range p.Config {
			if c.HasDefault {
				m[c.Name] = c.Default
			}
		}
		out[p.Ref] = m
	}
	if file == "" {
		return out, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading pack configuration %s: %w", file, err)
	}
	var doc map[string]map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading pack configuration %s: expected {pack: {key: value}}: %w", file, err)
	}
	for ref, vals := range doc {
		if out[ref] == nil {
			return nil, fmt.Errorf("reading pack configuration %s: no pack %q is loaded", file, ref)
		}
		for k, v := range vals {
			out[ref][k] = jsonValue(v)
		}
	}
	return out, nil
}

// jsonValue converts a YAML-decoded value to its JSON form.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// value is $config(key) for a pack: the value, or nil (undefined).
func (c packConfigs) value(_ context.Context, packRef, key string) (any, error) {
	return c[packRef][key], nil
}

// webhookAuth is the signature scheme of one webhook url, as the
// --webhook-secrets file gives it.
type webhookAuth struct {
	Scheme string `yaml:"scheme"`
	// Secret is the secret itself; SecretEnv names an environment
	// variable that holds it (to keep it out of files).
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret_env"`
}

// loadWebhookVerifiers reads a YAML file {<url>: {scheme, secret |
// secret_env}} and builds a verifier per url.
func loadWebhookVerifiers(file string) (map[string]webhook.Verifier, error) {
	out := map[string]webhook.Verifier{}
	if file == "" {
		return out, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading webhook secrets %s: %w", file, err)
	}
	var doc map[string]webhookAuth
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading webhook secrets %s: expected {<url>: {scheme, secret | secret_env}}: %w", file, err)
	}
	for u, a := range doc {
		url, err := webhook.NormalizeURL(u)
		if err != nil {
			return nil, fmt.Errorf("webhook secrets %s: %w", file, err)
		}
		secret := a.Secret
		if a.SecretEnv != "" {
			if secret = os.Getenv(a.SecretEnv); secret == "" {
				return nil, fmt.Errorf("webhook secrets %s: %s: environment variable %s is empty", file, url, a.SecretEnv)
			}
		}
		v, err := webhook.New(webhook.Config{Scheme: a.Scheme, Secret: secret, Scope: url})
		if err != nil {
			return nil, fmt.Errorf("webhook secrets %s: %s: %w", file, url, err)
		}
		out[url] = v
	}
	return out, nil
}
