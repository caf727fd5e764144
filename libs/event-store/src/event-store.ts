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
  /** Only events at or before this global position (inclusive). */
  upTo?: number;
  limit?: number;
  notebookId?: string;
  stream?: string;
  types?: readonly string[];
  actor?: string;
  cellId?: string;
  /** Only the kernel messages of a thread: the message with this Jupyter msg_id and those whose parent it is. */
  thread?: string;
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
  /** When the end of a stream was cut off: the first stream version missing behind its newest seal. */
  first_missing_version?: number;
}

/** The verdict on one stream's chain (and its seals). */
export interface StreamVerdict extends VerifyResult {
  stream: string;
}

/** Options of a whole-store verification. */
export interface VerifyOptions {
  /** Only this stream (default: every stream). */
  stream?: string;
  /** Called after each page with the events checked so far and the total to check. */
  onProgress?(checked: number, total: number): void;
  /** Called with each stream's verdict as soon as it is known (every stream, bad ones included). */
  onStream?(verdict: StreamVerdict): void;
}

/** A signed record of a stream's head: proves that the stream once reached `version` with `headHash`. */
export interface StreamSeal {
  stream: string;
  version: number;
  /** Global position of the sealed head event. */
  position: number;
  headHash: Buffer;
  /** HMAC-SHA256 over the other fields (see `sealSignature`). */
  signature: Buffer;
  sealedAt: number;
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
  /** Recomputes the hash chain of one stream, or of every stream when none is given, and checks it against the seals. */
  abstract verify(stream?: string): Promise<VerifyResult>;
  /** Verifies every stream (or one), going on past a bad stream: per-stream verdicts and progress; the result names the first bad one. */
  abstract verifyStreams(options?: VerifyOptions): Promise<VerifyResult>;
  /** Counts the events matching a query (its `limit` is ignored). */
  abstract count(query: Omit<ReadQuery, 'limit'>): Promise<number>;
  /** Seals the head of every stream that changed since its last seal; returns the new seals (needs the store's seal key). */
  abstract sealHeads(): Promise<StreamSeal[]>;
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
