import type { LoggedEvent } from '@palimpsest/contracts';
import type { AppendOutcome, PendingAppend } from './batch-plan.js';
import type { DocCheckpoint, ReadQuery } from './event-store.js';

/** A stored row as the chain verifier needs it: every hashed column plus the stored hashes. */
export interface ChainRow {
  position: number;
  id: string;
  stream: string;
  version: number;
  type: string;
  encoding: string;
  data: Buffer;
  metadata: Buffer;
  recordedAt: number;
  /** The query columns derived from `metadata` (not hashed themselves; verify checks they agree with it). */
  actor: string;
  notebookId: string | null;
  prevHash: Buffer | null;
  hash: Buffer;
}

/** What a committed batch became. */
export interface CommittedBatch {
  outcomes: AppendOutcome[];
  /**
   * The rows it inserted, as a read would return them: the live tail dispatches them without reading them back
   * when they continue exactly where it is (no other node committed in between).
   */
  inserted: LoggedEvent[];
}

/** The SQL side of the store for one database engine; the shared logic lives in TypeOrmEventStore. */
export interface LogDialect {
  /** Runs one write transaction holding the log's write lock: reads heads, plans and inserts the batch. */
  commitBatch(batch: readonly PendingAppend[]): Promise<CommittedBatch>;
  read(query: ReadQuery): Promise<LoggedEvent[]>;
  readStream(stream: string, fromVersion: number, toVersion: number): Promise<LoggedEvent[]>;
  streamVersion(stream: string): Promise<number>;
  headPosition(): Promise<number>;
  versionAt(stream: string, time: number): Promise<number>;
  /** Rows in chain order (stream, version) after a (stream, version) cursor, for verification. */
  chainRows(stream: string | undefined, after: { stream: string; version: number } | null, limit: number): Promise<ChainRow[]>;
  /** Runs one statement with `?` placeholders (renumbered as the engine needs): the rows of a query, [] for a write. */
  run<T>(sql: string, params: readonly unknown[]): Promise<T[]>;
  saveCheckpoint(checkpoint: Omit<DocCheckpoint, 'createdAt'>, createdAt: number): Promise<void>;
  latestCheckpoint(stream: string, atVersion: number | undefined): Promise<DocCheckpoint | null>;
  close(): Promise<void>;
}
