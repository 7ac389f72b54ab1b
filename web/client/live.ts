// Generated from schemas/live-message.json by web/scripts/live-types.mjs: do not edit; run make client.
//
// The live channel's messages (docs/live.md): for each type, the fields of the event's detail
// the message carries.

/**
 * The detail of a live InterviewCreated message: the fields of the event (schemas/InterviewCreated.json) that docs/live.md lists for it.
 */
export interface InterviewCreatedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * A new session's version: always 1.
   */
  version: 1;
  status: 'active';
  sessionId: string;
  /**
   * The sub of the session's owner.
   */
  ownerId: string;
  /**
   * The session's title.
   */
  title: string;
}

/**
 * The detail of a live InterviewCancelled message: the fields of the event (schemas/InterviewCancelled.json) that docs/live.md lists for it.
 */
export interface InterviewCancelledDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'active' | 'paused';
  status: 'cancelled';
  /**
   * The caller's reason, when one was given.
   */
  reason?: string;
  sessionId: string;
  /**
   * The sub of the session's owner.
   */
  ownerId: string;
}

/**
 * The detail of a live InterviewCompleted message: the fields of the event (schemas/InterviewCompleted.json) that docs/live.md lists for it.
 */
export interface InterviewCompletedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'active';
  status: 'completed';
  sessionId: string;
  /**
   * The sub of the session's owner.
   */
  ownerId: string;
  /**
   * The session's final score (the one the completion gave, or the score it had).
   */
  score: number;
}

/**
 * The detail of a live InterviewProgressRecorded message: the fields of the event (schemas/InterviewProgressRecorded.json) that docs/live.md lists for it.
 */
export interface InterviewProgressRecordedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'active';
  status: 'active';
  sessionId: string;
  /**
   * The sub of the session's owner.
   */
  ownerId: string;
  /**
   * The session's score after the interaction.
   */
  score: number;
  /**
   * How far the session has come after the interaction: the fraction of the interview done, 0 to 1.
   */
  progress: number;
  /**
   * The id of the message the interaction appended to (or replaced in) recentMessages.
   */
  messageId: string;
}

/**
 * The detail of a live InterviewPaused message: the fields of the event (schemas/InterviewPaused.json) that docs/live.md lists for it.
 */
export interface InterviewPausedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'active';
  status: 'paused';
  sessionId: string;
  /**
   * The sub of the session's owner.
   */
  ownerId: string;
  /**
   * When the session resumes itself (a pause until a time, at least a minute and at most 90 days ahead); absent for a pause until resumed. The scheduled resume is announced as InterviewResumed with the actor {"sub": "scheduler"}.
   */
  resumeAt?: string;
}

/**
 * The detail of a live InterviewResumed message: the fields of the event (schemas/InterviewResumed.json) that docs/live.md lists for it.
 */
export interface InterviewResumedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'paused';
  status: 'active';
  sessionId: string;
  /**
   * The sub of the session's owner.
   */
  ownerId: string;
}

/**
 * The detail of a live JobCreated message: the fields of the event (schemas/JobCreated.json) that docs/live.md lists for it.
 */
export interface JobCreatedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: 1;
  status: 'Unassigned';
  jobId: string;
  /**
   * The new job's title.
   */
  title: string;
  /**
   * The customer the job is for. The address stays with the job (GET /jobs/{id}).
   */
  customerId: string;
}

/**
 * The detail of a live JobAssigned message: the fields of the event (schemas/JobAssigned.json) that docs/live.md lists for it.
 */
export interface JobAssignedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'Unassigned' | 'Assigned';
  status: 'Assigned';
  jobId: string;
  /**
   * The assignment the write made: the technician and the window booked.
   */
  booked: {
    id: string;
    technicianId: string;
    scheduledStart: string;
    scheduledEnd: string;
  };
  /**
   * On a reassignment to another technician: the technician it took the job from (whose assignment it cancelled). Absent when the same technician is booked again.
   */
  unassignedTechnicianId?: string;
}

