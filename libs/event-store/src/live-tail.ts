import type { LoggedEvent } from '@palimpsest/contracts';
import type { ReadQuery, Subscription, SubscriptionHandler } from './event-store.js';
import { matchesQuery } from './row-mapping.js';

/** How the tail reads the log: a page of events after a position, optionally filtered. */
export type LogReader = (query: ReadQuery) => Promise<LoggedEvent[]>;

const PAGE = 1000;
/** Live events buffered for one slow subscriber before it falls back to reading from the store. */
const MAX_BUFFERED = 10_000;
/** Delay before the tail re-reads after a failed read. */
const RETRY_MS = 250;

/**
 * One subscription: it catches up from the store page by page, then joins the tail's live set.
 * If it falls too far behind while live, it leaves the live set and catches up from the store
 * again, so a slow consumer costs memory bounded by MAX_BUFFERED, never a gap.
 */
class TailSubscription implements Subscription {
  private last: number;
  private buffer: LoggedEvent[] = [];
  private closed = false;
  private draining = false;
  /** The handler call in progress (or the last one): each delivery waits for the previous. */
  private handing: Promise<void> = Promise.resolve();
  private markLive!: () => void;
  readonly live = new Promise<void>((resolve) => (this.markLive = resolve));

  constructor(
    private readonly tail: LiveTail,
    private readonly query: Omit<ReadQuery, 'limit'>,
    private readonly handler: SubscriptionHandler,
  ) {
    this.last = query.after ?? 0;
    void this.catchUp();
  }

  /** Position of the last event handed to the handler (or the starting point). */
  get position(): number {
    return this.last;
  }

  /** True when the event passes this subscription's filters. */
  wants(event: LoggedEvent): boolean {
    return matchesQuery(event, this.query);
  }

  /** Reads stored events after `last` up to `upTo` (inclusive) and delivers them; used on attach. */
  async deliverStored(upTo: number): Promise<void> {
    while (!this.closed && this.last < upTo) {
      const page = await this.tail.read({ ...this.query, after: this.last, limit: PAGE });
      const bounded = page.filter((e) => e.position <= upTo);
      if (bounded.length > 0) await this.deliver(bounded);
      if (page.length < PAGE || bounded.length < page.length) {
        this.last = Math.max(this.last, upTo);
        return;
      }
    }
  }

