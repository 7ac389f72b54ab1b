// Package attr names every attribute of the lifecycle table's items, and the keys of the
// maps among them: the table's keys, what its stream turns into events (shared/eventbus),
// and what only shared/dynamo reads and writes. Neither shared/dynamo nor the stream's
// reader (shared/eventbus) spells these names itself, so renaming one breaks every reader
// and writer at compile time. The values are the names as stored: changing one is a migration of the
// stored items. It imports nothing: a stream reader links it without linking the DynamoDB
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
	// PreviousStatus is the status the last transition left.
	PreviousStatus = "previousStatus"
	CorrelationID  = "correlationId"
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

// Transition stamps: when a transition happened (S, a timestamp) and, for a cancel, who made
// it (the actor's sub). The domain's transition rows name the stamp they set by its value
// (interview.Transition.StampedAt, job.Transition.StampedAt); a test in shared/dynamo keeps
// every row's stamp one of these.
const (
	// CancelledAt and CancelledBy are set by a cancel: of a session, a job or an
	// assignment.
	CancelledAt = "cancelledAt"
	CancelledBy = "cancelledBy"
	// PausedAt is set by a session's pause; ResumedAt by its resume, scheduled or not.
	PausedAt  = "pausedAt"
	ResumedAt = "resumedAt"
	// CompletedAt is set by the completion of a session or of a job.
	CompletedAt = "completedAt"
	// LastInteractionAt is set by a session's recorded interaction.
	LastInteractionAt = "lastInteractionAt"
	// AssignedAt is set on a job by an assignment; RescheduledAt and ConfirmedAt on a job
	// and its assignment by a reschedule and a confirm; StartedAt on a job by a start.
	AssignedAt    = "assignedAt"
	RescheduledAt = "rescheduledAt"
	ConfirmedAt   = "confirmedAt"
	StartedAt     = "startedAt"
)

// Attributes of an interview session (seed 001's fields), besides the keys, the transition
// attributes and the stamps.
const (
	// Title is a session's title, and a job's.
	Title = "title"
	// TopicIDs and TopicLabels are lists of strings; TopicIDs is always there (it may be
	// empty).
	TopicIDs    = "topicIds"
	TopicLabels = "topicLabels"
	// Progress and Score are numbers: how far the session has come and its score, which a
	// recorded interaction and a completion may set.
	Progress    = "progress"
	Score       = "score"
	TargetScore = "targetScore"
	// InterviewerID and ConversationID name the interviewer and the conversation service's
	// conversation.
	InterviewerID  = "interviewerId"
	ConversationID = "conversationId"
	// RetryPolicy is a map of MinCooldownHours and AutoSuggestIfBelow, both numbers.
	RetryPolicy        = "retryPolicy"
	MinCooldownHours   = "minCooldownHours"
	AutoSuggestIfBelow = "autoSuggestIfBelow"
	// Labels is a list of strings; Notes and Language strings; Difficulty a number (1-5).
	Labels     = "labels"
	Notes      = "notes"
	Language   = "language"
	Difficulty = "difficulty"
	// RecentMessages is the conversation history, a JSON array of messages stored as a
	// string; only a recorded interaction writes it, and the listing indexes leave it out.
	RecentMessages = "recentMessages"
)

// Attributes of a job and of its assignments, besides the keys, the transition attributes,
// the stamps and the assignment attributes below.
const (
	CustomerID = "customerId"
	Address    = "address"
	// RequestedStart and RequestedEnd are the window the customer asked for (timestamps),
	// when there is one.
	RequestedStart = "requestedStart"
	RequestedEnd   = "requestedEnd"
	// AssignmentID is the id of the job's current assignment, absent when it has none; a
	// calendar slot names the assignment that holds it by it too.
	AssignmentID = "assignmentId"
	// JobID is the job of an assignment, and of a calendar slot.
	JobID = "jobId"
	// Booked is a map of the assignment a job's last assignment write made or concerns:
	// ID, TechnicianID, ScheduledStart and ScheduledEnd. The events of those writes read it.
	Booked = "booked"
	// UnassignedTechnicianID is the technician a reassignment took the job from.
	UnassignedTechnicianID = "unassignedTechnicianId"
	// RescheduledFrom is a map of the window a reschedule moved the booking from:
	// RescheduledFromStart and RescheduledFromEnd (timestamps).
	RescheduledFrom      = "rescheduledFrom"
	RescheduledFromStart = "start"
	RescheduledFromEnd   = "end"
)

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

// Attributes of a request record (TypeRequest), besides the keys, Type, Version (the version
// its request made) and ExpiresAt.
const (
	// Request identifies the whole request the record remembers: its key's id, then the id
	// of the key and the fingerprint together.
	Request = "request"
	// AppliedAt is when the request applied.
	AppliedAt = "appliedAt"
)

// The earlier designs' idempotency attributes, which transitions no longer write. A
// transition removes AppliedRequests (a set of every key, and of every key with its
// fingerprint) and the last request's IdempotencyKey, IdempotencyFingerprint and
// IdempotencyAt; the slots of the design after them, AppliedSlot followed by 0 (the
// latest) to 7, are kept and read, so a retry of a request made before the upgrade still
// finds itself.
const (
	AppliedRequests        = "appliedRequests"
	IdempotencyKey         = "idempotencyKey"
	IdempotencyFingerprint = "idempotencyFingerprint"
	IdempotencyAt          = "idempotencyAt"
	AppliedSlot            = "applied"
)
