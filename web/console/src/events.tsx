// The event feed: what arrived on the example queues (GET /_local/events, newest first),
// polled while the console is open, so a person sees each action's event appear.
import { useEffect, useState } from 'preact/hooks';

interface Received {
  queue: string;
  receivedAt: string;
  id: string;
  detailType: string;
  time: string;
  detail: {
    eventId?: string;
    sessionId?: string;
    jobId?: string;
    previousStatus?: string;
    status?: string;
    reason?: string;
    actor?: { sub?: string };
    // The assignment cancelled with a job (always Cancelled afterwards).
    assignment?: { id: string; technicianId?: string; previousStatus?: string };
  };
}

const pollMs = 1500;
const shown = 25;

export function EventFeed() {
  const [events, setEvents] = useState<Received[]>([]);
  const [down, setDown] = useState(false);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const res = await fetch('/_local/events', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { events: Received[] };
        if (live) {
          setEvents(body.events ?? []);
          setDown(false);
        }
      } catch {
        if (live) setDown(true);
      }
      if (live) timer = setTimeout(poll, pollMs);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  return (
    <aside class="feed" aria-labelledby="feed-title">
      <h2 id="feed-title">Events</h2>
      <p class="hint">As they arrive on the example queues, newest first.</p>
      {down && <p class="hint">The event feed is not answering; it retries every few seconds.</p>}
      {!down && events.length === 0 && <p class="hint">No events yet: pause, resume or cancel something.</p>}
      <ol class="events" aria-label="Events, newest first">
        {events.slice(0, shown).map((e) => {
          const d = e.detail ?? {};
          const entity = d.sessionId ?? d.jobId ?? '';
          return (
            <li key={e.id} data-event-type={e.detailType} data-entity-id={entity}>
              <p>
                <strong>{e.detailType}</strong> <time dateTime={e.time}>{new Date(e.time).toLocaleTimeString()}</time>
              </p>
              <p>
                <code title={entity}>{entity.slice(0, 8)}…</code> {d.previousStatus} → {d.status}
                {d.actor?.sub && ` by ${d.actor.sub}`}
              </p>
              {d.assignment && (
                <p>
                  assignment{d.assignment.technicianId && ` (${d.assignment.technicianId})`} {d.assignment.previousStatus} → Cancelled
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
