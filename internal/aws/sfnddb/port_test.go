package sfnddb_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/aws/sfnddb"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
)

func task(action string, args map[string]any) *asl.TaskRequest {
	return &asl.TaskRequest{Resource: "arn:aws:states:::dynamodb:" + action, Kind: "dynamodb", Action: action, Parameters: args}
}

func key(pk string) map[string]any {
	return map[string]any{"PK": map[string]any{"S": pk}, "SK": map[string]any{"S": "#"}}
}

// Each call runs against dynalite with Step Functions' argument and result
// shapes, and DynamoDB errors come back under Step Functions' names.
func TestPort(t *testing.T) {
	ctx := context.Background()
	client := dynamotest.StartDynalite(t).Client
	if err := dynamo.CreateTable(ctx, client, "tbl"); err != nil {
		t.Fatal(err)
	}
	next := asl.TaskPortFunc(func(context.Context, *asl.TaskRequest) (asl.TaskResult, error) {
		return asl.TaskResult{Output: "next"}, nil
	})
	p := &sfnddb.Port{API: client, Next: next}
	item := key("A")
	item["n"] = map[string]any{"N": "42"}
	item["m"] = map[string]any{"M": map[string]any{"l": map[string]any{"L": []any{map[string]any{"BOOL": true}, map[string]any{"NULL": true}}}}}
	item["ss"] = map[string]any{"SS": []any{"x", "y"}}
	item["b"] = map[string]any{"B": "aGk="}
	tests := []struct {
		name    string
		req     *asl.TaskRequest
		want    any
		wantErr string
	}{
		{name: "put", req: task("putItem", map[string]any{"TableName": "tbl", "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}), want: map[string]any{}},
		{name: "put again: condition fails", req: task("putItem", map[string]any{"TableName": "tbl", "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}),
			wantErr: "DynamoDB.ConditionalCheckFailedException"},
		{name: "get", req: task("getItem", map[string]any{"TableName": "tbl", "Key": key("A"), "ConsistentRead": true}), want: map[string]any{"Item": item}},
		{name: "get nothing", req: task("getItem", map[string]any{"TableName": "tbl", "Key": key("B")}), want: map[string]any{}},
		{name: "consumed capacity, when asked for", req: task("getItem", map[string]any{"TableName": "tbl", "Key": key("B"), "ReturnConsumedCapacity": "TOTAL"}),
			want: map[string]any{"ConsumedCapacity": map[string]any{"CapacityUnits": 0.5, "TableName": "tbl"}}},
		{name: "update", req: task("updateItem", map[string]any{
			"TableName": "tbl", "Key": key("A"), "UpdateExpression": "SET n = n + :one",
			"ExpressionAttributeValues": map[string]any{":one": map[string]any{"N": "1"}}, "ReturnValues": "UPDATED_NEW",
		}), want: map[string]any{"Attributes": map[string]any{"n": map[string]any{"N": "43"}}}},
		{name: "delete", req: task("deleteItem", map[string]any{"TableName": "tbl", "Key": key("A"), "ReturnValues": "ALL_OLD"}),
			want: map[string]any{"Attributes": func() map[string]any {
				m := map[string]any{}
				for k, v := range item {
					m[k] = v
				}
				m["n"] = map[string]any{"N": "43"}
				return m
			}()}},
		{name: "delete nothing, conditionally", req: task("deleteItem", map[string]any{"TableName": "tbl", "Key": key("A"), "ConditionExpression": "attribute_exists(PK)"}),
			wantErr: "DynamoDB.ConditionalCheckFailedException"},
		{name: "no such table", req: task("getItem", map[string]any{"TableName": "nope", "Key": key("A")}), wantErr: "DynamoDB.ResourceNotFoundException"},
		{name: "bad attribute value", req: task("putItem", map[string]any{"TableName": "tbl", "Item": map[string]any{"PK": "A"}}), wantErr: sfnddb.ErrBadArguments},
		{name: "NULL false", req: task("putItem", map[string]any{"TableName": "tbl", "Item": map[string]any{
			"PK": map[string]any{"S": "N"}, "SK": map[string]any{"S": "#"}, "v": map[string]any{"NULL": false}}}), wantErr: sfnddb.ErrBadArguments},
		{name: "NULL not a boolean", req: task("putItem", map[string]any{"TableName": "tbl", "Item": map[string]any{
			"PK": map[string]any{"S": "N"}, "SK": map[string]any{"S": "#"}, "v": map[string]any{"NULL": "true"}}}), wantErr: sfnddb.ErrBadArguments},
		{name: "unknown argument", req: task("putItem", map[string]any{"TableName": "tbl", "Item": item, "Nope": 1}), wantErr: sfnddb.ErrBadArguments},
		{name: "no table name", req: task("getItem", map[string]any{"Key": key("A")}), wantErr: sfnddb.ErrBadArguments},
		{name: "unsupported call", req: task("query", map[string]any{"TableName": "tbl"}), wantErr: "States.Runtime"},
		{name: "other service", req: &asl.TaskRequest{Kind: "lambda", Action: "invoke"}, want: "next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.RunTask(ctx, tt.req)
			if tt.wantErr != "" {
				var f *asl.Failure
				if !errors.As(err, &f) || f.Name != tt.wantErr {
					t.Fatalf("error %v, want a failure named %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Output, tt.want) {
				t.Errorf("output\n %#v\nwant\n %#v", res.Output, tt.want)
			}
		})
	}
}
