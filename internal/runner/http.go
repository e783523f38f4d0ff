package runner

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// httpRunner runs http-request.
type httpRunner struct {
	opts Options
}

var _ Runner = (*httpRunner)(nil)

var errHTTPTimeout = errors.New("http-request timeout")

// Run implements [Runner]. The result is st2's: status_code, body (parsed
// when the response's content type is JSON), parsed, headers (one string per
// header, values joined with ", "). A status outside 200-299 is
// bwc.ActionFailed, retryable for 429 and 5xx; no response at all is
// bwc.HTTPRequestFailed.
func (h *httpRunner) Run(ctx context.Context, req Request) (Result, error) {
	hr, client, timeout, err := h.build(ctx, &req)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if timeout > 0 {
		t := h.opts.Clock.NewTimer(timeout)
		defer t.Stop()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-t.C():
				cancel(errHTTPTimeout)
			case <-stop:
			}
		}()
	}
	hr = hr.WithContext(ctx)
	resp, err := client.Do(hr)
	if err != nil {
		return Result{}, h.stopErr(ctx, timeout, actionErr(ErrNameHTTPRequestFailed, true, "%s %s: %w", hr.Method, redactURL(hr.URL), err))
	}
	defer func() { _ = resp.Body.Close() }()
	limit := int64(h.opts.MaxOutputBytes)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Result{}, h.stopErr(ctx, timeout, actionErr(ErrNameHTTPRequestFailed, true, "%s %s: reading the response: %w", hr.Method, redactURL(hr.URL), err))
	}
	truncated := int64(len(raw)) > limit
	if truncated {
		raw = raw[:limit]
	}
	headers := map[string]any{}
	for k, vs := range resp.Header {
		headers[k] = strings.Join(vs, ", ")
	}
	var body any = string(raw)
	parsed := false
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && !truncated &&
		(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		if dec.Decode(&v) == nil && !dec.More() {
			body, parsed = v, true
		}
	}
	res := Result{Value: map[string]any{
		"status_code": resp.StatusCode,
		"body":        body,
		"parsed":      parsed,
		"headers":     headers,
	}}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return res, actionErr(ErrNameActionFailed, retry, "%s %s: status %d", hr.Method, redactURL(hr.URL), resp.StatusCode)
	}
	return res, nil
}

func (h *httpRunner) stopErr(ctx context.Context, timeout time.Duration, err *ActionError) *ActionError {
	if errors.Is(context.Cause(ctx), errHTTPTimeout) {
		return actionErr(ErrNameActionTimeout, false, "http-request timed out after %s", timeout)
	}
	if ctx.Err() != nil {
		return ctxStopErr(ctx)
	}
	return err
}

func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

