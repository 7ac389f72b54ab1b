// Package attr names the attributes of the lifecycle table's items that are read outside
// shared/dynamo: the keys, and what the table's stream turns into events (shared/eventbus).
// shared/dynamo writes its items with these names, so renaming one breaks every reader at
// compile time. It imports nothing: a stream reader links it without linking the DynamoDB
// client. docs/data-model.md describes the items.
package attr

// Key and index attributes. template.yaml declares the same table; a test keeps the two
// in step.
const (
	PK          = "pk"
	SK          = "sk"
	OwnerID     = "ownerId"
	OwnerStatus = "ownerStatus"
	// CreatedAt is the listing indexes' sort key: it never changes, so a transition does
	// not move a session in them.
	CreatedAt = "createdAt"
	UpdatedAt = "updatedAt"
)

// Attributes of every item.
const (
	// Type is the item's type: TypeInterview, TypeJob or TypeAssignment.
	Type = "type"
	ID   = "id"
	// Status is the entity's status, as the domain packages name it.
	Status  = "status"
	Version = "version"
)

// Item types, the values of Type. A request record (TypeRequest) sits beside the entity a
// request transitioned, so that a retry of the request is never applied again; the stream
// carries its insert, which is not a transition.
const (
	TypeInterview  = "interview"
	TypeJob        = "job"
	TypeAssignment = "assignment"
	TypeRequest    = "request"
	// TypeSlot is a booked quarter-hour of a technician's calendar (pk TECH#<id>).
	TypeSlot = "slot"
)

// ExpiresAt is the table's TTL attribute (epoch seconds): DynamoDB deletes an item some
// time after it (template.yaml, TimeToLiveSpecification). Only request records carry it.
const ExpiresAt = "expiresAt"

// What every transition writes beside Status, Version and UpdatedAt.
const (
	CorrelationID = "correlationId"
	// Reason is the caller's reason, when the transition takes one and was given one
	// (today's that do are cancels). It keeps its first name, cancelReason, so that items
	// and stream records written before the rename read the same.
	Reason = "cancelReason"
	// Actor is a map of ActorSub and ActorRoles: who asked for the transition.
	Actor      = "actor"
	ActorSub   = "sub"
	ActorRoles = "roles"
	// LastAction is the action of the write that made the item as it is ("create",
	// "pause", ...): the stream's events are derived from it.
	LastAction = "lastAction"
	// LastMessageID is the id of the message a recorded interaction appended (Record); its
	// event names it.
	LastMessageID = "lastMessageId"
)

// ResumeAt is when a session paused until a time resumes itself (S, a timestamp): set by
// such a pause, removed by every other transition; its InterviewPaused event carries it, and
// the consumer that schedules the resume reads it there.
const ResumeAt = "resumeAt"

// Assignment attributes. A cancelled job keeps CancelledAssignment, a map of the
// assignment its cancel ended: ID, TechnicianID, ScheduledStart, ScheduledEnd, Status
// (before the cancel) and Version.
const (
	TechnicianID        = "technicianId"
	ScheduledStart      = "scheduledStart"
	ScheduledEnd        = "scheduledEnd"
	CancelledAssignment = "cancelledAssignment"
)

// The dispatchers' board (GET /jobs): every job item carries its entry of the byBoardTime
// index, which every job write keeps in step. Board is the index's partition key, the same
// on every job (BoardJobs); BoardAt its sort key, "<board time>#<job id>" (job.BoardTime);
// BoardAssignment a copy of the job's assignment as the listing returns it, so that one
// Query of the index answers a page.
const (
	Board           = "board"
	BoardJobs       = "jobs"
	BoardAt         = "boardAt"
	BoardAssignment = "boardAssignment"
)
