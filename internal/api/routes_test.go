package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/api/routes"
	"github.com/bwc-project/bwc/internal/store"
)

// New takes method values of these ports; nothing here calls them.
type stubRunner struct{ Runner }

func (stubRunner) Pause(context.Context, string) (store.Execution, error) {
	return store.Execution{}, nil
}
func (stubRunner) Resume(context.Context, string) (store.Execution, error) {
	return store.Execution{}, nil
}

type stubRecords struct{ Records }

func (stubRecords) GetExecution(context.Context, string) (store.Execution, error) {
	return store.Execution{}, nil
}
func (stubRecords) GetTriggerInstance(context.Context, string) (store.TriggerInstance, error) {
	return store.TriggerInstance{}, nil
}
func (stubRecords) GetEnforcement(context.Context, string) (store.Enforcement, error) {
	return store.Enforcement{}, nil
}
func (stubRecords) GetTrace(context.Context, string) (store.Trace, error) { return store.Trace{}, nil }
func (stubRecords) GetInquiry(context.Context, string) (store.Inquiry, error) {
	return store.Inquiry{}, nil
}

// TestRoutesAreTheServers holds Routes to the patterns New registers, both
// ways, and checks each route's function.
func TestRoutesAreTheServers(t *testing.T) {
	s := New(nil, stubRunner{}, nil, stubRecords{}, nil, Options{})
	var table []string
	for _, r := range Routes() {
		table = append(table, r.Pattern())
	}
	got := append([]string(nil), s.patterns...)
	sort.Strings(got)
	sort.Strings(table)
	if !reflect.DeepEqual(got, table) {
		t.Errorf("the server registers\n  %s\nRoutes() lists\n  %s", strings.Join(got, "\n  "), strings.Join(table, "\n  "))
	}
	for _, r := range Routes() {
		t.Run(r.Pattern(), func(t *testing.T) {
			path := strings.NewReplacer("{url...}", "team/alert", "{id}", "x1", "{ref}", "p.a", "{tag}", "t1", "{scope}", "system", "{name}", "k").Replace(r.Path)
			_, pattern := s.mux.Handler(httptest.NewRequest(r.Method, path, nil))
			if pattern != r.Pattern() {
				t.Errorf("%s %s is served by %q", r.Method, path, pattern)
			}
			want := routes.FunctionAPI
			switch {
			case strings.HasPrefix(r.Path, "/api/v1/webhooks/"):
				want = routes.FunctionWebhook
			case strings.HasSuffix(r.Path, "/respond"):
				want = routes.FunctionInquiry
			}
			if r.Function != want {
				t.Errorf("function %s, want %s", r.Function, want)
			}
			if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodDelete {
				t.Errorf("method %s", r.Method)
			}
		})
	}
}
