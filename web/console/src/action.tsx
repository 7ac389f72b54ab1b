// What every button that calls the API shares: a loading state while the call runs, the
// outcome (a success message, or the response's error text), a retry for network errors
// that reuses the same Idempotency-Key, and the reason dialog of the cancel actions.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, type ErrorBody, NetworkError, Unauthorized, describe } from './api';

export interface Outcome {
  ok: boolean;
  text: string;
  detail?: string;
  /** The API's error body, when the API answered with an error. */
  body?: ErrorBody;
  retry?: () => void;
}

/** A fresh Idempotency-Key for one logical action. */
export function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function useAction() {
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  async function run<T>(name: string, call: (key: string) => Promise<T>, done: (v: T) => string, key = newKey()): Promise<void> {
    setBusy(name);
    setOutcome(null);
    try {
      const v = await call(key);
      setOutcome({ ok: true, text: done(v) });
    } catch (err) {
      if (err instanceof Unauthorized) return; // the app is back at sign-in
      setOutcome({
        ok: false,
        text: describe(err),
        detail: err instanceof ApiError ? err.body.details : undefined,
        body: err instanceof ApiError ? err.body : undefined,
        retry: err instanceof NetworkError ? () => void run(name, call, done, key) : undefined,
      });
    } finally {
      setBusy(null);
    }
  }
  return { busy, outcome, run };
}

/**
 * OutcomeView is a live region that is always present (so screen readers announce what
 * appears in it); an error inside it is an alert. explain may say more about an API error
 * than its message (a booking conflict names the job that holds the time).
 */
export function OutcomeView({ outcome, explain }: { outcome: Outcome | null; explain?: (body: ErrorBody) => ComponentChildren }) {
  const explained = outcome && !outcome.ok && outcome.body && explain ? explain(outcome.body) : null;
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // When the action removed the focused button (a cancelled row has none left), keep
    // keyboard users where the news is.
    if (outcome && (document.activeElement === document.body || document.activeElement === null)) ref.current?.focus();
  }, [outcome]);
  return (
    <div class="outcome" aria-live="polite" tabIndex={-1} ref={ref}>
      {outcome?.ok && <p class="ok">{outcome.text}</p>}
      {outcome && !outcome.ok && (
        <div class="error" role="alert">
          {explained ?? <p>{outcome.text}</p>}
          {outcome.detail && <p class="detail">{outcome.detail}</p>}
          {outcome.retry && (
            <button type="button" onClick={outcome.retry}>
              Retry
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** ReasonDialog asks for the optional reason of a cancel, in a modal dialog. */
export function ReasonDialog(props: {
  open: boolean;
  title: string;
  intro?: ComponentChildren;
  confirm: string;
  keep: string;
  onConfirm: (reason: string) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      setReason('');
      d.showModal();
    } else if (!props.open && d.open) {
      d.close();
    }
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={`${id}-title`} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          props.onConfirm(reason.trim());
        }}
      >
        <h2 id={`${id}-title`}>{props.title}</h2>
        {props.intro}
        <label for={`${id}-reason`}>Reason (optional)</label>
        <textarea
          id={`${id}-reason`}
          name="reason"
          rows={3}
          maxLength={500}
          value={reason}
          aria-describedby={`${id}-count`}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        <p class="hint" id={`${id}-count`}>
          {reason.length}/500 characters; stored with the change and sent in its event.
        </p>
        <div class="buttons">
          <button type="submit" class="danger">
            {props.confirm}
          </button>
          <button type="button" onClick={props.onClose}>
            {props.keep}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function formatTime(iso?: string): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A window of time, its end without the date when it ends on the day it starts (the browser's zone, as formatTime). */
export function formatWindow(start: string, end: string): string {
  const s = new Date(start);
  const e = new Date(end);
  const sameDay = !Number.isNaN(s.getTime()) && !Number.isNaN(e.getTime()) && s.toDateString() === e.toDateString();
  return `${formatTime(start)} – ${sameDay ? e.toLocaleTimeString(undefined, { timeStyle: 'short' }) : formatTime(end)}`;
}

/** The browser's time zone, in which the console shows times and reads the times typed. */
export const zone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  } catch {
    return 'local time';
  }
})();
