import { DomainError, type EventMetadata, type EventPayload, type LoggedEvent } from '@palimpsest/contracts';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type MigrationInterface } from 'typeorm';
import { uuidv7 } from 'uuidv7';
import type { EncodedEvent, PendingAppend } from './batch-plan.js';
import { canonicalForm } from './canonical-json.js';
import {
  EventStore,
  type AppendRequest,
  type AppendResult,
  type DocCheckpoint,
  type NewEvent,
  type ReadQuery,
  type StreamSeal,
  type Subscription,
  type SubscriptionHandler,
  type VerifyOptions,
  type VerifyResult,
} from './event-store.js';
import { verifyChains } from './chain-verifier.js';
import { LiveTail } from './live-tail.js';
import { threadIdsOf } from './message-ids.js';
import type { CommittedBatch, LogDialect } from './log-dialect.js';
import { PostgresDialect } from './postgres-dialect.js';
import { whereClause } from './row-mapping.js';
import { SqliteDialect } from './sqlite-dialect.js';
import { SqliteWriter } from './sqlite-writer.js';
import { SealTable, sealSignature } from './stream-seals.js';

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
  /** Key that signs stream seals (`deriveSealKey(secret)`); without it the store cannot seal, and verify compares seals without checking signatures. */
  sealKey?: Uint8Array;
}

/** The SQLite store's file name in a server data directory (the server, `verify` and `backup` look for it there). */
export const SQLITE_FILE_NAME = 'palimpsest.sqlite';

const DEFAULTS = { sqlitePath: `./data/${SQLITE_FILE_NAME}`, postgresSchema: 'public', maxBatch: 1000, maxEventBytes: 16 * 1024 * 1024 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Options without a default. */
type OptionalOption = 'databaseUrl' | 'onRecoveredError' | 'sealKey';

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
  private readonly seals: SealTable;
  /** Global position up to which every stream head has been sealed by this process. */
  private sealedUpTo = 0;

  private constructor(
    private readonly dialect: LogDialect,
    private readonly options: Required<Omit<EventStoreOptions, OptionalOption>> & Pick<EventStoreOptions, OptionalOption>,
  ) {
    super();
    this.tail = new LiveTail((query) => this.dialect.read(query), options.onRecoveredError);
    this.seals = new SealTable(dialect);
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
          // Migrations run on this connection; afterwards it only reads, and the writer thread writes.
          db.pragma('journal_mode = WAL');
          db.pragma('synchronous = FULL');
          db.pragma('busy_timeout = 5000');
        },
      });
    }
    await dataSource.initialize();
    if (postgres) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.postgresSchema}"`);
    await dataSource.runMigrations({ transaction: 'each' });
    const dialect = postgres ? new PostgresDialect(dataSource) : new SqliteDialect(dataSource, new SqliteWriter(config.sqlitePath));
    const store = new TypeOrmEventStore(dialect, config);
    store.tail.start(await dialect.headPosition());
    if (dialect instanceof PostgresDialect) await dialect.watchCommits((position) => void store.tail.notified(position));
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
    let data: Buffer;
    let payload: EventPayload;
    if (event.payload.encoding === 'yjs') {
      data = Buffer.from(event.payload.bytes.buffer, event.payload.bytes.byteOffset, event.payload.bytes.byteLength);
      payload = { encoding: 'yjs', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    } else {
      const json = canonicalForm(event.payload.json);
      data = Buffer.from(json.text, 'utf8');
      payload = { encoding: 'json', json: json.value };
    }
    if (data.byteLength > this.options.maxEventBytes) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `event payload is ${data.byteLength} bytes; the limit is ${this.options.maxEventBytes}`);
    }
    const metadata = canonicalForm(event.metadata);
    return {
      id: id.toLowerCase(),
      type: event.type,
      encoding: event.payload.encoding,
      data,
      metadata: Buffer.from(metadata.text, 'utf8'),
      decoded: { payload, metadata: metadata.value as EventMetadata },
      actor: event.metadata.actor,
      notebookId: event.metadata.notebook_id,
      cellIds: event.metadata.cell_ids,
      threadIds: threadIdsOf(event.type, event.payload),
      generatedId: event.id === undefined,
    };
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        let committed: CommittedBatch;
        try {
          committed = await this.dialect.commitBatch(batch);
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const pending of batch) pending.reject(failure);
          continue;
        }
        committed.outcomes.forEach((outcome, i) => (outcome.ok ? batch[i].resolve(outcome.result) : batch[i].reject(outcome.error)));
        if (committed.outcomes.some((o) => o.ok && !o.result.duplicate)) void this.tail.wake(committed.inserted);
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

  verify(stream?: string): Promise<VerifyResult> {
    return this.verifyStreams({ stream });
  }

  verifyStreams(options: VerifyOptions = {}): Promise<VerifyResult> {
    return verifyChains(
      {
        chainRows: (stream, after, limit) => this.dialect.chainRows(stream, after, limit),
        countEvents: (stream) => this.count({ stream }),
        seals: this.seals,
        sealKey: this.options.sealKey,
      },
      options,
    );
  }

  async count(query: Omit<ReadQuery, 'limit'>): Promise<number> {
    const { sql, params } = whereClause(query);
    const [row] = await this.dialect.run<{ n: number | string }>(`SELECT COUNT(*) AS n FROM events ${sql}`, params);
    return Number(row?.n ?? 0);
  }

  async sealHeads(): Promise<StreamSeal[]> {
    const key = this.options.sealKey;
    if (!key) throw new DomainError('UNAVAILABLE', 'the event store has no seal key');
    const upTo = await this.dialect.headPosition();
    const latest = await this.seals.latest();
    const sealedAt = Date.now();
    const seals = (await this.seals.headsChangedAfter(this.sealedUpTo, upTo))
      .filter((head) => (latest.get(head.stream)?.version ?? 0) < head.version)
      .map((head) => {
        const unsigned = { stream: head.stream, version: head.version, position: head.position, headHash: head.hash, sealedAt };
        return { ...unsigned, signature: sealSignature(key, unsigned) };
      });
    await this.seals.insert(seals);
    this.sealedUpTo = upTo;
    return seals;
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

