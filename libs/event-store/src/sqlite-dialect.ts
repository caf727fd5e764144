import type { LoggedEvent } from '@palimpsest/contracts';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { planBatch, type ExistingRow, type PendingAppend, type RowToInsert, type StreamHead } from './batch-plan.js';
import type { SqliteWriter } from './sqlite-writer.js';
import type { DocCheckpoint, ReadQuery } from './event-store.js';
import type { ChainRow, CommittedBatch, LogDialect } from './log-dialect.js';
import { chainRowsQuery, EVENT_COLUMNS, insertedEvents, type ChainEventRow, toChainRow, toLoggedEvent, whereClause, type EventRow } from './row-mapping.js';

/** How many stream heads the dialect remembers (the oldest is forgotten first). */
const MAX_CACHED_HEADS = 10_000;

/** How many distinct read queries keep their prepared statement (filters vary; the oldest goes first). */
const MAX_CACHED_STATEMENTS = 200;

/** The underlying better-sqlite3 handle of a TypeORM data source. */
function nativeHandle(dataSource: DataSource): BetterSqlite3.Database {
  return (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
}

/**
 * SQLite through TypeORM's better-sqlite3 driver. Reads run on the main connection (WAL: they never
 * wait for a writer). Every write goes through the writer thread (SqliteWriter), the database's only
 * writer, so rowid order is commit order and `position > n` readers never skip an event, and no
 * COMMIT's fsync ever blocks the event loop. A batch is one BEGIN IMMEDIATE .. COMMIT on that thread,
 * planned here: in one trip when the heads of its streams are known and its ids are fresh, otherwise
 * between a first step that reads them and a second that inserts and commits.
 */
export class SqliteDialect implements LogDialect {
  private readonly db: BetterSqlite3.Database;
  private readonly statements;
  /**
   * The head of every stream this process appended to or read, as committed. The writer thread is the
   * database's only writer, so these stay exact; a stale one (a write from elsewhere) makes the fast
   * path fail on the UNIQUE(stream, version) index and the batch is decided again from the database.
   */
  private readonly heads = new Map<string, StreamHead>();
  private readonly readStatements = new Map<string, BetterSqlite3.Statement<unknown[], unknown>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: SqliteWriter,
  ) {
    this.db = nativeHandle(dataSource);
    const db = this.db;
    this.statements = {
      stream: db.prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version BETWEEN ? AND ? ORDER BY stream_version`,
      ),
      version: db.prepare<[string], { v: number | null }>('SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ?'),
      headPosition: db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM events'),
      versionAt: db.prepare<[string, number], { v: number | null }>(
        'SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ? AND recorded_at <= ?',
      ),
    };
  }

  async commitBatch(batch: readonly PendingAppend[]): Promise<CommittedBatch> {
    const streams = [...new Set(batch.map((p) => p.request.stream))];
    const heads = this.cachedHeads(batch, streams);
    if (heads) {
      // One trip to the writer: no read is needed, since the heads are known and no id can exist yet.
      const plan = planBatch(batch, heads, new Map(), Date.now());
      // Every append refused (a stale expected version): nothing to write.
      if (plan.rows.length === 0) return { outcomes: plan.outcomes([]), inserted: [] };
      try {
        const positions = await this.writer.insertAndCommit(plan.rows, { begin: true });
        this.remember(plan.rows);
        return { outcomes: plan.outcomes(positions), inserted: insertedEvents(plan.rows, positions) };
      } catch {
        // A head moved behind this process's back (a UNIQUE violation) or the write failed: forget the
        // heads and decide the batch again from what the database holds.
        this.heads.clear();
      }
    }
    return this.commitRead(batch, streams);
  }

  /** The heads of every stream of the batch when all are known and every event id was generated here; null otherwise. */
  private cachedHeads(batch: readonly PendingAppend[], streams: readonly string[]): Map<string, StreamHead> | null {
    if (!batch.every((pending) => pending.events.every((event) => event.generatedId))) return null;
    const heads = new Map<string, StreamHead>();
    for (const stream of streams) {
      const head = this.heads.get(stream);
      if (!head) return null;
      heads.set(stream, head);
    }
    return heads;
  }

  /** Records the heads a committed batch left behind. */
  private remember(rows: readonly RowToInsert[]): void {
    for (const row of rows) this.heads.set(row.stream, { version: row.version, hash: row.hash });
    if (this.heads.size > MAX_CACHED_HEADS) this.heads.delete(this.heads.keys().next().value!);
  }

  /** The general path: BEGIN IMMEDIATE with the heads and existing ids read on the writer, then the planned rows and COMMIT. */
  private async commitRead(batch: readonly PendingAppend[], streams: readonly string[]): Promise<CommittedBatch> {
    const ids = batch.flatMap((p) => p.events.map((e) => e.id));
    const read = await this.writer.begin(streams, ids);
    try {
      const heads = new Map<string, StreamHead>(
        streams.map((stream, i) => {
          const row = read.heads[i];
          return [stream, row ? { version: row.stream_version, hash: Buffer.from(row.hash) } : { version: 0, hash: null }];
        }),
      );
      const existing = new Map<string, ExistingRow>();
      for (const row of read.existing) {
        if (!row) continue;
        existing.set(row.event_id, {
          position: row.position,
          id: row.event_id,
          stream: row.stream_id,
          version: row.stream_version,
          type: row.type,
          data: Buffer.from(row.data),
          metadata: Buffer.from(row.metadata),
        });
      }
      const plan = planBatch(batch, heads, existing, Date.now());
      const positions = plan.rows.length > 0 ? await this.writer.insertAndCommit(plan.rows) : (await this.writer.rollback(), []);
      for (const [stream, head] of heads) this.heads.set(stream, head);
      this.remember(plan.rows);
      return { outcomes: plan.outcomes(positions), inserted: insertedEvents(plan.rows, positions) };
    } catch (error) {
      await this.writer.rollback().catch(() => undefined);
      throw error;
    }
  }

  read(query: ReadQuery): Promise<LoggedEvent[]> {
    const { sql, params } = whereClause(query);
    const limit = query.limit ?? 1000;
    const rows = this.prepared<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ${sql} ORDER BY position LIMIT ${limit}`).all(...params);
    return Promise.resolve(rows.map(toLoggedEvent));
  }

  readStream(stream: string, fromVersion: number, toVersion: number): Promise<LoggedEvent[]> {
    return Promise.resolve(this.statements.stream.all(stream, fromVersion, toVersion).map(toLoggedEvent));
  }

  streamVersion(stream: string): Promise<number> {
    return Promise.resolve(this.statements.version.get(stream)?.v ?? 0);
  }

  headPosition(): Promise<number> {
    return Promise.resolve(this.statements.headPosition.get()?.p ?? 0);
  }

  versionAt(stream: string, time: number): Promise<number> {
    return Promise.resolve(this.statements.versionAt.get(stream, time)?.v ?? 0);
  }

  chainRows(stream: string | undefined, after: { stream: string; version: number } | null, limit: number): Promise<ChainRow[]> {
    const { sql, params } = chainRowsQuery(stream, after, limit);
    const rows = this.prepared<ChainEventRow>(sql).all(...params);
    return Promise.resolve(rows.map(toChainRow));
  }

  /** The prepared statement of a read query, compiled once per distinct SQL text (the tail reads after every commit). */
  private prepared<T>(sql: string): BetterSqlite3.Statement<unknown[], T> {
    let statement = this.readStatements.get(sql);
    if (!statement) {
      if (this.readStatements.size >= MAX_CACHED_STATEMENTS) this.readStatements.delete(this.readStatements.keys().next().value!);
      statement = this.db.prepare<unknown[], unknown>(sql);
      this.readStatements.set(sql, statement);
    }
    return statement as BetterSqlite3.Statement<unknown[], T>;
  }

  run<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const statement = this.db.prepare<unknown[], T>(sql);
    return statement.reader ? Promise.resolve(statement.all(...params)) : this.writer.exec<T>(sql, params);
  }

  async saveCheckpoint(checkpoint: Omit<DocCheckpoint, 'createdAt'>, createdAt: number): Promise<void> {
    await this.writer.exec(
      'INSERT OR IGNORE INTO doc_checkpoints (stream_id, stream_version, position, state, created_at) VALUES (?, ?, ?, ?, ?)',
      [checkpoint.stream, checkpoint.version, checkpoint.position, checkpoint.state, createdAt],
    );
  }

  latestCheckpoint(stream: string, atVersion: number | undefined): Promise<DocCheckpoint | null> {
    const row = this.db
      .prepare<[string, number], { stream_version: number; position: number; state: Buffer; created_at: number }>(
        'SELECT stream_version, position, state, created_at FROM doc_checkpoints WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT 1',
      )
      .get(stream, atVersion ?? Number.MAX_SAFE_INTEGER);
    return Promise.resolve(
      row ? { stream, version: row.stream_version, position: row.position, state: new Uint8Array(row.state), createdAt: row.created_at } : null,
    );
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
