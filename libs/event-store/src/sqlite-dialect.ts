import type { LoggedEvent } from '@palimpsest/contracts';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { planBatch, type AppendOutcome, type ExistingRow, type PendingAppend, type StreamHead } from './batch-plan.js';
import type { DocCheckpoint, ReadQuery } from './event-store.js';
import type { ChainRow, LogDialect } from './log-dialect.js';
import { chainRowsQuery, EVENT_COLUMNS, type ChainEventRow, toChainRow, toLoggedEvent, whereClause, type EventRow } from './row-mapping.js';

/** The underlying better-sqlite3 handle of a TypeORM data source. */
function nativeHandle(dataSource: DataSource): BetterSqlite3.Database {
  return (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
}

/**
 * SQLite through TypeORM's better-sqlite3 driver. better-sqlite3 is synchronous, so a whole batch
 * (BEGIN IMMEDIATE .. COMMIT) runs without yielding: nothing else can read the open transaction,
 * and rowid order is commit order, so `position > n` readers never skip an event.
 */
export class SqliteDialect implements LogDialect {
  private readonly db: BetterSqlite3.Database;
  private readonly statements;

  constructor(private readonly dataSource: DataSource) {
    this.db = nativeHandle(dataSource);
    const db = this.db;
    this.statements = {
      head: db.prepare<[string], { stream_version: number; hash: Buffer }>(
        'SELECT stream_version, hash FROM events WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1',
      ),
      byId: db.prepare<[string], { position: number; event_id: string; stream_id: string; stream_version: number; type: string; data: Buffer; metadata: Buffer }>(
        'SELECT position, event_id, stream_id, stream_version, type, data, metadata FROM events WHERE event_id = ?',
      ),
      insert: db.prepare(
        `INSERT INTO events (event_id, stream_id, stream_version, type, data_encoding, data, metadata, actor, notebook_id, recorded_at, prev_hash, hash)
         VALUES (@id, @stream, @version, @type, @encoding, @data, @metadata, @actor, @notebookId, @recordedAt, @prevHash, @hash)`,
      ),
      insertCell: db.prepare('INSERT INTO event_cells (cell_id, position) VALUES (?, ?)'),
      stream: db.prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version BETWEEN ? AND ? ORDER BY stream_version`,
      ),
      version: db.prepare<[string], { v: number | null }>('SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ?'),
      headPosition: db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM events'),
      versionAt: db.prepare<[string, number], { v: number | null }>(
        'SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ? AND recorded_at <= ?',
      ),
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
  }

  commitBatch(batch: readonly PendingAppend[]): Promise<AppendOutcome[]> {
    const s = this.statements;
    s.begin.run();
    try {
      const heads = new Map<string, StreamHead>();
      for (const stream of new Set(batch.map((p) => p.request.stream))) {
        const row = s.head.get(stream);
        heads.set(stream, row ? { version: row.stream_version, hash: row.hash } : { version: 0, hash: null });
      }
      const existing = new Map<string, ExistingRow>();
      for (const pending of batch) {
        for (const event of pending.events) {
          const row = s.byId.get(event.id);
          if (row) {
            existing.set(event.id, {
              position: row.position,
              id: row.event_id,
              stream: row.stream_id,
              version: row.stream_version,
              type: row.type,
              data: row.data,
              metadata: row.metadata,
            });
          }
        }
      }
      const plan = planBatch(batch, heads, existing, Date.now());
      const positions = plan.rows.map((row) => {
        const position = Number(s.insert.run(row).lastInsertRowid);
        for (const cellId of new Set(row.cellIds)) s.insertCell.run(cellId, position);
        return position;
      });
      s.commit.run();
      return Promise.resolve(plan.outcomes(positions));
    } catch (error) {
      if (this.db.inTransaction) s.rollback.run();
      throw error;
    }
  }

  read(query: ReadQuery): Promise<LoggedEvent[]> {
    const { sql, params } = whereClause(query);
    const limit = query.limit ?? 1000;
    const rows = this.db.prepare<unknown[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ${sql} ORDER BY position LIMIT ${limit}`).all(...params);
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
    const rows = this.db.prepare<unknown[], ChainEventRow>(sql).all(...params);
    return Promise.resolve(rows.map(toChainRow));
  }

  run<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const statement = this.db.prepare<unknown[], T>(sql);
    if (statement.reader) return Promise.resolve(statement.all(...params));
    statement.run(...params);
    return Promise.resolve([]);
  }

  saveCheckpoint(checkpoint: Omit<DocCheckpoint, 'createdAt'>, createdAt: number): Promise<void> {
    this.db
      .prepare('INSERT OR IGNORE INTO doc_checkpoints (stream_id, stream_version, position, state, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(checkpoint.stream, checkpoint.version, checkpoint.position, Buffer.from(checkpoint.state), createdAt);
    return Promise.resolve();
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
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
