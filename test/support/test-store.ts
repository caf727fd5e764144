import { TypeOrmEventStore, type EventStoreOptions } from '@palimpsest/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { MIGRATIONS } from '../../migrations/index.js';

/** The store backends the integration suites run against: SQLite always, PostgreSQL when DATABASE_URL is set. */
export const STORE_BACKENDS: ReadonlyArray<'sqlite' | 'postgres'> = process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** A store on a fresh SQLite file or a fresh PostgreSQL schema, with the cleanup that removes it. */
export interface TestStore {
  store: TypeOrmEventStore;
  /** How to open the same database again (after a close or a crash). */
  reopen(): Promise<TypeOrmEventStore>;
  /** Runs raw SQL behind the application's back (for tamper tests). */
  rawSql(sql: string): Promise<void>;
  /** Runs one raw SELECT behind the application's back and returns its rows. */
  rawQuery<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** The SQLite file path, or the PostgreSQL schema name. */
  location: string;
  cleanup(): Promise<void>;
}

/** Opens an isolated store on the given backend (`options` adds store options such as a seal key). */
export async function openTestStore(backend: 'sqlite' | 'postgres', options: Partial<EventStoreOptions> = {}): Promise<TestStore> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'palimpsest-test-'));
    const sqlitePath = join(dir, 'log.sqlite');
    const open = () => TypeOrmEventStore.open({ ...options, sqlitePath, migrations: MIGRATIONS });
    const store = await open();
    let current = store;
    return {
      store,
      location: sqlitePath,
      reopen: async () => (current = await open()),
      rawSql: async (sql) => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(sqlitePath);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      rawQuery: async <T>(sql: string) => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(sqlitePath, { readonly: true });
        try {
          return db.prepare(sql).all() as T[];
        } finally {
          db.close();
        }
      },
      cleanup: async () => {
        await current.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const databaseUrl = process.env.DATABASE_URL!;
  const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const open = () => TypeOrmEventStore.open({ ...options, databaseUrl, postgresSchema: schema, migrations: MIGRATIONS });
  const store = await open();
  let current = store;
  const rawQuery = async <T>(sql: string): Promise<T[]> => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`SET search_path = ${schema}`);
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const rawSql = async (sql: string) => {
    await rawQuery(sql);
  };
  return {
    store,
    location: schema,
    reopen: async () => (current = await open()),
    rawSql,
    rawQuery,
    cleanup: async () => {
      await current.close();
      await rawSql(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}
