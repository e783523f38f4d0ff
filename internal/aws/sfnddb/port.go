// Package sfnddb runs Step Functions' optimized DynamoDB integration
// (arn:aws:states:::dynamodb:putItem, getItem, updateItem, deleteItem) for
// the ASL interpreter (internal/asl) over the AWS SDK: the Task state's
// arguments are the DynamoDB API request in its JSON form, the result is
// the response in the same form, and a DynamoDB error fails the task with
// the name Step Functions gives it (DynamoDB.<ErrorCode>, e.g.
// DynamoDB.ConditionalCheckFailedException), which Retry and Catch match.
//
// The tests of the direct rule machines (internal/aws/direct) run it
// against dynalite; the local cloud routes these tasks to it:
//
//	port := &sfnddb.Port{API: dynamodbClient, Next: otherTasks}
//	in := asl.New(asl.WithTaskPort(port))
//
// A Port is safe for concurrent use when its API and Next are.
package sfnddb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/bwc-project/bwc/internal/asl"
)

// dynamoAPI is the subset of the DynamoDB client the port calls.
type dynamoAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ dynamoAPI = (*dynamodb.Client)(nil)

// Port is an asl.TaskPort for the DynamoDB integration.
type Port struct {
	// API is the DynamoDB client (a *dynamodb.Client).
	API dynamoAPI
	// Next runs every other task; nil fails them with States.TaskFailed.
	Next asl.TaskPort
}

var _ asl.TaskPort = (*Port)(nil)

// Error names of failures that are not DynamoDB's.
const (
	// ErrBadArguments: the task's arguments are not a valid request.
	ErrBadArguments = "DynamoDB.ValidationException"
	// ErrUnknown: the call failed without a service error code (network).
	ErrUnknown = "DynamoDB.AmazonDynamoDBException"
)

// RunTask implements asl.TaskPort. Outcomes: the response as the
// integration returns it (putItem, updateItem, deleteItem: Attributes
// when ReturnValues asks for them; getItem: Item, absent when there is
// none; each: ConsumedCapacity when ReturnConsumedCapacity asks for it,
// its CapacityUnits, ReadCapacityUnits, WriteCapacityUnits and
// TableName); an *asl.Failure named DynamoDB.<ErrorCode> for a service error;
// DynamoDB.ValidationException for arguments that are not a request; a
// .sync or .waitForTaskToken pattern, which the integration does not
// support, fails with States.Runtime.
func (p *Port) RunTask(ctx context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	if req.Kind != "dynamodb" {
		if p.Next == nil {
			return asl.TaskResult{}, &asl.Failure{Name: asl.ErrTaskFailed, Cause: fmt.Sprintf("no task port for %s", req.Resource)}
		}
		return p.Next.RunTask(ctx, req)
	}
	if req.Pattern != "" {
		return asl.TaskResult{}, &asl.Failure{Name: "States.Runtime", Cause: fmt.Sprintf("%s: the DynamoDB integration supports only request-response", req.Resource)}
	}
	raw, err := json.Marshal(req.Parameters)
	if err != nil {
		return asl.TaskResult{}, badArgs(req, err)
	}
	var out any
	switch req.Action {
	case "putItem":
		out, err = call[putItemInput](ctx, req, raw, p.API.PutItem, func(r *dynamodb.PutItemOutput) any {
			return response(map[string]map[string]any{"Attributes": fromItem(r.Attributes), "ConsumedCapacity": capacity(r.ConsumedCapacity)})
		})
	case "getItem":
		out, err = call[getItemInput](ctx, req, raw, p.API.GetItem, func(r *dynamodb.GetItemOutput) any {
			return response(map[string]map[string]any{"Item": fromItem(r.Item), "ConsumedCapacity": capacity(r.ConsumedCapacity)})
		})
	case "updateItem":
		out, err = call[updateItemInput](ctx, req, raw, p.API.UpdateItem, func(r *dynamodb.UpdateItemOutput) any {
			return response(map[string]map[string]any{"Attributes": fromItem(r.Attributes), "ConsumedCapacity": capacity(r.ConsumedCapacity)})
		})
	case "deleteItem":
		out, err = call[deleteItemInput](ctx, req, raw, p.API.DeleteItem, func(r *dynamodb.DeleteItemOutput) any {
			return response(map[string]map[string]any{"Attributes": fromItem(r.Attributes), "ConsumedCapacity": capacity(r.ConsumedCapacity)})
		})
	default:
		return asl.TaskResult{}, &asl.Failure{Name: "States.Runtime", Cause: fmt.Sprintf("%s: the DynamoDB integration has putItem, getItem, updateItem and deleteItem", req.Resource)}
	}
	if err != nil {
		return asl.TaskResult{}, err
	}
	return asl.TaskResult{Output: out}, nil
}

// sdkArgs are a call's arguments as the task gives them, which convert to
// the SDK's input S.
type sdkArgs[S any] interface{ sdk() (S, error) }

