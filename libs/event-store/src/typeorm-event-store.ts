import { DomainError, type LoggedEvent } from '@palimpsest/contracts';
import canonicalize from 'canonicalize';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type MigrationInterface } from 'typeorm';
import { uuidv7 } from 'uuidv7';
import type { AppendOutcome, EncodedEvent, PendingAppend } from './batch-plan.js';
import {
  EventStore,
  type AppendRequest,
  type AppendResult,
  type DocCheckpoint,
  type NewEvent,
  type ReadQuery,
  type Subscription,
  type SubscriptionHandler,
  type VerifyResult,
} from './event-store.js';
import { chainHash } from './hash-chain.js';
import { LiveTail } from './live-tail.js';
import type { LogDialect } from './log-dialect.js';
import { PostgresDialect } from './postgres-dialect.js';
import { SqliteDialect } from './sqlite-dialect.js';

/** Configuration of the TypeORM event store; every field has a documented default. */
export interface EventStoreOptions {
  /** `postgres://...` selects PostgreSQL; otherwise the embedded SQLite file at `sqlitePath`. */
  databaseUrl?: string;
  /** Path of the SQLite database file (default `./data/palimpsest.sqlite`). */
  sqlitePath?: string;
  /** PostgreSQL schema to use (default `public`); tests use one schema each. */
  postgresSchema?: string;
  /** Migrations to run at start (the committed set in `migrations/`). */
  migrations: Array<new () => MigrationInterface>;
  /** Most appends committed in one transaction (default 1000). */
  maxBatch?: number;
  /** Told about errors the store recovers from by itself (a failed live-tail read, retried); default: ignore. */
  onRecoveredError?: (error: unknown) => void;
  /** Largest encoded event payload accepted, in bytes (default 16 MiB). */
  maxEventBytes?: number;
}

