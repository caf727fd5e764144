import type { LoggedEvent } from '@palimpsest/contracts';
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { planBatch, type ExistingRow, type PendingAppend, type RowToInsert, type StreamHead } from './batch-plan.js';
import type { DocCheckpoint, ReadQuery } from './event-store.js';
import type { ChainRow, CommittedBatch, LogDialect } from './log-dialect.js';
import { chainRowsQuery, EVENT_COLUMNS, insertedEvents, type ChainEventRow, toChainRow, toLoggedEvent, whereClause, type EventRow } from './row-mapping.js';

/** Every append transaction takes this advisory lock, so commit order is position order on every node. */
const APPEND_LOCK_KEY = 7_340_113_901;
/** How to read each `events` column the append's INSERT unnests off a planned row, in column order. */
const INSERTED_COLUMNS: ReadonlyArray<(row: RowToInsert) => unknown> = [
  (row) => row.event.id,
  (row) => row.stream,
  (row) => row.version,
  (row) => row.event.type,
  (row) => row.event.encoding,
  (row) => row.event.data,
  (row) => row.event.metadata,
  (row) => row.event.actor,
  (row) => row.event.notebookId,
  (row) => row.recordedAt,
  (row) => row.prevHash,
  (row) => row.hash,
];
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
  /** The positions this node's commits NOTIFY, until the notification comes back: the local tail has them already. */
  private readonly ownCommits = new Set<number>();

  constructor(private readonly dataSource: DataSource) {}

  private async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.dataSource.query<T[]>(numbered(sql), params);
  }

  /**
   * One append transaction in four round trips on a pool client of its own: BEGIN with the lock, the heads and
   * possible retries read under it, every insert and the NOTIFY in one statement, COMMIT. (The lock must be held
   * before the read starts: a statement's snapshot is taken when the statement begins.) The inserted rows go to
   * this node's live tail, which dispatches them without a read when they continue exactly where it is, and
   * reads when another node committed in between.
   */
  async commitBatch(batch: readonly PendingAppend[]): Promise<CommittedBatch> {
    const client = await this.pool().connect();
    let broken = false;
    let announced: number | null = null;
    try {
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_KEY})`);
      const { heads, existing } = await this.lockedState(client, batch);
      const plan = planBatch(batch, heads, existing, Date.now());
      const positions = plan.rows.length > 0 ? await this.insertRows(client, plan.rows) : [];
      // Reduced, not spread: a batch may hold more rows than a call takes arguments.
      if (positions.length > 0) this.ownCommits.add((announced = positions.reduce((a, b) => Math.max(a, b))));
      await client.query('COMMIT');
      return { outcomes: plan.outcomes(positions), inserted: insertedEvents(plan.rows, positions) };
    } catch (error) {
      if (announced !== null) this.ownCommits.delete(announced);
      // A connection that failed outside SQL, or could not roll back, is not given back to the pool.
      broken = !(error instanceof DatabaseError) || (await client.query('ROLLBACK').then(() => false, () => true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** The heads of the batch's streams and the stored events whose ids appends chose themselves (retries), in one query. */
  private async lockedState(client: PoolClient, batch: readonly PendingAppend[]): Promise<{ heads: Map<string, StreamHead>; existing: Map<string, ExistingRow> }> {
    const streams = [...new Set(batch.map((p) => p.request.stream))];
    // A store-generated id is new by construction: only appends with ids of their own can be retries.
    const ownIds = batch.filter((p) => !p.events.every((e) => e.generatedId)).flatMap((p) => p.events.map((e) => e.id));
    const { rows } = await client.query<{ head: boolean; position: string | null; event_id: string | null; stream_id: string; stream_version: string; type: string | null; data: Buffer | null; metadata: Buffer | null; hash: Buffer | null }>({
      name: 'palimpsest-append-state', // prepared once per connection
      // Each head is the first entry of a backward scan of the (stream_id, stream_version) index, whatever the stream's length.
      text: `SELECT true AS head, NULL::bigint AS position, NULL::uuid AS event_id, h.stream_id, h.stream_version, NULL::text AS type, NULL::bytea AS data,
              NULL::bytea AS metadata, h.hash
         FROM unnest($1::text[]) AS s(stream_id)
         CROSS JOIN LATERAL (SELECT stream_id, stream_version, hash FROM events WHERE stream_id = s.stream_id ORDER BY stream_version DESC LIMIT 1) AS h
       UNION ALL
       SELECT false, position, event_id, stream_id, stream_version, type, data, metadata, NULL FROM events WHERE event_id = ANY($2::uuid[])`,
      values: [streams, ownIds],
    });
    const heads = new Map<string, StreamHead>();
    const existing = new Map<string, ExistingRow>();
    for (const r of rows) {
      if (r.head) heads.set(r.stream_id, { version: Number(r.stream_version), hash: r.hash });
      else existing.set(r.event_id!, { position: Number(r.position), id: r.event_id!, stream: r.stream_id, version: Number(r.stream_version), type: r.type!, data: r.data!, metadata: r.metadata! });
    }
    return { heads, existing };
  }

  /** Inserts the planned rows, their cell and message-id index entries, and NOTIFYs the last position, in one statement; answers the positions in row order. */
  private async insertRows(client: PoolClient, rows: readonly RowToInsert[]): Promise<number[]> {
    const events = rows.map((r) => r.event);
    const cells = events.flatMap((e) => [...new Set(e.cellIds)].map((cellId) => [e.id, cellId] as const));
    const msgIds = events.flatMap((e) => e.threadIds.map((msgId) => [e.id, msgId] as const));
    const { rows: inserted } = await client.query<{ position: string; event_id: string }>({
      name: 'palimpsest-append-insert', // prepared once per connection
      text: `WITH inserted AS (
         INSERT INTO events (event_id, stream_id, stream_version, type, data_encoding, data, metadata, actor, notebook_id, recorded_at, prev_hash, hash)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bytea[], $7::bytea[], $8::text[], $9::text[], $10::bigint[], $11::bytea[], $12::bytea[])
         RETURNING position, event_id
       ), indexed AS (
         INSERT INTO event_cells (cell_id, position)
         SELECT cell.cell_id, inserted.position FROM unnest($13::uuid[], $14::text[]) AS cell(event_id, cell_id) JOIN inserted USING (event_id)
       ), threaded AS (
         INSERT INTO event_msg_ids (msg_id, position)
         SELECT ids.msg_id, inserted.position FROM unnest($15::uuid[], $16::text[]) AS ids(event_id, msg_id) JOIN inserted USING (event_id)
       ), announced AS (
         SELECT pg_notify($17, (SELECT max(position) FROM inserted)::text)
       )
       SELECT position, event_id FROM inserted, announced`,
      values: [
        ...INSERTED_COLUMNS.map((column) => rows.map(column)),
        cells.map((c) => c[0]),
        cells.map((c) => c[1]),
        msgIds.map((m) => m[0]),
        msgIds.map((m) => m[1]),
        COMMIT_CHANNEL,
      ],
    });
    const byId = new Map(inserted.map((r) => [r.event_id, Number(r.position)]));
    return events.map((e) => byId.get(e.id)!);
  }

  /** TypeORM's pg pool (the appends take clients of their own from it, to send several statements at once). */
  private pool(): Pool {
    return (this.dataSource.driver as unknown as { master: Pool }).master;
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

  /**
   * Calls `onCommit` with the last position of every commit of another node (LISTEN on the commit channel); this
   * node's own commits reach its tail with their rows.
   */
  async watchCommits(onCommit: (position: number) => void): Promise<void> {
    this.listener = await this.pool().connect();
    this.listener.on('notification', (message) => {
      if (message.channel !== COMMIT_CHANNEL) return;
      const position = Number(message.payload);
      const own = this.ownCommits.has(position);
      // Notifications come in commit order: no own commit at or before this one is announced later.
      for (const committed of this.ownCommits) if (committed <= position) this.ownCommits.delete(committed);
      if (!own) onCommit(position);
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
