package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
)

// packConfigs holds the configuration values of every pack: the defaults of
// its config.schema.yaml, overridden by the deployment's values.
type packConfigs map[string]map[string]any

// loadPackConfigs builds the pack configurations (pack.Configs). file,
// when set, is a YAML or JSON document {pack: {key: value}}.
func loadPackConfigs(set *pack.Set, file string) (packConfigs, error) {
	m, err := pack.Configs(set, file)
	return packConfigs(m), err
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

// keyReader reads datastore values; store.Store satisfies it.
type keyReader interface {
	GetKeyValue(ctx context.Context, ref store.KeyRef, decrypt bool) (store.KeyValue, error)
}

// datastoreSecrets is the webhook.SecretSource of signatures declared in
// rules: the system-scope datastore key of that name, decrypted. It is
// read on each request, so `bwc key set` takes effect without a restart.
type datastoreSecrets struct{ Store keyReader }

// Secret implements webhook.SecretSource.
func (d datastoreSecrets) Secret(ctx context.Context, name string) (string, error) {
	ref := store.KeyRef{Scope: store.ScopeSystem, Name: name}
	kv, err := d.Store.GetKeyValue(ctx, ref, true)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("datastore key system/%s does not exist (set it with: bwc key set %s VALUE --secret): %w", name, name, webhook.ErrSecretUnavailable)
	}
	if err != nil {
		return "", fmt.Errorf("reading datastore key system/%s: %w", name, err)
	}
	return kv.Value, nil
}

// webhookVerifiers builds the verifier of each webhook url that needs a
// signature: from the --webhook-secrets file, and from the signature the
// enabled core.webhook rules declare in their trigger parameters (its
// secret read from src on each request). Rules on one url that declare
// different signatures, or a url given a signature by both the file and a
// rule, are errors naming both.
func webhookVerifiers(file string, rules []*rule.Compiled, src webhook.SecretSource) (map[string]webhook.Verifier, error) {
	out, err := loadWebhookVerifiers(file)
	if err != nil {
		return nil, err
	}
	var params []webhook.RuleParameters
	for _, r := range rules {
		if r.Enabled && r.Trigger.Type == api.WebhookTrigger {
			params = append(params, webhook.RuleParameters{Rule: r.Ref, Parameters: r.Trigger.Parameters})
		}
	}
	decls, err := webhook.Declarations(params)
	if err != nil {
		return nil, fmt.Errorf("webhook signatures: %w", err)
	}
	urls := make([]string, 0, len(decls))
	for u := range decls {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, url := range urls {
		d := decls[url]
		if _, dup := out[url]; dup {
			return nil, fmt.Errorf("webhook %q: rule %s declares a signature and the webhook secrets file %s lists the url too: expected one of them", url, d.Rule, file)
		}
		v, err := webhook.NewKeyed(webhook.Config{Scheme: d.Scheme, Scope: url}, d.Secret, src)
		if err != nil {
			return nil, fmt.Errorf("webhook %q of rule %s: %w", url, d.Rule, err)
		}
		out[url] = v
	}
	return out, nil
}