func (h *httpRunner) build(ctx context.Context, req *Request) (*http.Request, *http.Client, time.Duration, error) {
	p := params{req}
	rawURL, err := p.str("url", "")
	if err != nil {
		return nil, nil, 0, err
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, 0, invalidParam("runner parameter \"url\": found %q, expected an http or https URL", rawURL)
	}
	deny, err := p.stringList("url_hosts_blacklist")
	if err != nil {
		return nil, nil, 0, err
	}
	allow, err := p.stringList("url_hosts_whitelist")
	if err != nil {
		return nil, nil, 0, err
	}
	if len(deny) > 0 && len(allow) > 0 {
		return nil, nil, 0, invalidParam("runner parameters url_hosts_blacklist and url_hosts_whitelist are mutually exclusive")
	}
	if slices.Contains(deny, u.Hostname()) {
		return nil, nil, 0, invalidParam("URL host %q is in url_hosts_blacklist", u.Hostname())
	}
	if len(allow) > 0 && !slices.Contains(allow, u.Hostname()) {
		return nil, nil, 0, invalidParam("URL host %q is not in url_hosts_whitelist", u.Hostname())
	}
	query, err := p.stringMap("params")
	if err != nil {
		return nil, nil, 0, err
	}
	if len(query) > 0 {
		q := u.Query()
		for _, k := range sortedKeys(query) {
			q.Set(k, query[k])
		}
		u.RawQuery = q.Encode()
	}
	headers, err := p.stringMap("headers")
	if err != nil {
		return nil, nil, 0, err
	}
	var body []byte
	jsonBody := false
	if v, ok := p.lookup("body"); ok {
		switch x := v.(type) {
		case string:
			body = []byte(x)
		default:
			body, err = json.Marshal(x)
			if err != nil {
				return nil, nil, 0, invalidParam("runner parameter \"body\": %v", err)
			}
			jsonBody = true
		}
	}
	method, err := p.str("method", "")
	if err != nil {
		return nil, nil, 0, err
	}
	if method == "" {
		method = http.MethodGet
		if len(body) > 0 {
			method = http.MethodPost
		}
	}
	hr, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, 0, invalidParam("building the request: %v", err)
	}
	hr.Header.Set("User-Agent", h.opts.UserAgent)
	if req.Action.Ref != "" {
		hr.Header.Set("X-BWC-Action", req.Action.Ref)
	}
	if req.ExecutionID != "" {
		hr.Header.Set("X-BWC-Execution-ID", req.ExecutionID)
	}
	for _, k := range sortedKeys(headers) {
		hr.Header.Set(k, headers[k])
	}
	if jsonBody && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	cookies, err := p.stringMap("cookies")
	if err != nil {
		return nil, nil, 0, err
	}
	for _, k := range sortedKeys(cookies) {
		hr.AddCookie(&http.Cookie{Name: k, Value: cookies[k]})
	}
	user, err := p.str("username", "")
	if err != nil {
		return nil, nil, 0, err
	}
	pass, err := p.str("password", "")
	if err != nil {
		return nil, nil, 0, err
	}
	if user != "" || pass != "" {
		hr.SetBasicAuth(user, pass)
	}

	redirects, err := p.boolean("allow_redirects", false)
	if err != nil {
		return nil, nil, 0, err
	}
	verify, err := p.boolean("verify_ssl_cert", true)
	if err != nil {
		return nil, nil, 0, err
	}
	httpProxy, err := p.str("http_proxy", "")
	if err != nil {
		return nil, nil, 0, err
	}
	httpsProxy, err := p.str("https_proxy", "")
	if err != nil {
		return nil, nil, 0, err
	}
	timeout, err := p.timeout(60)
	if err != nil {
		return nil, nil, 0, err
	}
	tr, err := h.transport(verify, httpProxy, httpsProxy)
	if err != nil {
		return nil, nil, 0, err
	}
	client := &http.Client{Transport: tr}
	if !redirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return hr, client, timeout, nil
}

func (h *httpRunner) transport(verify bool, httpProxy, httpsProxy string) (*http.Transport, error) {
	var tr *http.Transport
	if h.opts.HTTPTransport != nil {
		tr = h.opts.HTTPTransport.Clone()
	} else if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = dt.Clone()
	} else {
		tr = &http.Transport{DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}
	}
	if !verify {
		cfg := &tls.Config{}
		if tr.TLSClientConfig != nil {
			cfg = tr.TLSClientConfig.Clone()
		}
		cfg.InsecureSkipVerify = true //nolint:gosec // st2's verify_ssl_cert: false, asked for by the action.
		tr.TLSClientConfig = cfg
	}
	if httpProxy != "" || httpsProxy != "" {
		proxies := map[string]*url.URL{}
		for scheme, raw := range map[string]string{"http": httpProxy, "https": httpsProxy} {
			if raw == "" {
				continue
			}
			pu, err := url.Parse(raw)
			if err != nil || pu.Host == "" {
				return nil, invalidParam("runner parameter %q: found %q, expected a proxy URL", scheme+"_proxy", raw)
			}
			proxies[scheme] = pu
		}
		tr.Proxy = func(r *http.Request) (*url.URL, error) { return proxies[r.URL.Scheme], nil }
	}
	// One transport per request: close its idle connections when done.
	tr.DisableKeepAlives = true
	return tr, nil
}