// call decodes the task's arguments into I, makes the SDK call with them
// and renders its answer as Step Functions does. Errors: badArgs for
// arguments that do not decode or convert, failure for the call's.
func call[I sdkArgs[S], S, R any](ctx context.Context, req *asl.TaskRequest, raw []byte,
	do func(context.Context, S, ...func(*dynamodb.Options)) (R, error), answer func(R) any) (any, error) {
	var in I
	if err := strictDecode(raw, &in); err != nil {
		return nil, badArgs(req, err)
	}
	args, err := in.sdk()
	if err != nil {
		return nil, badArgs(req, err)
	}
	res, err := do(ctx, args)
	if err != nil {
		return nil, failure(err)
	}
	return answer(res), nil
}

// capacity is a ConsumedCapacity in the response's JSON form (its set
// members); nil for none.
func capacity(cc *types.ConsumedCapacity) map[string]any {
	if cc == nil {
		return nil
	}
	out := map[string]any{}
	for name, v := range map[string]*float64{"CapacityUnits": cc.CapacityUnits, "ReadCapacityUnits": cc.ReadCapacityUnits, "WriteCapacityUnits": cc.WriteCapacityUnits} {
		if v != nil {
			out[name] = *v
		}
	}
	if cc.TableName != nil {
		out["TableName"] = *cc.TableName
	}
	return out
}