/**
 * The detail of a live JobRescheduled message: the fields of the event (schemas/JobRescheduled.json) that docs/live.md lists for it.
 */
export interface JobRescheduledDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'Assigned';
  status: 'Assigned';
  jobId: string;
  /**
   * The assignment the write made: the technician and the window booked.
   */
  booked: {
    id: string;
    technicianId: string;
    scheduledStart: string;
    scheduledEnd: string;
  };
  rescheduledFrom?: {
    start: string;
    end: string;
  };
}

/**
 * The detail of a live AssignmentConfirmed message: the fields of the event (schemas/AssignmentConfirmed.json) that docs/live.md lists for it.
 */
export interface AssignmentConfirmedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'Assigned';
  status: 'Assigned';
  jobId: string;
  /**
   * The assignment the write made: the technician and the window booked.
   */
  booked: {
    id: string;
    technicianId: string;
    scheduledStart: string;
    scheduledEnd: string;
  };
}

/**
 * The detail of a live JobStarted message: the fields of the event (schemas/JobStarted.json) that docs/live.md lists for it.
 */
export interface JobStartedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'Assigned';
  status: 'InProgress';
  jobId: string;
  /**
   * The assignment the write made: the technician and the window booked.
   */
  booked: {
    id: string;
    technicianId: string;
    scheduledStart: string;
    scheduledEnd: string;
  };
}

/**
 * The detail of a live JobCompleted message: the fields of the event (schemas/JobCompleted.json) that docs/live.md lists for it.
 */
export interface JobCompletedDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'InProgress';
  status: 'Completed';
  jobId: string;
  /**
   * The assignment the write made: the technician and the window booked.
   */
  booked: {
    id: string;
    technicianId: string;
    scheduledStart: string;
    scheduledEnd: string;
  };
}

/**
 * The detail of a live JobCancelled message: the fields of the event (schemas/JobCancelled.json) that docs/live.md lists for it.
 */
export interface JobCancelledDetail {
  /**
   * Deterministic: the same on every delivery of this event (a name-based UUID of the entity kind, id and version). Deduplicate on it.
   */
  eventId: string;
  /**
   * When the transition was written (not when it was published).
   */
  occurredAt: string;
  /**
   * Who caused it, from the request's verified token.
   */
  actor: {
    sub: string;
  };
  /**
   * The entity's version after the transition; orders one entity's events.
   */
  version: number;
  previousStatus: 'Unassigned' | 'Assigned' | 'InProgress';
  status: 'Cancelled';
  /**
   * The caller's reason, when one was given.
   */
  reason?: string;
  jobId: string;
  /**
   * The assignment cancelled with the job; absent when the job had none.
   */
  assignment?: {
    id: string;
    technicianId: string;
    scheduledStart: string;
    scheduledEnd: string;
    previousStatus: 'Pending' | 'Confirmed';
  };
}

/** A live message's type with its detail. */
export type LiveEvent =
  | { type: 'InterviewCreated'; detail: InterviewCreatedDetail }
  | { type: 'InterviewCancelled'; detail: InterviewCancelledDetail }
  | { type: 'InterviewCompleted'; detail: InterviewCompletedDetail }
  | { type: 'InterviewProgressRecorded'; detail: InterviewProgressRecordedDetail }
  | { type: 'InterviewPaused'; detail: InterviewPausedDetail }
  | { type: 'InterviewResumed'; detail: InterviewResumedDetail }
  | { type: 'JobCreated'; detail: JobCreatedDetail }
  | { type: 'JobAssigned'; detail: JobAssignedDetail }
  | { type: 'JobRescheduled'; detail: JobRescheduledDetail }
  | { type: 'AssignmentConfirmed'; detail: AssignmentConfirmedDetail }
  | { type: 'JobStarted'; detail: JobStartedDetail }
  | { type: 'JobCompleted'; detail: JobCompletedDetail }
  | { type: 'JobCancelled'; detail: JobCancelledDetail };

/** The type of a live message. */
export type LiveEventType = LiveEvent['type'];

/** The detail of any live message. */
export type LiveDetail = LiveEvent['detail'];
