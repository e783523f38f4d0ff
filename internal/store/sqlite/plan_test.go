package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

// TestListingPlans guards the listing speed without timing anything: every
// execution listing must be an index range scan in the listing's order —
// no table scan, no sort — and the newest-failed-of-one-action listing must
// use the (action, status, started_at, id) index.
func TestListingPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bwc.db")
	_ = open(t, path, store.Options{}) // creates the schema
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tok, _ := store.EncodeToken(map[string]any{"t": 1, "id": "x"})
	cases := []struct {
		name  string
		q     store.ExecutionQuery
		index string
	}{
		{"newest failed of one action", store.ExecutionQuery{Action: "a.b", Status: store.StatusFailed}, "ex_action_status"},
		{"next page of it", store.ExecutionQuery{Action: "a.b", Status: store.StatusFailed, Token: tok}, "ex_action_status"},
		{"all", store.ExecutionQuery{}, "ex_time"},
		{"time range", store.ExecutionQuery{TimeRange: store.TimeRange{Since: storetest.T0, Until: storetest.T0.Add(time.Hour)}}, "ex_time"},
		{"action", store.ExecutionQuery{Action: "a.b"}, "ex_action"},
		{"status", store.ExecutionQuery{Status: store.StatusRunning}, "ex_status"},
		{"rule", store.ExecutionQuery{Rule: "r"}, "ex_rule"},
		{"trigger instance", store.ExecutionQuery{TriggerInstanceID: "ti"}, "ex_trigger"},
		{"parent", store.ExecutionQuery{ParentID: "p"}, "ex_parent"},
		{"trace", store.ExecutionQuery{TraceTag: "t"}, "ex_trace"},
		{"user", store.ExecutionQuery{User: "u"}, "ex_user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			query, args, err := sqlite.ExecutionListSQL(c.q, 50, storetest.T0)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := raw.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			p := strings.Join(plan, "; ")
			uses := regexp.MustCompile(`\bINDEX ` + c.index + `\b`)
			if strings.Contains(p, "TEMP B-TREE") || !uses.MatchString(p) {
				t.Fatalf("plan %q: want a scan of index %s without a sort", p, c.index)
			}
		})
	}
}
