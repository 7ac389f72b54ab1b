// The event feed: each event the live channel sends this caller (their own sessions'; for
// dispatchers and admins, every job event; for a technician, those about their bookings),
// newest first, as it arrives. No polling: it is the same channel every view follows.
import { useState } from 'preact/hooks';
import { type LiveMessage, useLive, useLiveStatus } from './live';

interface Received extends LiveMessage {
  receivedAt: string;
}

const shown = 25;

const statusText = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Reconnecting…',
};

/** change says what an event did to its entity, in a few words. */
function change(e: LiveMessage): string {
  const d = e.detail;
  if (e.type === 'InterviewProgressRecorded') {
    // The status stays as it was: what moved is how far the session has come.
    const progress = d.progress !== undefined ? `progress ${Math.round(d.progress * 100)}%` : 'progress recorded';
    return `${d.status}, ${progress}${d.score !== undefined ? `, score ${d.score}` : ''}`;
  }
  if (!d.previousStatus) return `created${d.title ? ` “${d.title}”` : ''}, ${d.status}`;
  return `${d.previousStatus} → ${d.status}${d.score !== undefined ? `, score ${d.score}` : ''}`;
}

export function EventFeed() {
  const [events, setEvents] = useState<Received[]>([]);
  const status = useLiveStatus();
  useLive((m) => setEvents((prev) => [{ ...m, receivedAt: new Date().toISOString() }, ...prev].slice(0, shown)));

  return (
    <aside class="feed" aria-labelledby="feed-title">
      <h2 id="feed-title">Events</h2>
      <p class="live-status" data-live-status={status} role="status">
        <span class="dot" aria-hidden="true" /> {statusText[status]}
      </p>
      <p class="hint">Each transition that concerns you, the moment it happens, newest first.</p>
      {status === 'offline' && <p class="hint">The live channel is down; it reconnects by itself and the views catch up.</p>}
      {events.length === 0 && (
        <p class="hint">
          No events yet: create, pause, resume, complete or cancel something (here, in another tab, or with curl), or record an interaction.
        </p>
      )}
      <ol class="events" aria-label="Events, newest first">
        {events.map((e) => {
          const d = e.detail;
          return (
            <li key={e.eventId} data-event-type={e.type} data-entity-id={e.entityId} data-version={e.version}>
              <p>
                <strong>{e.type}</strong> <time dateTime={d.occurredAt}>{new Date(d.occurredAt).toLocaleTimeString()}</time>
              </p>
              <p>
                <code title={e.entityId}>{e.entityId.slice(0, 8)}…</code> {change(e)}
                {d.actor?.sub && ` by ${d.actor.sub}`}
              </p>
              {d.assignment && (
                <p>
                  assignment{d.assignment.technicianId && ` (${d.assignment.technicianId})`} {d.assignment.previousStatus} → Cancelled
                </p>
              )}
              {d.booked && (
                <p>
                  booked {d.booked.technicianId} {new Date(d.booked.scheduledStart).toLocaleString()} – {new Date(d.booked.scheduledEnd).toLocaleTimeString()}
                  {d.unassignedTechnicianId && ` (instead of ${d.unassignedTechnicianId})`}
                </p>
              )}
              {d.reason && <p class="reason">“{d.reason}”</p>}
            </li>
          );
        })}
      </ol>
    </aside>
  );
}