// response drops absent members (no item is no "Item" key).
func response(m map[string]map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func badArgs(req *asl.TaskRequest, err error) error {
	return &asl.Failure{Name: ErrBadArguments, Cause: fmt.Sprintf("%s arguments: %v", req.Action, err)}
}

// failure names a DynamoDB error as Step Functions does.
func failure(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return &asl.Failure{Name: "DynamoDB." + api.ErrorCode(), Cause: api.ErrorMessage()}
	}
	return &asl.Failure{Name: ErrUnknown, Cause: err.Error()}
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// expression is the part of a request every call shares.
type expression struct {
	ExpressionAttributeNames  map[string]string          `json:",omitempty"`
	ExpressionAttributeValues map[string]json.RawMessage `json:",omitempty"`
}

func (e expression) values() (map[string]types.AttributeValue, error) {
	if e.ExpressionAttributeValues == nil {
		return nil, nil
	}
	return toItem(e.ExpressionAttributeValues, "ExpressionAttributeValues")
}

type putItemInput struct {
	TableName                           string
	Item                                map[string]json.RawMessage
	ConditionExpression                 *string
	ReturnValues                        string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	ConditionalOperator                 string
	ReturnValuesOnConditionCheckFailure string
	expression
}

func (in putItemInput) sdk() (*dynamodb.PutItemInput, error) {
	if in.TableName == "" || in.Item == nil {
		return nil, errors.New("TableName and Item are required")
	}
	it, err := toItem(in.Item, "Item")
	if err != nil {
		return nil, err
	}
	vals, err := in.values()
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemInput{
		TableName: &in.TableName, Item: it, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: vals,
		ReturnValues:                        types.ReturnValue(in.ReturnValues),
		ReturnConsumedCapacity:              types.ReturnConsumedCapacity(in.ReturnConsumedCapacity),
		ReturnItemCollectionMetrics:         types.ReturnItemCollectionMetrics(in.ReturnItemCollectionMetrics),
		ConditionalOperator:                 types.ConditionalOperator(in.ConditionalOperator),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(in.ReturnValuesOnConditionCheckFailure),
	}, nil
}

type getItemInput struct {
	TableName                string
	Key                      map[string]json.RawMessage
	ConsistentRead           *bool
	ProjectionExpression     *string
	ReturnConsumedCapacity   string
	ExpressionAttributeNames map[string]string `json:",omitempty"`
}

func (in getItemInput) sdk() (*dynamodb.GetItemInput, error) {
	if in.TableName == "" || in.Key == nil {
		return nil, errors.New("TableName and Key are required")
	}
	key, err := toItem(in.Key, "Key")
	if err != nil {
		return nil, err
	}
	return &dynamodb.GetItemInput{
		TableName: &in.TableName, Key: key, ConsistentRead: in.ConsistentRead, ProjectionExpression: in.ProjectionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ReturnConsumedCapacity: types.ReturnConsumedCapacity(in.ReturnConsumedCapacity),
	}, nil
}

type updateItemInput struct {
	TableName                           string
	Key                                 map[string]json.RawMessage
	UpdateExpression                    *string
	ConditionExpression                 *string
	ReturnValues                        string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	ReturnValuesOnConditionCheckFailure string
	expression
}

func (in updateItemInput) sdk() (*dynamodb.UpdateItemInput, error) {
	if in.TableName == "" || in.Key == nil {
		return nil, errors.New("TableName and Key are required")
	}
	key, err := toItem(in.Key, "Key")
	if err != nil {
		return nil, err
	}
	vals, err := in.values()
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemInput{
		TableName: &in.TableName, Key: key, UpdateExpression: in.UpdateExpression, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: vals,
		ReturnValues:                        types.ReturnValue(in.ReturnValues),
		ReturnConsumedCapacity:              types.ReturnConsumedCapacity(in.ReturnConsumedCapacity),
		ReturnItemCollectionMetrics:         types.ReturnItemCollectionMetrics(in.ReturnItemCollectionMetrics),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(in.ReturnValuesOnConditionCheckFailure),
	}, nil
}

type deleteItemInput struct {
	TableName                           string
	Key                                 map[string]json.RawMessage
	ConditionExpression                 *string
	ReturnValues                        string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	ReturnValuesOnConditionCheckFailure string
	expression
}

func (in deleteItemInput) sdk() (*dynamodb.DeleteItemInput, error) {
	if in.TableName == "" || in.Key == nil {
		return nil, errors.New("TableName and Key are required")
	}
	key, err := toItem(in.Key, "Key")
	if err != nil {
		return nil, err
	}
	vals, err := in.values()
	if err != nil {
		return nil, err
	}
	return &dynamodb.DeleteItemInput{
		TableName: &in.TableName, Key: key, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: vals,
		ReturnValues:                        types.ReturnValue(in.ReturnValues),
		ReturnConsumedCapacity:              types.ReturnConsumedCapacity(in.ReturnConsumedCapacity),
		ReturnItemCollectionMetrics:         types.ReturnItemCollectionMetrics(in.ReturnItemCollectionMetrics),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(in.ReturnValuesOnConditionCheckFailure),
	}, nil
}

// toItem decodes attribute values in DynamoDB's JSON form ({"S": "x"},
// {"N": "1"}, {"M": {...}}, ...).
func toItem(m map[string]json.RawMessage, at string) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, raw := range m {
		v, err := toValue(raw, at+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func toValue(raw json.RawMessage, at string) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(raw, &typed); err != nil || len(typed) != 1 {
		return nil, fmt.Errorf("%s: expected an attribute value with one type key (S, N, B, BOOL, NULL, M, L, SS, NS, BS), found %s", at, raw)
	}
	for t, v := range typed {
		switch t {
		case "S", "N":
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return nil, fmt.Errorf("%s.%s: expected a string, found %s", at, t, v)
			}
			if t == "S" {
				return &types.AttributeValueMemberS{Value: str}, nil
			}
			return &types.AttributeValueMemberN{Value: str}, nil
		case "B":
			var b []byte // encoding/json decodes base64
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, fmt.Errorf("%s.B: expected base64 text, found %s", at, v)
			}
			return &types.AttributeValueMemberB{Value: b}, nil
		case "BOOL":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, fmt.Errorf("%s.BOOL: expected true or false, found %s", at, v)
			}
			return &types.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			// As DynamoDB: "Null attribute value types must have the
			// value of true".
			var b bool
			if err := json.Unmarshal(v, &b); err != nil || !b {
				return nil, fmt.Errorf("%s.NULL: expected true (a NULL attribute value must be true), found %s", at, v)
			}
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "M":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return nil, fmt.Errorf("%s.M: expected an object, found %s", at, v)
			}
			item, err := toItem(m, at+".M")
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberM{Value: item}, nil
		case "L":
			var l []json.RawMessage
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, fmt.Errorf("%s.L: expected an array, found %s", at, v)
			}
			out := make([]types.AttributeValue, 0, len(l))
			for i, e := range l {
				ev, err := toValue(e, fmt.Sprintf("%s.L[%d]", at, i))
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		case "SS", "NS":
			var l []string
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, fmt.Errorf("%s.%s: expected an array of strings, found %s", at, t, v)
			}
			if t == "SS" {
				return &types.AttributeValueMemberSS{Value: l}, nil
			}
			return &types.AttributeValueMemberNS{Value: l}, nil
		case "BS":
			var l [][]byte
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, fmt.Errorf("%s.BS: expected an array of base64 texts, found %s", at, v)
			}
			return &types.AttributeValueMemberBS{Value: l}, nil
		default:
			return nil, fmt.Errorf("%s: unknown attribute type %q", at, t)
		}
	}
	return nil, fmt.Errorf("%s: expected one type key", at)
}

// fromItem encodes an item in DynamoDB's JSON form; nil for no item.
func fromItem(it map[string]types.AttributeValue) map[string]any {
	if it == nil {
		return nil
	}
	out := make(map[string]any, len(it))
	for k, v := range it {
		out[k] = fromValue(v)
	}
	return out
}

func fromValue(v types.AttributeValue) map[string]any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(x.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": fromItem(x.Value)}
	case *types.AttributeValueMemberL:
		l := make([]any, 0, len(x.Value))
		for _, e := range x.Value {
			l = append(l, fromValue(e))
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": sortedStrings(x.Value)}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": sortedStrings(x.Value)}
	case *types.AttributeValueMemberBS:
		l := make([]any, 0, len(x.Value))
		for _, b := range x.Value {
			l = append(l, base64.StdEncoding.EncodeToString(b))
		}
		return map[string]any{"BS": l}
	}
	return map[string]any{"NULL": true}
}

func sortedStrings(l []string) []any {
	c := append([]string(nil), l...)
	sort.Strings(c)
	out := make([]any, len(c))
	for i, s := range c {
		out[i] = s
	}
	return out
}