const DEFAULTS = { sqlitePath: './data/palimpsest.sqlite', postgresSchema: 'public', maxBatch: 1000, maxEventBytes: 16 * 1024 * 1024 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface QueuedAppend extends PendingAppend {
  resolve(result: AppendResult): void;
  reject(error: Error): void;
}

/**
 * The event store on TypeORM (SQLite by default, PostgreSQL by URL). Appends are queued and
 * group-committed: everything queued while the previous transaction ran goes into the next one,
 * and each append is acknowledged only after its transaction commits.
 */
export class TypeOrmEventStore extends EventStore {
  private queue: QueuedAppend[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly tail: LiveTail;

  private constructor(
    private readonly dialect: LogDialect,
    private readonly options: Required<Omit<EventStoreOptions, 'databaseUrl' | 'onRecoveredError'>> & Pick<EventStoreOptions, 'databaseUrl' | 'onRecoveredError'>,
  ) {
    super();
    this.tail = new LiveTail((query) => this.dialect.read(query), options.onRecoveredError);
  }

  /** Opens the database, runs pending migrations and starts the live tail. */
  static async open(options: EventStoreOptions): Promise<TypeOrmEventStore> {
    const config = { ...DEFAULTS, ...options };
    const postgres = config.databaseUrl?.startsWith('postgres');
    let dataSource: DataSource;
    if (postgres) {
      dataSource = new DataSource({
        type: 'postgres',
        url: config.databaseUrl,
        schema: config.postgresSchema,
        migrations: config.migrations,
        migrationsTableName: 'schema_migrations',
        extra: { options: `-c search_path=${config.postgresSchema}`, max: 10 },
      });
    } else {
      mkdirSync(dirname(config.sqlitePath), { recursive: true });
      dataSource = new DataSource({
        type: 'better-sqlite3',
        database: config.sqlitePath,
        migrations: config.migrations,
        migrationsTableName: 'schema_migrations',
        prepareDatabase: (db: { pragma(sql: string): unknown }) => {
          db.pragma('journal_mode = WAL');
          // FULL: a commit is on disk before it is acknowledged, even across power loss.
          db.pragma('synchronous = FULL');
          db.pragma('busy_timeout = 5000');
        },
      });
    }
    await dataSource.initialize();
    if (postgres) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.postgresSchema}"`);
    await dataSource.runMigrations({ transaction: 'each' });
    const dialect = postgres ? new PostgresDialect(dataSource) : new SqliteDialect(dataSource);
    const store = new TypeOrmEventStore(dialect, config);
    store.tail.start(await dialect.headPosition());
    if (dialect instanceof PostgresDialect) await dialect.watchCommits(() => void store.tail.wake());
    return store;
  }

  /** Which database engine backs the store. */
  get engine(): 'sqlite' | 'postgres' {
    return this.dialect instanceof PostgresDialect ? 'postgres' : 'sqlite';
  }

  /** Calls `listener` with every committed batch, in global order (the bus publisher hooks in here). */
  onCommitted(listener: (events: readonly LoggedEvent[]) => void): () => void {
    return this.tail.onCommitted(listener);
  }

  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new DomainError('UNAVAILABLE', 'the event store is closed'));
    let events: EncodedEvent[];
    try {
      if (request.events.length === 0) throw new DomainError('BAD_REQUEST', 'an append needs at least one event');
      events = request.events.map((event) => this.encode(event));
      // A repeated id inside one append would fail the unique index and with it the whole group-commit batch.
      if (new Set(events.map((e) => e.id)).size !== events.length) {
        throw new DomainError('BAD_REQUEST', 'an append uses the same event id more than once');
      }
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, events, resolve, reject });
      this.flushing ??= new Promise<void>((done) => setImmediate(done)).then(() => this.flush());
    });
  }

  private encode(event: NewEvent): EncodedEvent {
    const id = event.id ?? uuidv7();
    if (!UUID.test(id)) throw new DomainError('BAD_REQUEST', `event id ${JSON.stringify(id)} is not a UUID`);
    const data =
      event.payload.encoding === 'yjs'
        ? Buffer.from(event.payload.bytes.buffer, event.payload.bytes.byteOffset, event.payload.bytes.byteLength)
        : Buffer.from(canonicalize(event.payload.json) ?? 'null', 'utf8');
    if (data.byteLength > this.options.maxEventBytes) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `event payload is ${data.byteLength} bytes; the limit is ${this.options.maxEventBytes}`);
    }
    return {
      id: id.toLowerCase(),
      type: event.type,
      encoding: event.payload.encoding,
      data,
      metadata: Buffer.from(canonicalize(event.metadata) ?? '{}', 'utf8'),
      actor: event.metadata.actor,
      notebookId: event.metadata.notebook_id,
      cellIds: event.metadata.cell_ids,
    };
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        let outcomes: AppendOutcome[];
        try {
          outcomes = await this.dialect.commitBatch(batch);
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const pending of batch) pending.reject(failure);
          continue;
        }
        outcomes.forEach((outcome, i) => (outcome.ok ? batch[i].resolve(outcome.result) : batch[i].reject(outcome.error)));
        if (outcomes.some((o) => o.ok && !o.result.duplicate)) void this.tail.wake();
      }
    } finally {
      this.flushing = null;
    }
  }

  read(query: ReadQuery): Promise<LoggedEvent[]> {
    return this.dialect.read(query);
  }

  readStream(stream: string, fromVersion = 1, toVersion = Number.MAX_SAFE_INTEGER): Promise<LoggedEvent[]> {
    return this.dialect.readStream(stream, fromVersion, toVersion);
  }

  streamVersion(stream: string): Promise<number> {
    return this.dialect.streamVersion(stream);
  }

  headPosition(): Promise<number> {
    return this.dialect.headPosition();
  }

  versionAt(stream: string, time: number): Promise<number> {
    return this.dialect.versionAt(stream, time);
  }

  subscribe(query: Omit<ReadQuery, 'limit'>, handler: SubscriptionHandler): Subscription {
    return this.tail.subscribe(query, handler);
  }

  /** Resolves once every committed event has been handed to live subscribers and listeners. */
  settled(): Promise<void> {
    return this.tail.idle();
  }

  async verify(stream?: string): Promise<VerifyResult> {
    let checked = 0;
    let cursor: { stream: string; version: number } | null = null;
    let previous: { stream: string; version: number; hash: Buffer } | null = null;
    for (;;) {
      const rows = await this.dialect.chainRows(stream, cursor, 2000);
      for (const row of rows) {
        const sameStream = previous?.stream === row.stream;
        const expectedVersion = sameStream ? previous!.version + 1 : 1;
        const expectedPrev = sameStream ? previous!.hash : null;
        const recomputed = chainHash(expectedPrev, { ...row, eventId: row.id });
        const bad =
          row.version !== expectedVersion
            ? `stream ${row.stream} jumps from version ${expectedVersion - 1} to ${row.version}`
            : !equalOrBothNull(row.prevHash, expectedPrev)
              ? `prev_hash of ${row.stream}@${row.version} does not match the previous event`
              : !recomputed.equals(row.hash)
                ? `hash of ${row.stream}@${row.version} does not match its stored columns`
                : null;
        if (bad) return { ok: false, checked, first_bad_position: row.position, stream: row.stream, reason: bad };
        checked += 1;
        previous = { stream: row.stream, version: row.version, hash: row.hash };
      }
      if (rows.length < 2000) break;
      cursor = { stream: rows[rows.length - 1].stream, version: rows[rows.length - 1].version };
    }
    return { ok: true, checked, first_bad_position: null, stream: null, reason: null };
  }

  saveCheckpoint(checkpoint: Omit<DocCheckpoint, 'createdAt'>): Promise<void> {
    return this.dialect.saveCheckpoint(checkpoint, Date.now());
  }

  latestCheckpoint(stream: string, atVersion?: number): Promise<DocCheckpoint | null> {
    return this.dialect.latestCheckpoint(stream, atVersion);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    // Dispatch what was committed, then stop before the connection goes: a NOTIFY that arrives
    // later must not start a read on a destroyed data source.
    await this.tail.wake();
    this.tail.stop();
    await this.tail.idle();
    await this.dialect.close();
  }
}

function equalOrBothNull(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b || (a?.length === 0 && b === null);
  return a.equals(b);
}
