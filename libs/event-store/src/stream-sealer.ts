import type { LoggedEvent } from '@palimpsest/contracts';
import type { EventStore, StreamSeal } from './event-store.js';

/** When the sealer seals; both triggers are active, whichever comes first. */
export interface StreamSealerOptions {
  /** Seal this many ms after the first unsealed commit (default 10 s; 0 disables the timer). */
  intervalMs?: number;
  /** Seal as soon as this many events have committed since the last seal (default 1000; 0 disables). */
  everyEvents?: number;
  /** Told about a failed round (the next trigger retries); default: ignore. */
  onError?(error: unknown): void;
  /** Told about every round's new seals (tests wait on it). */
  onSealed?(seals: readonly StreamSeal[]): void;
}

/** What the sealer needs of a store: sealing, and optionally a hook on every committed batch. */
export type SealableStore = Pick<EventStore, 'sealHeads'> & {
  onCommitted?(listener: (events: readonly LoggedEvent[]) => void): () => void;
};

/**
 * Periodically signs the head of every stream that changed (`stream_seals`), so that cutting off
 * the end of a stream, which leaves a valid shorter chain, is still detected by verify. Seals on a
 * timer after commits, after a number of events, and once more when stopped.
 */
export class StreamSealer {
  private readonly intervalMs: number;
  private readonly everyEvents: number;
  private unsealedEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private detach: (() => void) | null = null;

  constructor(
    private readonly store: SealableStore,
    private readonly options: StreamSealerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.everyEvents = options.everyEvents ?? 1000;
  }

  /** Starts watching commits (and seals the heads left unsealed by a previous run). */
  start(): void {
    this.detach = this.store.onCommitted?.((events) => this.committed(events.length)) ?? null;
    this.trigger();
  }

  /** Seals every changed stream head now, after any round in progress; resolves with the number of new seals. */
  sealNow(): Promise<number> {
    this.unsealedEvents = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const round = this.running.then(async () => {
      const seals = await this.store.sealHeads();
      this.options.onSealed?.(seals);
      return seals;
    });
    this.running = round.then(
      () => undefined,
      (error: unknown) => this.options.onError?.(error),
    );
    return round.then((seals) => seals.length);
  }

  /** Stops the triggers and seals one last time (call before the store closes). */
  async stop(): Promise<void> {
    this.detach?.();
    this.detach = null;
    await this.sealNow().catch((error: unknown) => this.options.onError?.(error));
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private committed(count: number): void {
    this.unsealedEvents += count;
    if (this.everyEvents > 0 && this.unsealedEvents >= this.everyEvents) return this.trigger();
    if (this.intervalMs > 0 && !this.timer) {
      this.timer = setTimeout(() => this.trigger(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** A background round: its failure was already reported through `onError`. */
  private trigger(): void {
    this.sealNow().catch(() => undefined);
  }
}
