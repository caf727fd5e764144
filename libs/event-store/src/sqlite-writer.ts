import { Worker } from 'node:worker_threads';
import type { RowToInsert } from './batch-plan.js';

/** A stream head row as the writer reads it. */
export interface HeadRow {
  stream_id: string;
  stream_version: number;
  hash: Uint8Array;
}

/** An event row as the writer reads it for idempotency checks. */
export interface ExistingEventRow {
  position: number;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: Uint8Array;
  metadata: Uint8Array;
}

/** A planned row as the writer thread binds it (its `Row`): the stored columns and index entries only, so nothing else is copied to the thread. */
function toWriterRow(row: RowToInsert) {
  const { event } = row;
  return {
    id: event.id,
    stream: row.stream,
    version: row.version,
    type: event.type,
    encoding: event.encoding,
    data: event.data,
    metadata: event.metadata,
    actor: event.actor,
    notebookId: event.notebookId,
    recordedAt: row.recordedAt,
    prevHash: row.prevHash,
    hash: row.hash,
    cellIds: event.cellIds,
    threadIds: event.threadIds,
  };
}

interface Waiter {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * The client of the SQLite writer thread (`worker/sqlite-writer.worker.mjs`): the only connection
 * that writes the database, so that COMMIT's fsync never blocks the event loop. Requests are
 * answered in order; the transaction of a batch spans `begin` and `insertAndCommit` (or `rollback`),
 * or is one `insertAndCommit` with `begin` when no read is needed.
 */
export class SqliteWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiter>();
  private seq = 0;
  private failure: Error | null = null;

  constructor(path: string) {
    this.worker = new Worker(new URL('../worker/sqlite-writer.worker.mjs', import.meta.url), { workerData: { path } });
    this.worker.on('message', (message: { seq: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.seq);
      this.waiting.delete(message.seq);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread exited with code ${code}`)));
  }

  /** BEGIN IMMEDIATE, then the heads of the streams and the rows of the ids already used (null where none). */
  begin(streams: readonly string[], ids: readonly string[]): Promise<{ heads: Array<HeadRow | null>; existing: Array<ExistingEventRow | null> }> {
    return this.call({ op: 'begin', streams, ids });
  }

  /**
   * Inserts the planned rows in order and commits; resolves with their positions after the commit. With
   * `begin`, the transaction is opened first (BEGIN IMMEDIATE), so a whole batch takes one trip.
   */
  async insertAndCommit(rows: readonly RowToInsert[], { begin = false } = {}): Promise<number[]> {
    const { positions } = await this.call<{ positions: number[] }>({ op: 'insert', rows: rows.map(toWriterRow), begin });
    return positions;
  }

  /** Ends the open transaction without writing. */
  async rollback(): Promise<void> {
    await this.call({ op: 'rollback' });
  }

  /** Runs one statement on the writer connection: rows for a query, nothing for a write. */
  async exec<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const { rows } = await this.call<{ rows?: T[] }>({ op: 'exec', sql, params });
    return rows ?? [];
  }

  /** Closes the writer's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.failure) return;
    await this.call({ op: 'close' });
    await this.worker.terminate();
  }

  private call<T>(request: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(seq, { resolve: (result) => resolve(result as T), reject });
      this.worker.postMessage({ ...request, seq });
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
