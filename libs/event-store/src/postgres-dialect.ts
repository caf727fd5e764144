import type { LoggedEvent } from '@palimpsest/contracts';
import type { Pool, PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { planBatch, type AppendOutcome, type ExistingRow, type PendingAppend, type StreamHead } from './batch-plan.js';
import type { DocCheckpoint, ReadQuery } from './event-store.js';
import type { ChainRow, CommittedBatch, LogDialect } from './log-dialect.js';
import { chainRowsQuery, EVENT_COLUMNS, type ChainEventRow, toChainRow, toLoggedEvent, whereClause, type EventRow } from './row-mapping.js';

/** Every append transaction takes this advisory lock, so commit order is position order on every node. */
const APPEND_LOCK_KEY = 7_340_113_901;
/** The NOTIFY channel on which committed positions are announced to every node's live tail. */
export const COMMIT_CHANNEL = 'palimpsest_log';

/** Rewrites `?` placeholders as PostgreSQL's `$n`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * PostgreSQL through TypeORM. Appends serialize on a transaction-scoped advisory lock held until
 * commit, so a reader filtering `position > n` can never see a later position before an earlier
 * one commits (the sequence-gap skip bug of many PostgreSQL event stores). Group commit amortizes
 * the lock: one transaction per batch. Each commit NOTIFYs its last position for other nodes.
 */
export class PostgresDialect implements LogDialect {
  private listener: PoolClient | null = null;

  constructor(private readonly dataSource: DataSource) {}

  private async query<T>(sql: string, params: unknown[] = [], runner?: QueryRunner): Promise<T[]> {
    return (await (runner ?? this.dataSource).query(numbered(sql), params)) as T[];
  }

  /** Other nodes may commit between this node's batches, so the live tail always reads what was committed. */
  async commitBatch(batch: readonly PendingAppend[]): Promise<CommittedBatch> {
    return { outcomes: await this.commitOutcomes(batch), inserted: null };
  }

  private async commitOutcomes(batch: readonly PendingAppend[]): Promise<AppendOutcome[]> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY]);
      const streams = [...new Set(batch.map((p) => p.request.stream))];
      const headRows = await this.query<{ stream_id: string; stream_version: string; hash: Buffer }>(
        'SELECT DISTINCT ON (stream_id) stream_id, stream_version, hash FROM events WHERE stream_id = ANY(?) ORDER BY stream_id, stream_version DESC',
        [streams],
        runner,
      );
      const heads = new Map<string, StreamHead>(headRows.map((r) => [r.stream_id, { version: Number(r.stream_version), hash: r.hash }]));
      const ids = batch.flatMap((p) => p.events.map((e) => e.id));
      const existingRows = await this.query<{ position: string; event_id: string; stream_id: string; stream_version: string; type: string; data: Buffer; metadata: Buffer }>(
        'SELECT position, event_id, stream_id, stream_version, type, data, metadata FROM events WHERE event_id = ANY(?::uuid[])',
        [ids],
        runner,
      );
      const existing = new Map<string, ExistingRow>(
        existingRows.map((r) => [
          r.event_id,
          { position: Number(r.position), id: r.event_id, stream: r.stream_id, version: Number(r.stream_version), type: r.type, data: r.data, metadata: r.metadata },
        ]),
      );
      const plan = planBatch(batch, heads, existing, Date.now());
      let positions: number[] = [];
      if (plan.rows.length > 0) {
        const rows = plan.rows;
        const inserted = await this.query<{ position: string; event_id: string }>(
          `INSERT INTO events (event_id, stream_id, stream_version, type, data_encoding, data, metadata, actor, notebook_id, recorded_at, prev_hash, hash)
           SELECT * FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::bytea[], ?::bytea[], ?::text[], ?::text[], ?::bigint[], ?::bytea[], ?::bytea[])
           RETURNING position, event_id`,
          [
            rows.map((r) => r.id),
            rows.map((r) => r.stream),
            rows.map((r) => r.version),
            rows.map((r) => r.type),
            rows.map((r) => r.encoding),
            rows.map((r) => r.data),
            rows.map((r) => r.metadata),
            rows.map((r) => r.actor),
            rows.map((r) => r.notebookId),
            rows.map((r) => r.recordedAt),
            rows.map((r) => r.prevHash),
            rows.map((r) => r.hash),
          ],
          runner,
        );
        const byId = new Map(inserted.map((r) => [r.event_id, Number(r.position)]));
        positions = rows.map((r) => byId.get(r.id)!);
        const cells = rows.flatMap((r, i) => [...new Set(r.cellIds)].map((cellId) => [cellId, positions[i]] as const));
        if (cells.length > 0) {
          await this.query('INSERT INTO event_cells (cell_id, position) SELECT * FROM unnest(?::text[], ?::bigint[])', [
            cells.map((c) => c[0]),
            cells.map((c) => c[1]),
          ], runner);
        }
        await runner.query(`SELECT pg_notify($1, $2)`, [COMMIT_CHANNEL, String(Math.max(...positions))]);
      }
      await runner.commitTransaction();
      return plan.outcomes(positions);
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  async read(query: ReadQuery): Promise<LoggedEvent[]> {
    const { sql, params } = whereClause(query);
    const rows = await this.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ${sql} ORDER BY position LIMIT ${query.limit ?? 1000}`, params);
    return rows.map(toLoggedEvent);
  }

  async readStream(stream: string, fromVersion: number, toVersion: number): Promise<LoggedEvent[]> {
    const rows = await this.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version BETWEEN ? AND ? ORDER BY stream_version`,
      [stream, fromVersion, toVersion],
    );
    return rows.map(toLoggedEvent);
  }

  async streamVersion(stream: string): Promise<number> {
    const [row] = await this.query<{ v: string | null }>('SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ?', [stream]);
    return Number(row?.v ?? 0);
  }

  async headPosition(): Promise<number> {
    const [row] = await this.query<{ p: string | null }>('SELECT MAX(position) AS p FROM events');
    return Number(row?.p ?? 0);
  }

  async versionAt(stream: string, time: number): Promise<number> {
    const [row] = await this.query<{ v: string | null }>(
      'SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ? AND recorded_at <= ?',
      [stream, time],
    );
    return Number(row?.v ?? 0);
  }

  async chainRows(stream: string | undefined, after: { stream: string; version: number } | null, limit: number): Promise<ChainRow[]> {
    const { sql, params } = chainRowsQuery(stream, after, limit, ' COLLATE "C"');
    const rows = await this.query<ChainEventRow>(sql, params);
    return rows.map(toChainRow);
  }

  run<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.query<T>(sql, [...params]);
  }

  async saveCheckpoint(checkpoint: Omit<DocCheckpoint, 'createdAt'>, createdAt: number): Promise<void> {
    await this.query(
      'INSERT INTO doc_checkpoints (stream_id, stream_version, position, state, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [checkpoint.stream, checkpoint.version, checkpoint.position, Buffer.from(checkpoint.state), createdAt],
    );
  }

  async latestCheckpoint(stream: string, atVersion: number | undefined): Promise<DocCheckpoint | null> {
    const [row] = await this.query<{ stream_version: string; position: string; state: Buffer; created_at: string }>(
      'SELECT stream_version, position, state, created_at FROM doc_checkpoints WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT 1',
      [stream, atVersion ?? Number.MAX_SAFE_INTEGER],
    );
    return row
      ? { stream, version: Number(row.stream_version), position: Number(row.position), state: new Uint8Array(row.state), createdAt: Number(row.created_at) }
      : null;
  }

  /** Calls `onCommit` with the last position of every commit on any node (LISTEN on the commit channel). */
  async watchCommits(onCommit: (position: number) => void): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    this.listener = await pool.connect();
    this.listener.on('notification', (message) => {
      if (message.channel === COMMIT_CHANNEL) onCommit(Number(message.payload));
    });
    await this.listener.query(`LISTEN ${COMMIT_CHANNEL}`);
  }

  async close(): Promise<void> {
    if (this.listener) {
      await this.listener.query(`UNLISTEN ${COMMIT_CHANNEL}`).catch(() => undefined);
      this.listener.release();
      this.listener = null;
    }
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
