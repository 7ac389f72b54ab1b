// Package dynamo stores the lifecycle entities in one DynamoDB table. It is the adapter
// between the domain packages and DynamoDB: it builds each transition's conditional write
// from the domain's rules and turns failed conditions back into domain errors.
// docs/data-model.md describes the table.
package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
)

// Index names. template.yaml declares the same table; a test keeps the two in step.
const (
	// IndexByOwner lists one owner's items, newest updatedAt first.
	IndexByOwner = "byOwner"
	// IndexByOwnerStatus lists one owner's items in one status, newest updatedAt first.
	IndexByOwnerStatus = "byOwnerStatus"
)

// CreateTableInput describes the table for local use and tests: on-demand billing, the
// key schema, both listing indexes and a NEW_AND_OLD_IMAGES stream. template.yaml declares
// the same for AWS.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attr.PK), AttributeType: s},
			{AttributeName: aws.String(attr.SK), AttributeType: s},
			{AttributeName: aws.String(attr.OwnerID), AttributeType: s},
			{AttributeName: aws.String(attr.OwnerStatus), AttributeType: s},
			{AttributeName: aws.String(attr.UpdatedAt), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attr.PK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attr.SK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName: aws.String(IndexByOwner),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String(attr.OwnerID), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String(attr.UpdatedAt), KeyType: types.KeyTypeRange},
				},
				Projection: all,
			},
			{
				IndexName: aws.String(IndexByOwnerStatus),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String(attr.OwnerStatus), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String(attr.UpdatedAt), KeyType: types.KeyTypeRange},
				},
				Projection: all,
			},
		},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
}
