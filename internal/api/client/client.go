// Package client is the Go client of BWC's HTTP API (package api), used by
// the bwc CLI and the end-to-end tests.
//
// Every method returns, for an error response, an *Error carrying the HTTP
// status and the API's error body. A Client is safe for concurrent use.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// Client talks to one BWC API.
type Client struct {
	base string
	key  string
	http *http.Client
}

// New returns a client of the API at baseURL ("http://127.0.0.1:9101") with
// the given API key. hc nil means a client with a 60 s timeout.
func New(baseURL, key string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, http: hc}
}

// BaseURL returns the API's URL.
func (c *Client) BaseURL() string { return c.base }

// Error is an error answer of the API.
type Error struct {
	Status int
	Body   api.ErrorDetail
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (HTTP %d)", e.Body.Message, e.Status)
	for _, p := range e.Body.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Pointer, p.Message)
	}
	return b.String()
}

// IsStatus reports whether err is an *Error with the given HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, headers map[string]string, out any) error {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		default:
			raw, err := json.Marshal(body)
			if err != nil {
				return fmt.Errorf("encoding the request: %w", err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("building the request %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set(api.HeaderAPIKey, c.key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling the BWC API at %s: %w", c.base, err)
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		var eb api.ErrorBody
		if json.Unmarshal(raw, &eb) == nil && eb.Error.Message != "" {
			e.Body = eb.Error
		} else {
			e.Body = api.ErrorDetail{Code: "http", Message: strings.TrimSpace(string(raw))}
			if e.Body.Message == "" {
				e.Body.Message = resp.Status
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// Health checks that the server answers.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var h api.Health
	err := c.do(ctx, http.MethodGet, "/api/v1/health", nil, nil, nil, &h)
	return h, err
}

// Run starts an action.
func (c *Client) Run(ctx context.Context, req api.RunRequest) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodPost, "/api/v1/executions", nil, req, nil, &ex)
	return ex, err
}

// Execution returns an execution with its result.
func (c *Client) Execution(ctx context.Context, id string) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodGet, "/api/v1/executions/"+url.PathEscape(id), nil, nil, nil, &ex)
	return ex, err
}

// Executions lists executions, newest first.
func (c *Client) Executions(ctx context.Context, q store.ExecutionQuery) (api.ExecutionList, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("status", string(q.Status))
	set("action", q.Action)
	set("rule", q.Rule)
	set("trigger_instance_id", q.TriggerInstanceID)
	set("parent_id", q.ParentID)
	set("trace_tag", q.TraceTag)
	set("user", q.User)
	set("token", q.Token)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	var out api.ExecutionList
	err := c.do(ctx, http.MethodGet, "/api/v1/executions", v, nil, nil, &out)
	return out, err
}

// Output returns the output chunks of an execution after seq after.
func (c *Client) Output(ctx context.Context, id string, after int64) (api.Output, error) {
	v := url.Values{"after": {strconv.FormatInt(after, 10)}}
	var out api.Output
	err := c.do(ctx, http.MethodGet, "/api/v1/executions/"+url.PathEscape(id)+"/output", v, nil, nil, &out)
	return out, err
}

// Action returns an action's metadata.
func (c *Client) Action(ctx context.Context, ref string) (pack.Action, error) {
	var a pack.Action
	err := c.do(ctx, http.MethodGet, "/api/v1/actions/"+url.PathEscape(ref), nil, nil, nil, &a)
	return a, err
}

// ReRun starts an execution's action again, its parameters overridden by
// params.
func (c *Client) ReRun(ctx context.Context, id string, params map[string]any) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodPost, "/api/v1/executions/"+url.PathEscape(id)+"/re-run", nil, api.ReRunRequest{Parameters: params}, nil, &ex)
	return ex, err
}

// ReRunTasks starts a workflow execution again from the given tasks, with
// the workflow variables the original run had when it entered them.
func (c *Client) ReRunTasks(ctx context.Context, id string, tasks []string) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodPost, "/api/v1/executions/"+url.PathEscape(id)+"/re-run", nil, api.ReRunRequest{Tasks: tasks}, nil, &ex)
	return ex, err
}

// Pause pauses a workflow execution.
func (c *Client) Pause(ctx context.Context, id string) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodPost, "/api/v1/executions/"+url.PathEscape(id)+"/pause", nil, nil, nil, &ex)
	return ex, err
}

// Resume resumes a paused workflow execution.
func (c *Client) Resume(ctx context.Context, id string) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodPost, "/api/v1/executions/"+url.PathEscape(id)+"/resume", nil, nil, nil, &ex)
	return ex, err
}

// Cancel cancels an execution.
func (c *Client) Cancel(ctx context.Context, id string) (store.Execution, error) {
	var ex store.Execution
	err := c.do(ctx, http.MethodPost, "/api/v1/executions/"+url.PathEscape(id)+"/cancel", nil, nil, nil, &ex)
	return ex, err
}

