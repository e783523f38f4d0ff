package goaction_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/runner/goaction"
)

func TestServe(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		h       goaction.Handler
		wantOut string
		wantErr bool
	}{
		{
			name: "result",
			in:   `{"execution_id":"e1","action":"p.a","parameters":{"n":2}}`,
			h: func(_ context.Context, r goaction.Request) (any, error) {
				return map[string]any{"id": r.ExecutionID, "action": r.Action, "n": r.Parameters["n"]}, nil
			},
			wantOut: `{"result":{"action":"p.a","id":"e1","n":2}}`,
		},
		{
			name:    "null result",
			in:      `{}`,
			h:       func(context.Context, goaction.Request) (any, error) { return nil, nil },
			wantOut: `{"result":null}`,
		},
		{
			name: "named error wrapped with context",
			in:   `{}`,
			h: func(context.Context, goaction.Request) (any, error) {
				return nil, fmt.Errorf("looking up: %w", goaction.Errorf("p.NotFound", true, "no %s", "x"))
			},
			wantOut: `{"error":{"name":"p.NotFound","message":"looking up: p.NotFound: no x","retryable":true}}`,
			wantErr: true,
		},
		{
			name:    "plain error",
			in:      `{}`,
			h:       func(context.Context, goaction.Request) (any, error) { return nil, errors.New("bad") },
			wantOut: `{"error":{"name":"","message":"bad"}}`,
			wantErr: true,
		},
		{
			name:    "panic",
			in:      `{}`,
			h:       func(context.Context, goaction.Request) (any, error) { panic("oh") },
			wantOut: `{"error":{"name":"","message":"panic: oh"}}`,
			wantErr: true,
		},
		{
			name:    "unencodable result",
			in:      `{}`,
			h:       func(context.Context, goaction.Request) (any, error) { return func() {}, nil },
			wantOut: `{"error":{"name":"","message":"encoding the result: json: unsupported type: func()"}}`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := goaction.Serve(context.Background(), strings.NewReader(tt.in), &out, tt.h)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v", err)
			}
			if got := strings.TrimSpace(out.String()); got != tt.wantOut {
				t.Errorf("out = %s\nwant %s", got, tt.wantOut)
			}
		})
	}
	var out bytes.Buffer
	if err := goaction.Serve(context.Background(), strings.NewReader("{"), &out, nil); err == nil || out.Len() != 0 {
		t.Errorf("bad request: err %v, out %q", err, out.String())
	}
}
