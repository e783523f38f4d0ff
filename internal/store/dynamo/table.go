package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// Attribute names.
const (
	attrPK  = "PK"
	attrSK  = "SK"
	attrTTL = "ttl" // the table's TTL attribute (Unix seconds)
)

// gsiCount is how many overloaded global secondary indexes the table has:
// GSI1..GSI9, keyed GSInPK / GSInSK (strings).
const gsiCount = 9

func gsiName(n int) string { return fmt.Sprintf("GSI%d", n) }
func gsiPK(n int) string   { return fmt.Sprintf("GSI%dPK", n) }
func gsiSK(n int) string   { return fmt.Sprintf("GSI%dSK", n) }

// StatusIndex is the name of the index of records by status (executions
// and inquiries; docs/storage.md): the one the inquiry sweep queries, so
// IAM can grant it alone.
func StatusIndex() string { return gsiName(gStatus) }

// tableAPI is the part of the DynamoDB client CreateTable uses.
type tableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// TableInput is the table definition (on-demand billing), as the CDK stack
// also declares it.
func TableInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
	}
	for n := 1; n <= gsiCount; n++ {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(gsiPK(n)), AttributeType: types.ScalarAttributeTypeS},
			types.AttributeDefinition{AttributeName: aws.String(gsiSK(n)), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(gsiName(n)),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(gsiPK(n)), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(gsiSK(n)), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return in
}

// CreateTable creates the table, waits until it is active and enables TTL
// on the ttl attribute. A server without UpdateTimeToLive (dynalite) is
// accepted: reads hide expired records anyway. (In production the CDK stack
// creates the table; this is for development and tests.) A table that
// exists already is waited for as a new one: the SDK retries a create
// whose answer was lost, which then finds the table in use.
func CreateTable(ctx context.Context, api tableAPI, name string) error {
	if _, err := api.CreateTable(ctx, TableInput(name)); err != nil {
		// ResourceInUse: the table exists, most often because the SDK
		// retried a create whose first answer was lost; wait for it as for
		// a new one.
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("creating table %s: %w", name, err)
		}
	}
	for {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("waiting for table %s: %w", name, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for table %s: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	_, err := api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enabling TTL on table %s: %w", name, err)
	}
	return nil
}