// Webhook posts a body to /api/v1/webhooks/<path>. headers are added to the
// request (an event id, a signature).
func (c *Client) Webhook(ctx context.Context, path string, body []byte, headers map[string]string) (api.Accepted, error) {
	var out api.Accepted
	err := c.do(ctx, http.MethodPost, "/api/v1/webhooks/"+strings.TrimLeft(path, "/"), nil, body, headers, &out)
	return out, err
}

// Trigger posts a trigger instance of any type to /api/v1/webhooks/st2.
func (c *Client) Trigger(ctx context.Context, req api.TriggerRequest, eventID string) (api.Accepted, error) {
	var h map[string]string
	if eventID != "" {
		h = map[string]string{api.HeaderEventID: eventID}
	}
	var out api.Accepted
	err := c.do(ctx, http.MethodPost, "/api/v1/webhooks/st2", nil, req, h, &out)
	return out, err
}

// TriggerInstances lists trigger instances, newest first.
func (c *Client) TriggerInstances(ctx context.Context, trigger string, limit int) (api.TriggerInstanceList, error) {
	v := url.Values{}
	if trigger != "" {
		v.Set("trigger", trigger)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out api.TriggerInstanceList
	err := c.do(ctx, http.MethodGet, "/api/v1/trigger-instances", v, nil, nil, &out)
	return out, err
}

// TriggerInstance returns a trigger instance.
func (c *Client) TriggerInstance(ctx context.Context, id string) (store.TriggerInstance, error) {
	var out store.TriggerInstance
	err := c.do(ctx, http.MethodGet, "/api/v1/trigger-instances/"+url.PathEscape(id), nil, nil, nil, &out)
	return out, err
}

// Enforcements lists rule enforcements, newest first.
func (c *Client) Enforcements(ctx context.Context, rule string, limit int) (api.EnforcementList, error) {
	v := url.Values{}
	if rule != "" {
		v.Set("rule", rule)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out api.EnforcementList
	err := c.do(ctx, http.MethodGet, "/api/v1/enforcements", v, nil, nil, &out)
	return out, err
}

// Inquiries lists inquiries, newest first (status "" for all).
func (c *Client) Inquiries(ctx context.Context, status store.InquiryStatus) (api.InquiryList, error) {
	v := url.Values{}
	if status != "" {
		v.Set("status", string(status))
	}
	var out api.InquiryList
	err := c.do(ctx, http.MethodGet, "/api/v1/inquiries", v, nil, nil, &out)
	return out, err
}

// Respond answers an inquiry.
func (c *Client) Respond(ctx context.Context, id string, response map[string]any) (store.Inquiry, error) {
	var out store.Inquiry
	err := c.do(ctx, http.MethodPost, "/api/v1/inquiries/"+url.PathEscape(id)+"/respond", nil, api.RespondRequest{Response: response}, nil, &out)
	return out, err
}

// PutKey stores a datastore value in scope system (or user: the caller's).
func (c *Client) PutKey(ctx context.Context, scope store.Scope, name string, req api.KeyRequest) (store.KeyValue, error) {
	var out store.KeyValue
	err := c.do(ctx, http.MethodPut, "/api/v1/keys/"+url.PathEscape(string(scope))+"/"+url.PathEscape(name), nil, req, nil, &out)
	return out, err
}

// Key reads a datastore value; secrets are decrypted only when decrypt.
func (c *Client) Key(ctx context.Context, scope store.Scope, name string, decrypt bool) (store.KeyValue, error) {
	v := url.Values{}
	if decrypt {
		v.Set("decrypt", "true")
	}
	var out store.KeyValue
	err := c.do(ctx, http.MethodGet, "/api/v1/keys/"+url.PathEscape(string(scope))+"/"+url.PathEscape(name), v, nil, nil, &out)
	return out, err
}

// Trace returns what was recorded under a trace tag.
func (c *Client) Trace(ctx context.Context, tag string) (store.Trace, error) {
	var out store.Trace
	err := c.do(ctx, http.MethodGet, "/api/v1/traces/"+url.PathEscape(tag), nil, nil, nil, &out)
	return out, err
}

// Wait polls an execution until it has finished (or ctx ends), every
// interval (default 100 ms).
func (c *Client) Wait(ctx context.Context, id string, interval time.Duration) (store.Execution, error) {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	for {
		ex, err := c.Execution(ctx, id)
		if err != nil {
			return ex, err
		}
		if ex.Status.Finished() {
			return ex, nil
		}
		select {
		case <-ctx.Done():
			return ex, fmt.Errorf("waiting for execution %s (%s): %w", id, ex.Status, ctx.Err())
		case <-time.After(interval):
		}
	}
}
