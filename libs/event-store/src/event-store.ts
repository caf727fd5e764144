import type { EventMetadata, EventPayload, EventType, LoggedEvent } from '@palimpsest/contracts';

/** What a writer expects of a stream before its append: a version, "must not exist yet", or anything. */
export type ExpectedVersion = number | 'no_stream' | 'any';

/** One event to append. */
export interface NewEvent {
  /** Idempotency key (UUID); generated when absent. A retry with the same id and content is a no-op. */
  id?: string;
  type: EventType;
  payload: EventPayload;
  metadata: EventMetadata;
}

/** An append of events to one stream, atomically. */
export interface AppendRequest {
  stream: string;
  expectedVersion?: ExpectedVersion;
  events: readonly NewEvent[];
}

/** Where an append landed. */
export interface AppendResult {
  stream: string;
  /** The stream's version after the append. */
  version: number;
  /** Global positions of the appended events, in order. */
  positions: number[];
  /** True when every event was already stored (an idempotent retry). */
  duplicate: boolean;
}

/** A filtered, paged read of the global log. */
export interface ReadQuery {
  /** Only events after this global position (exclusive). */
  after?: number;
  limit?: number;
  notebookId?: string;
  stream?: string;
  types?: readonly string[];
  actor?: string;
  cellId?: string;
  /** Recorded at or after this time (unix ms). */
  since?: number;
  /** Recorded at or before this time (unix ms). */
  until?: number;
}

/** Result of recomputing a hash chain. */
export interface VerifyResult {
  ok: boolean;
  checked: number;
  first_bad_position: number | null;
  /** The stream whose chain broke first, when one did. */
  stream?: string | null;
  reason?: string | null;
}

/** A Yjs checkpoint: the encoded document state including every event up to `version` of its stream. */
export interface DocCheckpoint {
  stream: string;
  version: number;
  position: number;
  state: Uint8Array;
  createdAt: number;
}

/** A live subscription; `close` stops delivery. */
export interface Subscription {
  close(): void;
  /** Resolves when catch-up has delivered every stored event and live delivery has begun. */
  readonly live: Promise<void>;
}

/** Callbacks of a subscription; `onEvents` is awaited before the next batch is delivered. */
export interface SubscriptionHandler {
  onEvents(events: readonly LoggedEvent[]): void | Promise<void>;
  onError?(error: Error): void;
}

/** The event store port: an append-only, hash-chained log of streams. */
export abstract class EventStore {
  /** Appends atomically to one stream; resolves only after the transaction commits. */
  abstract append(request: AppendRequest): Promise<AppendResult>;
  /** Reads the global log in position order, filtered. */
  abstract read(query: ReadQuery): Promise<LoggedEvent[]>;
  /** Reads one stream between versions (inclusive), in version order. */
  abstract readStream(stream: string, fromVersion?: number, toVersion?: number): Promise<LoggedEvent[]>;
  /** The stream's current version (0 when it has no events). */
  abstract streamVersion(stream: string): Promise<number>;
  /** The highest committed global position (0 for an empty log). */
  abstract headPosition(): Promise<number>;
  /** Catches up from `query.after`, then delivers live events matching the query, in order, exactly once. */
  abstract subscribe(query: Omit<ReadQuery, 'limit'>, handler: SubscriptionHandler): Subscription;
  /** Recomputes the hash chain of one stream, or of every stream when none is given. */
  abstract verify(stream?: string): Promise<VerifyResult>;
  /** Stores a Yjs checkpoint (a cache: it can always be rebuilt from the log). */
  abstract saveCheckpoint(checkpoint: Omit<DocCheckpoint, 'createdAt'>): Promise<void>;
  /** The latest checkpoint of the stream at or before `atVersion`. */
  abstract latestCheckpoint(stream: string, atVersion?: number): Promise<DocCheckpoint | null>;
  /** The stream version in force at a time (unix ms): the last event recorded at or before it. */
  abstract versionAt(stream: string, time: number): Promise<number>;
  /** Resolves once every event committed so far has been handed to live subscribers and commit listeners. */
  abstract settled(): Promise<void>;
  /** Flushes pending appends and closes the connection. */
  abstract close(): Promise<void>;
}
