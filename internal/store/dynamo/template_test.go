package dynamo_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
)

// The enforcement template renders the item layout of docs/storage.md, and
// leaves out what a record does not have.
func TestEnforcementTemplate(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 2, 3, 456789000, time.UTC)
	tests := []struct {
		name string
		e    store.Enforcement
		want map[string]string
	}{
		{
			name: "traced, expiring",
			e:    store.Enforcement{ID: "en-1", Rule: "p.r", TraceTag: "tr", Status: store.EnforcementSucceeded, EnforcedAt: at, ExpiresAt: at.Add(time.Hour)},
			want: map[string]string{
				"PK": "EN#en-1", "SK": "#", "typ": "EN", "exp": "1796004123456789000", "ttl": "1796004124",
				"GSI1PK": "EN", "GSI1SK": "01796000523456789000#en-1", "GSI2PK": "ENR#p.r", "GSI2SK": "01796000523456789000#en-1",
				"GSI8PK": "TR#tr", "GSI8SK": "01796000523456789000#en-1",
			},
		},
		{
			name: "untraced, kept for ever",
			e:    store.Enforcement{ID: "en-2", Rule: "p.r", Status: store.EnforcementFailed, EnforcedAt: at},
			want: map[string]string{
				"PK": "EN#en-2", "SK": "#", "typ": "EN",
				"GSI1PK": "EN", "GSI1SK": "01796000523456789000#en-2", "GSI2PK": "ENR#p.r", "GSI2SK": "01796000523456789000#en-2",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := dynamo.EnforcementValues(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			it, err := dynamo.RenderItem(dynamo.EnforcementTemplate(), v)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for k, av := range it {
				names = append(names, k)
				if k == "doc" {
					continue
				}
				if got := value(av); got != tt.want[k] {
					t.Errorf("%s = %q, want %q", k, got, tt.want[k])
				}
			}
			sort.Strings(names)
			want := []string{"doc"}
			for k := range tt.want {
				want = append(want, k)
			}
			sort.Strings(want)
			if strings.Join(names, ",") != strings.Join(want, ",") {
				t.Errorf("attributes %v, want %v", names, want)
			}
		})
	}
	if _, err := dynamo.RenderItem(dynamo.EnforcementTemplate(), map[dynamo.Field]string{dynamo.FieldID: "x"}); err == nil {
		t.Error("RenderItem without the rule and the doc: no error")
	}
}

func value(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return "?"
}
