// The live channel (docs/live.md): a WebSocket that sends each transition to the screens
// of the people it concerns. The console asks the API for a single-use ticket (through the
// typed client, like every call), offers it as a subprotocol (never in the URL), and passes
// every message to the views. On a lost connection it reconnects with backoff and a fresh
// ticket, then tells the views to refetch what they show: anything sent while it was away
// is in what they fetch.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { LiveDetail, LiveEvent } from '../../client/live';
import { type Api, type LiveMessage as Message, Unauthorized } from './api';

/** Each key any member of the union U has. */
type KeysOf<U> = U extends unknown ? keyof U : never;
/** The type of key K in whichever members of U have it. */
type ValueOf<U, K extends PropertyKey> = U extends unknown ? (K extends keyof U ? U[K] : never) : never;

/**
 * The fields a live message's detail may carry, whatever its type: generated from
 * schemas/live-message.json (web/client/live.ts, `make client`). The fields every type's
 * detail has are required, the others optional; a field removed or renamed in schemas/ is a
 * type error wherever the console reads it.
 */
export type EventDetail = { [K in keyof LiveDetail]: LiveDetail[K] } & { [K in KeysOf<LiveDetail>]?: ValueOf<LiveDetail, K> };

/** A message of the channel (schemas/live-message.json; LiveMessage in openapi.yaml). */
export type LiveMessage = Omit<Message, 'type' | 'detail'> & { type: LiveEvent['type']; detail: EventDetail };

export type LiveStatus = 'connecting' | 'live' | 'offline';

const subprotocol = 'lifecycle.live.v1';
/** Backoff between reconnects: 0.5 s doubling to 15 s, with jitter. */
const firstDelayMs = 500;
const maxDelayMs = 15000;
/** API Gateway closes a connection silent for 10 minutes; a ping keeps it open. */
const pingMs = 5 * 60 * 1000;
/** How many event ids are remembered to drop redeliveries. */
const remembered = 500;

type Listener<T> = (v: T) => void;

/**
 * LiveChannel keeps one connection open for one token. Messages are delivered once each
 * (redeliveries dropped by eventId); after every (re)connection, `resync` listeners run so
 * the views refetch.
 */
export class LiveChannel {
  status: LiveStatus = 'connecting';
  private ws: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private seen: string[] = [];
  private messages = new Set<Listener<LiveMessage>>();
  private resyncs = new Set<Listener<void>>();
  private statuses = new Set<Listener<LiveStatus>>();

  /** api asks for the tickets; its 401 handling signs the caller out, and the channel stops. */
  constructor(private readonly api: Pick<Api, 'liveTicket'>) {}

  start() {
    void this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    this.ws?.close(1000, 'signed out');
  }

  onMessage(l: Listener<LiveMessage>) {
    this.messages.add(l);
    return () => void this.messages.delete(l);
  }

  onResync(l: Listener<void>) {
    this.resyncs.add(l);
    return () => void this.resyncs.delete(l);
  }

  onStatus(l: Listener<LiveStatus>) {
    this.statuses.add(l);
    return () => void this.statuses.delete(l);
  }

  private setStatus(s: LiveStatus) {
    this.status = s;
    this.statuses.forEach((l) => l(s));
  }

  private async connect() {
    if (this.stopped) return;
    this.setStatus('connecting');
    let ticket: string;
    try {
      ticket = (await this.api.liveTicket()).ticket;
    } catch (err) {
      if (err instanceof Unauthorized) {
        this.stopped = true;
        return;
      }
      this.retry();
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/live`, [subprotocol, `ticket.${ticket}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus('live');
      clearInterval(this.pinger);
      this.pinger = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), pingMs);
      // Whatever changed before this connection opened is in what the views fetch now.
      this.resyncs.forEach((l) => l());
    };
    ws.onmessage = (e) => {
      let m: LiveMessage;
      try {
        m = JSON.parse(String(e.data)) as LiveMessage;
      } catch {
        return;
      }
      if (!m.eventId || this.seen.includes(m.eventId)) return; // a pong, or a redelivery
      this.seen.push(m.eventId);
      if (this.seen.length > remembered) this.seen.shift();
      this.messages.forEach((l) => l(m));
    };
    ws.onclose = () => {
      clearInterval(this.pinger);
      if (this.ws === ws) this.ws = null;
      this.retry();
    };
  }

  private retry() {
    if (this.stopped) return;
    this.setStatus('offline');
    const delay = Math.min(maxDelayMs, firstDelayMs * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

export const LiveContext = createContext<LiveChannel | null>(null);

/** useLive runs onMessage for every message and onResync after every (re)connection. */
export function useLive(onMessage: (m: LiveMessage) => void, onResync?: () => void) {
  const channel = useContext(LiveContext);
  // The latest callbacks, so a view's handlers see its current state.
  const handlers = useRef({ onMessage, onResync });
  handlers.current = { onMessage, onResync };
  useEffect(() => {
    if (!channel) return;
    const offMessage = channel.onMessage((m) => handlers.current.onMessage(m));
    const offResync = channel.onResync(() => handlers.current.onResync?.());
    return () => {
      offMessage();
      offResync();
    };
  }, [channel]);
}

export function useLiveStatus(): LiveStatus {
  const channel = useContext(LiveContext);
  const [status, setStatus] = useState<LiveStatus>(channel?.status ?? 'connecting');
  useEffect(() => {
    if (!channel) return;
    setStatus(channel.status);
    return channel.onStatus(setStatus);
  }, [channel]);
  return status;
}

/**
 * newer reports whether a message about an entity is newer than what a view shows, by the
 * time of its transition against the entity's updatedAt: messages may come out of order,
 * and a view's own response may already show a later state.
 */
export function newer(m: LiveMessage, updatedAt: string | undefined): boolean {
  if (!updatedAt) return true;
  return Date.parse(m.detail.occurredAt) >= Date.parse(updatedAt);
}
