// A job as the console holds it between reads: what a live message leaves it as, and where
// it stands on the dispatchers' board. Shared by the job card, the board and the schedule.
import type { Job, JobStatus } from './api';
import type { LiveMessage } from './live';

/** The job actions, in the order the card offers them. */
export const jobActions: readonly Job['allowedActions'][number][] = ['confirm', 'start', 'complete', 'assign', 'reschedule', 'cancel'];
export type JobAction = (typeof jobActions)[number];
export const isJobAction = (a: string): a is JobAction => (jobActions as readonly string[]).includes(a);

/** The job events, each with what it leaves the booking it names (`booked`) as. */
const bookingStatus: Partial<Record<LiveMessage['type'], 'Pending' | 'Confirmed' | undefined>> = {
  JobAssigned: 'Pending',
  JobRescheduled: 'Pending',
  AssignmentConfirmed: 'Confirmed',
  JobStarted: undefined,
  JobCompleted: undefined,
};

/**
 * applyMessage returns the job as a live message about it leaves it: its status, version and
 * allowedActions (the recipient's own), the booking the message names, and a cancel's record.
 */
export function applyMessage(j: Job, m: LiveMessage): Job {
  const d = m.detail;
  const next: Job = {
    ...j,
    status: d.status as JobStatus,
    version: m.version,
    updatedAt: d.occurredAt,
    allowedActions: m.allowedActions.filter(isJobAction),
  };
  if (m.type === 'JobCancelled') {
    const a = j.assignment && d.assignment?.id === j.assignment.id ? { ...j.assignment, status: 'Cancelled' as const, cancelledAt: d.occurredAt } : j.assignment;
    return { ...next, cancelledAt: d.occurredAt, cancelledBy: d.actor?.sub, cancelReason: d.reason, assignment: a };
  }
  if (d.booked && m.type in bookingStatus) {
    const same = j.assignment?.id === d.booked.id ? j.assignment : undefined;
    next.assignment = {
      id: d.booked.id,
      technicianId: d.booked.technicianId,
      scheduledStart: d.booked.scheduledStart,
      scheduledEnd: d.booked.scheduledEnd,
      // Started and completed jobs keep the booking as it was: confirmed.
      status: bookingStatus[m.type] ?? same?.status ?? 'Confirmed',
      version: same?.version ?? 1,
    };
  }
  return next;
}

/**
 * boardTime is when a job stands on the board, as docs/api.md ("The dispatchers' board")
 * defines it: the start of its booking (the current one, or the one a cancel ended), else
 * the start of the window its customer asked for, else its creation. The API orders every
 * page it answers; the board uses this only to place a job a live message changed.
 */
export function boardTime(j: Job): string {
  return j.assignment?.scheduledStart ?? j.requestedWindow?.start ?? j.createdAt;
}

/** boardOrder sorts jobs as the board does: earliest board time first, then by id. */
export function boardOrder(a: Job, b: Job): number {
  const d = Date.parse(boardTime(a)) - Date.parse(boardTime(b));
  if (d !== 0) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
