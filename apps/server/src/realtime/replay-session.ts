import type { ApiEvent, LoggedEvent } from '@palimpsest/contracts';
import { toApiEvent, type EventStore, type ReadQuery } from '@palimpsest/event-store';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Replay speed: a factor of real time (1 = as recorded, 10 = ten times faster), or as fast as possible. */
export type ReplaySpeed = number | 'max';

/** How far a replay has come. */
export interface ReplayProgress {
  done: number;
  total: number;
}

/** Where a replay sends what it plays. */
export interface ReplaySink {
  event(event: ApiEvent): void;
  progress(progress: ReplayProgress): void;
  end(progress: ReplayProgress): void;
  error(error: Error): void;
}

/** Events read from the store at a time. */
const PAGE = 500;
/** Least time between two progress reports, in ms. */
const PROGRESS_EVERY_MS = 200;

/**
 * Plays a range of the log back to a sink, paced by the events' recorded times divided by the speed.
 * Pacing is anchored (an event is due at anchor + (its time - anchor time) / speed), so timer jitter
 * never accumulates; pause shifts the anchor by the time paused, seek re-anchors on the next event.
 * Memory is one page of events.
 */
export class ReplaySession {
  private buffer: LoggedEvent[] = [];
  private last: number;
  private done = 0;
  private paused = false;
  private stopped = false;
  private pausedAt = 0;
  private anchor: { wall: number; recorded: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Bumped by every pause, resume, seek and stop: a pump of an older generation gives up. */
  private generation = 0;
  private lastProgressAt = 0;

  constructor(
    private readonly store: Pick<EventStore, 'read'>,
    /** The log range played. */
    readonly range: Omit<ReadQuery, 'limit' | 'after'> & { after: number },
    private readonly speed: ReplaySpeed,
    private readonly sink: ReplaySink,
    /** How many events the range holds. */
    readonly total: number,
  ) {
    this.last = range.after;
  }

  /** Starts playing. */
  start(): void {
    this.kick();
  }

  /** Holds playback where it is. */
  pause(): void {
    if (this.paused || this.stopped) return;
    this.paused = true;
    this.pausedAt = Date.now();
    this.halt();
  }

  /** Continues after a pause, keeping the recorded spacing of the events. */
  resume(): void {
    if (!this.paused || this.stopped) return;
    this.paused = false;
    if (this.anchor) this.anchor.wall += Date.now() - this.pausedAt;
    this.kick();
  }

  /** Continues from the first event of the range at or after `position`; `doneBefore` is how many events of the range precede it. */
  seek(position: number, doneBefore: number): void {
    if (this.stopped) return;
    this.halt();
    this.buffer = [];
    this.last = Math.max(this.range.after, position - 1);
    this.done = doneBefore;
    this.anchor = null;
    this.sink.progress(this.progress());
    if (!this.paused) this.kick();
  }

  /** Stops for good (a new start, or the client left). */
  stop(): void {
    this.stopped = true;
    this.halt();
  }

  /** True once the session ended or was stopped. */
  get finished(): boolean {
    return this.stopped;
  }

  private progress(): ReplayProgress {
    return { done: this.done, total: this.total };
  }

  private halt(): void {
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    this.halt();
    this.run(this.generation);
  }

  private run(generation: number): void {
    this.pump(generation).catch((error: unknown) => {
      this.stop();
      this.sink.error(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private live(generation: number): boolean {
    return generation === this.generation && !this.paused && !this.stopped;
  }

  private async pump(generation: number): Promise<void> {
    while (this.live(generation)) {
      if (this.buffer.length === 0) {
        const page = await this.store.read({ ...this.range, after: this.last, limit: PAGE });
        if (!this.live(generation)) return;
        if (page.length === 0) return this.finish();
        this.buffer = page;
      }
      const next = this.buffer[0];
      if (this.speed !== 'max') {
        this.anchor ??= { wall: Date.now(), recorded: next.recordedAt };
        const delay = this.anchor.wall + (next.recordedAt - this.anchor.recorded) / this.speed - Date.now();
        if (delay >= 1) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.run(generation);
          }, delay);
          return;
        }
      }
      this.buffer.shift();
      this.last = next.position;
      this.done += 1;
      this.sink.event(toApiEvent(next));
      this.reportProgress();
      // As fast as possible still yields between pages, so pause and seek get a turn.
      if (this.speed === 'max' && this.buffer.length === 0) await nextTurn();
    }
  }

  private reportProgress(): void {
    const now = Date.now();
    if (now - this.lastProgressAt < PROGRESS_EVERY_MS) return;
    this.lastProgressAt = now;
    this.sink.progress(this.progress());
  }

  private finish(): void {
    this.stopped = true;
    this.sink.progress(this.progress());
    this.sink.end(this.progress());
  }
}
