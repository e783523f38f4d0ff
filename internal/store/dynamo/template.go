package dynamo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/store"
)

// An item template is the layout of one record type's item: its attribute
// names, DynamoDB types and how each value is made from the record's
// fields. The adapter renders it with the record's values
// (EnforcementValues); the generator of the direct rule machines
// (internal/aws/direct) renders the same template with JSONata
// expressions, so that an enforcement a state machine writes with Step
// Functions' DynamoDB integration is the item this adapter writes.

// Field names one value an item template is made from.
type Field string

// The fields of an enforcement item.
const (
	// FieldID is the enforcement id.
	FieldID Field = "id"
	// FieldRule is the rule reference.
	FieldRule Field = "rule"
	// FieldTraceTag is the trace tag; empty when the event has none.
	FieldTraceTag Field = "trace_tag"
	// FieldDoc is the record (store.Enforcement) as JSON.
	FieldDoc Field = "doc"
	// FieldTime is EnforcedAt in Unix nanoseconds, zero-padded to 20
	// digits (it orders the indexes by time).
	FieldTime Field = "time"
	// FieldExpiry is ExpiresAt in Unix nanoseconds; empty when the
	// record never expires.
	FieldExpiry Field = "expiry"
	// FieldTTL is the table's TTL attribute: ExpiresAt in Unix seconds,
	// rounded up; empty when the record never expires.
	FieldTTL Field = "ttl"
)

// Part is a piece of an attribute value: literal text, or a field's value.
type Part struct {
	Text  string
	Field Field
}

// Attribute is one attribute of an item template.
type Attribute struct {
	Name string
	// Type is the DynamoDB type: "S" or "N".
	Type string
	// Parts, concatenated, are the value.
	Parts []Part
	// If, when set, names the field without which the attribute is left
	// out of the item (an empty value).
	If Field
}

func lit(t string) Part    { return Part{Text: t} }
func field(f Field) Part   { return Part{Field: f} }
func timeKeyParts() []Part { return []Part{field(FieldTime), lit("#"), field(FieldID)} }

// EnforcementTemplate is the layout of an enforcement item (docs/storage.md):
// PK EN#<id>, SK #, the record as JSON in doc, the feed (GSI1), by-rule
// (GSI2) and by-trace (GSI8) indexes ordered by time, and the expiry.
func EnforcementTemplate() []Attribute {
	return []Attribute{
		{Name: attrPK, Type: "S", Parts: []Part{lit("EN#"), field(FieldID)}},
		{Name: attrSK, Type: "S", Parts: []Part{lit(recordSK)}},
		{Name: "typ", Type: "S", Parts: []Part{lit("EN")}},
		{Name: "doc", Type: "S", Parts: []Part{field(FieldDoc)}},
		{Name: "exp", Type: "N", Parts: []Part{field(FieldExpiry)}, If: FieldExpiry},
		{Name: attrTTL, Type: "N", Parts: []Part{field(FieldTTL)}, If: FieldTTL},
		{Name: gsiPK(gFeed), Type: "S", Parts: []Part{lit("EN")}},
		{Name: gsiSK(gFeed), Type: "S", Parts: timeKeyParts()},
		{Name: gsiPK(gName), Type: "S", Parts: []Part{lit("ENR#"), field(FieldRule)}},
		{Name: gsiSK(gName), Type: "S", Parts: timeKeyParts()},
		{Name: gsiPK(gTrace), Type: "S", Parts: []Part{lit("TR#"), field(FieldTraceTag)}, If: FieldTraceTag},
		{Name: gsiSK(gTrace), Type: "S", Parts: timeKeyParts(), If: FieldTraceTag},
	}
}

// EnforcementValues are the template fields of a prepared enforcement
// (store.PrepareEnforcement).
func EnforcementValues(e store.Enforcement) (map[Field]string, error) {
	doc, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding enforcement %s: %w", e.ID, err)
	}
	v := map[Field]string{
		FieldID:       e.ID,
		FieldRule:     e.Rule,
		FieldTraceTag: e.TraceTag,
		FieldDoc:      string(doc),
		FieldTime:     fmt.Sprintf("%020d", e.EnforcedAt.UnixNano()),
	}
	if !e.ExpiresAt.IsZero() {
		v[FieldExpiry] = strconv.FormatInt(e.ExpiresAt.UnixNano(), 10)
		v[FieldTTL] = strconv.FormatInt(ttlSeconds(e.ExpiresAt), 10)
	}
	return v, nil
}

// ttlSeconds is the TTL attribute of an expiry: rounded up, so that
// DynamoDB never deletes a record early.
func ttlSeconds(exp time.Time) int64 { return exp.Add(time.Second - 1).Unix() }

// RenderItem renders an item template with values. It fails when a value
// the template needs is missing.
func RenderItem(tmpl []Attribute, values map[Field]string) (map[string]types.AttributeValue, error) {
	it := item{}
	for _, a := range tmpl {
		if a.If != "" && values[a.If] == "" {
			continue
		}
		var b strings.Builder
		for _, p := range a.Parts {
			if p.Field == "" {
				b.WriteString(p.Text)
				continue
			}
			v, ok := values[p.Field]
			if !ok {
				return nil, fmt.Errorf("rendering attribute %s: no value for field %s", a.Name, p.Field)
			}
			b.WriteString(v)
		}
		switch a.Type {
		case "S":
			it[a.Name] = s(b.String())
		case "N":
			it[a.Name] = &types.AttributeValueMemberN{Value: b.String()}
		default:
			return nil, fmt.Errorf("rendering attribute %s: type %q, expected S or N", a.Name, a.Type)
		}
	}
	return it, nil
}
