package localcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/bwc-project/bwc/internal/api/routes"
	"github.com/bwc-project/bwc/internal/rule"
)

// fuzzCloud is a Cloud with one rule and the test machines, no functions
// and no Dir: whatever a fuzzed request starts runs in memory only.
func fuzzCloud(f *testing.F) *Cloud {
	f.Helper()
	c, err := New(Config{
		Rules: []*rule.Compiled{
			{Ref: "t.match", Enabled: true, Pattern: json.RawMessage(`{"source": ["bwc.t"], "detail": {"payload": {"level": ["high"]}}}`)},
		},
		Machines:  testMachines,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		KeepEnded: 50,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(c.Close)
	return c
}

// checkAPIError checks that an operation's error is a client error of the
// AWS JSON protocol (an *apiError with a 4xx status), not an internal one.
func checkAPIError(t *testing.T, err error) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an AWS protocol error", err, err)
	}
	if ae.Status != 0 && (ae.Status < 400 || ae.Status > 499) {
		t.Fatalf("error %v has status %d, want 4xx", err, ae.Status)
	}
	if ae.Type == "" || ae.Message == "" {
		t.Fatalf("error %+v has no __type or message", ae)
	}
}

// FuzzPutEvents feeds arbitrary PutEvents request bodies: a malformed
// request is a 4xx error, and a well-formed one answers one result per
// entry, FailedEntryCount counting the failed ones.
func FuzzPutEvents(f *testing.F) {
	c := fuzzCloud(f)
	f.Add([]byte(`{"Entries":[{"Source":"bwc.t","DetailType":"t.event","Detail":"{\"payload\":{\"level\":\"high\"}}"}]}`))
	f.Add([]byte(`{"Entries":[{"Source":"bwc.t","DetailType":"t","Detail":"[1]","EventBusName":"arn:aws:events:us-east-1:000000000000:event-bus/bwc","Time":1.5e9,"Resources":["a"]}]}`))
	f.Add([]byte(`{"Entries":[]}`))
	f.Add([]byte(`{"Entries":[{}]}`))
	f.Add([]byte(`{"Entries":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := c.putEvents(context.Background(), body)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		var in putEventsInput
		if json.Unmarshal(body, &in) != nil {
			t.Fatalf("a body that does not decode was accepted: %q", body)
		}
		res := out.(putEventsOutput)
		if len(res.Entries) != len(in.Entries) {
			t.Fatalf("%d results for %d entries", len(res.Entries), len(in.Entries))
		}
		failed := 0
		for _, e := range res.Entries {
			if (e.ErrorCode == "") == (e.EventID == "") {
				t.Fatalf("result %+v: want exactly one of an event id and an error code", e)
			}
			if e.ErrorCode != "" {
				failed++
			}
		}
		if failed != res.FailedEntryCount {
			t.Fatalf("FailedEntryCount %d, %d entries failed", res.FailedEntryCount, failed)
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("the answer does not encode: %v", err)
		}
	})
}

// FuzzStartExecutionInput feeds arbitrary StartExecution request bodies:
// each is answered with an execution ARN and an epoch start date, or with
// a 4xx error.
func FuzzStartExecutionInput(f *testing.F) {
	c := fuzzCloud(f)
	arn := c.MachineARN("t.child")
	seed := func(name, input string) []byte {
		b, _ := json.Marshal(map[string]any{"stateMachineArn": arn, "name": name, "input": input})
		return b
	}
	f.Add(seed("a", `{"n": 2}`))
	f.Add(seed("b", `{"n": "x"}`))
	f.Add(seed("c", `[1, 2`))
	f.Add(seed("bad/name", `{}`))
	f.Add(seed("", `null`))
	f.Add([]byte(`{"stateMachineArn": "nope"}`))
	f.Add([]byte(`{"stateMachineArn": 5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := c.startExecutionOp(context.Background(), body)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		res := out.(map[string]any)
		if s, _ := res["executionArn"].(string); s == "" {
			t.Fatalf("answer %v has no executionArn", res)
		}
		if _, ok := res["startDate"].(float64); !ok {
			t.Fatalf("answer %v: startDate is not epoch seconds", res)
		}
	})
}

// FuzzAPIGatewayEvent sends arbitrary requests through the API Gateway
// front to a function that answers arbitrary bytes: the function gets a
// payload format 2.0 event whose body is the request's, and the front
// answers an HTTP status, never panics.
func FuzzAPIGatewayEvent(f *testing.F) {
	f.Add("POST", "/api/v1/webhooks/a/b", "x=1&y=2", "application/json", "c=1; d=2", []byte(`{"a":1}`), []byte(`{"statusCode":201,"body":"ok"}`))
	f.Add("GET", "/api/v1/executions/abc", "", "", "", []byte{}, []byte(`{"a":1}`))
	f.Add("POST", "/api/v1/webhooks/x", "", "application/octet-stream", "", []byte{0xff, 0x00}, []byte(`{"statusCode":"200","isBase64Encoded":true,"body":"!!"}`))
	f.Add("POST", "/api/v1/webhooks/x", "", "text/plain; charset=\"", "", []byte("hi"), []byte(`{"statusCode":99}`))
	f.Add("PUT", "/api/v1/inquiries/1", "a=%zz", "application/json", "", []byte(`{}`), []byte(`not json`))
	f.Fuzz(func(t *testing.T, method, target, query, ctype, cookie string, body, answer []byte) {
		u, err := url.Parse(target)
		if err != nil || len(u.Path) == 0 || u.Path[0] != '/' {
			t.Skip()
		}
		u.RawQuery = query
		if method == "" || !validMethod(method) {
			t.Skip()
		}
		var got events.APIGatewayV2HTTPRequest
		fn := FunctionFunc(func(_ context.Context, payload []byte) ([]byte, error) {
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatalf("the event does not decode: %v", err)
			}
			sent := []byte(got.Body)
			if got.IsBase64Encoded {
				if sent, err = base64.StdEncoding.DecodeString(got.Body); err != nil {
					t.Fatalf("the base64 body does not decode: %v", err)
				}
			}
			if !bytes.Equal(sent, body) {
				t.Fatalf("the function got body %q, the request had %q", sent, body)
			}
			return answer, nil
		})
		g := &APIGateway{Functions: map[string]Function{routes.FunctionAPI: fn, routes.FunctionWebhook: fn, routes.FunctionInquiry: fn},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		r := &http.Request{Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Host: "127.0.0.1:1", RemoteAddr: "127.0.0.1:2", RequestURI: u.RequestURI()}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code < 100 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
	})
}

// validMethod reports whether m is an HTTP token, as a server would have
// parsed it.
func validMethod(m string) bool {
	for _, r := range m {
		if r <= ' ' || r >= 0x7f || bytes.ContainsRune([]byte(`()<>@,;:\"/[]?={}`), r) {
			return false
		}
	}
	return true
}
