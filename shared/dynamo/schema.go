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
	// IndexByOwner lists one owner's sessions, newest createdAt first.
	IndexByOwner = "byOwner"
	// IndexByOwnerStatus lists one owner's sessions in one status, newest createdAt first.
	IndexByOwnerStatus = "byOwnerStatus"
	// IndexByBoardTime lists every job by its time on the board (job.BoardTime), earliest
	// first: the dispatchers' board, GET /jobs. Only job items carry its keys.
	IndexByBoardTime = "byBoardTime"
)

// SummaryAttributes are what the listing indexes hold of a session besides their keys:
// the session as a listing returns it, seed 001's fields without the conversation
// history (attr.RecentMessages). An index entry is therefore small whatever the history,
// and of what a transition writes only status and updatedAt are in it.
func SummaryAttributes() []string {
	return []string{
		attr.ID, attr.Status, attr.UpdatedAt, attr.Title, attr.TopicIDs, attr.TopicLabels, attr.Progress, attr.Score, attr.TargetScore,
		attr.LastInteractionAt, attr.InterviewerID, attr.ConversationID, attr.RetryPolicy, attr.Labels, attr.Notes, attr.Language, attr.Difficulty,
	}
}

// BoardAttributes are what byBoardTime holds of a job besides its keys: the job as a
// listing returns it, with a copy of its assignment (attr.BoardAssignment).
func BoardAttributes() []string {
	return []string{
		attr.ID, attr.Status, attr.Version, attr.CreatedAt, attr.UpdatedAt, attr.Title, attr.CustomerID, attr.Address,
		attr.RequestedStart, attr.RequestedEnd, attr.CancelledAt, attr.CancelledBy, attr.Reason, attr.BoardAssignment,
	}
}

// CreateTableInput describes the table for local use and tests: on-demand billing, the
// key schema, the sessions' two listing indexes, the jobs' board index and a
// NEW_AND_OLD_IMAGES stream. template.yaml declares the same for AWS.
//
// The indexes are sorted by createdAt, which no transition changes, so a transition
// updates a session's byOwner entry in place (one write unit) and moves only its
// byOwnerStatus entry (a delete and a put); they project the session's summary, so those
// writes cost one unit each however long the conversation is. docs/data-model.md has the
// figures and the migration from the earlier design.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	summary := &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: SummaryAttributes()}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attr.PK), AttributeType: s},
			{AttributeName: aws.String(attr.SK), AttributeType: s},
			{AttributeName: aws.String(attr.OwnerID), AttributeType: s},
			{AttributeName: aws.String(attr.OwnerStatus), AttributeType: s},
			{AttributeName: aws.String(attr.CreatedAt), AttributeType: s},
			{AttributeName: aws.String(attr.Board), AttributeType: s},
			{AttributeName: aws.String(attr.BoardAt), AttributeType: s},
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
					{AttributeName: aws.String(attr.CreatedAt), KeyType: types.KeyTypeRange},
				},
				Projection: summary,
			},
			{
				IndexName: aws.String(IndexByOwnerStatus),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String(attr.OwnerStatus), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String(attr.CreatedAt), KeyType: types.KeyTypeRange},
				},
				Projection: summary,
			},
			{
				IndexName: aws.String(IndexByBoardTime),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String(attr.Board), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String(attr.BoardAt), KeyType: types.KeyTypeRange},
				},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: BoardAttributes()},
			},
		},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
}