  /** Queues live events; called by the tail in position order. */
  push(events: readonly LoggedEvent[]): void {
    const wanted = events.filter((e) => e.position > this.last && this.wants(e));
    if (wanted.length === 0) return;
    this.buffer.push(...wanted);
    if (this.buffer.length > MAX_BUFFERED) {
      // Too slow to keep up live: drop the buffer and re-read from the store, where nothing is lost.
      this.buffer = [];
      this.tail.detach(this);
      void this.catchUp();
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.buffer.length > 0 && !this.closed) {
        const batch = this.buffer;
        this.buffer = [];
        await this.deliver(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private deliver(events: readonly LoggedEvent[]): Promise<void> {
    const fresh = events.filter((e) => e.position > this.last);
    if (fresh.length === 0 || this.closed) return this.handing;
    this.last = fresh[fresh.length - 1].position;
    // Chained, not called directly: after an overflow the store catch-up delivers while the live drain
    // may still be awaiting the handler, and the handler must see one batch at a time, in order.
    this.handing = this.handing
      .then(() => (this.closed ? undefined : this.handler.onEvents(fresh)))
      .catch((error: unknown) => this.fail(error));
    return this.handing;
  }

  private async catchUp(): Promise<void> {
    try {
      for (;;) {
        if (this.closed) return;
        const page = await this.tail.read({ ...this.query, after: this.last, limit: PAGE });
        if (page.length > 0) await this.deliver(page);
        if (page.length < PAGE) break;
      }
      if (!this.closed) await this.tail.attach(this);
      this.markLive();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.close();
    this.handler.onError?.(error instanceof Error ? error : new Error(String(error)));
  }

  close(): void {
    this.closed = true;
    this.buffer = [];
    this.tail.detach(this);
    this.markLive();
  }
}

/**
 * Follows the end of the log and fans committed events out to live subscriptions, in position order
 * with no gap. A wake-up reads the committed events after its position from the store, so events
 * committed by other processes (PostgreSQL, several nodes) arrive too. The store hands over the rows each
 * of its own commits inserted; they are dispatched without a read as long as they continue exactly where
 * the tail is, and anything else (another node's commit in between) falls back to the read.
 */
export class LiveTail {
  private position = 0;
  private readonly subscribers = new Set<TailSubscription>();
  private chain: Promise<void> = Promise.resolve();
  private pumping = false;
  private wanted = false;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(events: readonly LoggedEvent[]) => void>();
  /** Rows handed over by commits of this process, in commit order, not dispatched yet. */
  private handedOver: LoggedEvent[][] = [];

  constructor(
    readonly read: LogReader,
    private readonly onReadError: (error: unknown) => void = () => undefined,
  ) {}

  /** Starts following from the current end of the log. */
  start(headPosition: number): void {
    this.position = headPosition;
  }

  /** Registers a callback for every committed batch, in order (the bus publisher). */
  onCommitted(listener: (events: readonly LoggedEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens a subscription that catches up, then follows the tail. */
  subscribe(query: Omit<ReadQuery, 'limit'>, handler: SubscriptionHandler): Subscription {
    return new TailSubscription(this, query, handler);
  }

  /** Signals that something was committed (with the rows this process inserted, when it was the committer); the tail dispatches it. */
  wake(inserted?: LoggedEvent[]): Promise<void> {
    if (this.stopped) return this.chain;
    if (inserted && inserted.length > 0) this.handedOver.push(inserted);
    this.wanted = true;
    if (!this.pumping) this.chain = this.chain.then(() => this.pump());
    return this.chain;
  }

  /** Signals that another connection committed up to `position` (a NOTIFY); nothing to do when the tail has already dispatched it. */
  notified(position: number): Promise<void> {
    return position <= this.position ? this.chain : this.wake();
  }

  /** Joins a caught-up subscription to the live set, first delivering whatever it is still behind. */
  attach(subscription: TailSubscription): Promise<void> {
    const joined = this.chain.then(async () => {
      await subscription.deliverStored(this.position);
      this.subscribers.add(subscription);
    });
    this.chain = joined.catch(() => undefined);
    return joined;
  }

  /** Removes a subscription from the live set. */
  detach(subscription: TailSubscription): void {
    this.subscribers.delete(subscription);
  }

  /** Stops following the log: later wake-ups (a NOTIFY arriving while the store closes) are ignored. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  /** Resolves once every wake-up so far has been dispatched. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** The next handed-over rows if they continue exactly at the tail's position; null when a read is needed (and stale ones are dropped). */
  private takeHandedOver(): LoggedEvent[] | null {
    while (this.handedOver.length > 0 && this.handedOver[0][this.handedOver[0].length - 1].position <= this.position) this.handedOver.shift();
    const next = this.handedOver[0];
    if (!next || next[0].position !== this.position + 1) return null;
    // Dispatched a page at a time, as reads are, so a huge commit does not overflow every live buffer at once.
    if (next.length > PAGE) {
      this.handedOver[0] = next.slice(PAGE);
      return next.slice(0, PAGE);
    }
    this.handedOver.shift();
    return next;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.wanted && !this.stopped) {
        this.wanted = false;
        for (;;) {
          const events = this.takeHandedOver() ?? (await this.read({ after: this.position, limit: PAGE }));
          if (events.length === 0) break;
          this.position = events[events.length - 1].position;
          for (const subscription of this.subscribers) subscription.push(events);
          for (const listener of this.listeners) listener(events);
          if (events.length < PAGE && this.handedOver.length === 0) break;
        }
      }
    } catch (error) {
      this.onReadError(error);
      // A failed read (connection lost, database restarting) must neither crash the process through an
      // unhandled rejection nor poison the chain: the position did not move, so a retry re-reads the
      // same events and nothing is skipped.
      this.wanted = false;
      if (!this.stopped && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.wake();
        }, RETRY_MS);
        this.retry.unref();
      }
    } finally {
      this.pumping = false;
    }
  }
}
