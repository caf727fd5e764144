/**
 * Event store benchmark: acknowledged appends/s (1 and 50 concurrent writers, single events), batched
 * appends (100 events per append), replay of a 100,000-update Yjs notebook stream into a Y.Doc, and the
 * threaded view (a request and the messages it caused) on a kernel stream of 100,000 messages, on
 * SQLite (always) and PostgreSQL (when DATABASE_URL is set), next to a raw better-sqlite3 peer on the same
 * disk. Median of RUNS (default 3) runs, each on a fresh database. Prints the setup and a markdown table.
 *
 *   npm run bench:event-store
 *   (= node --import ./test/support/register-swc.mjs bench/event-store.ts)
 */
import type { EventMetadata } from '@palimpsest/contracts';
import { TypeOrmEventStore, type NewEvent } from '@palimpsest/event-store';
import { MAX_THREAD_PAGE, readThread } from '@palimpsest/kernels';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { uuidv7 } from 'uuidv7';
import * as Y from 'yjs';
import { MIGRATIONS } from '../migrations/index.js';

type Backend = 'sqlite' | 'postgres';

const RUNS = Number(process.env.RUNS ?? 3);
/** How long each append measurement runs, in ms. */
const APPEND_MS = Number(process.env.APPEND_MS ?? 2500);
const REPLAY_EVENTS = Number(process.env.REPLAY_EVENTS ?? 100_000);
/** Messages in the kernel stream of the threaded-view scenario. */
const THREAD_EVENTS = Number(process.env.THREAD_EVENTS ?? 100_000);
const databaseUrl = process.env.DATABASE_URL;
const backends: Backend[] = databaseUrl ? ['sqlite', 'postgres'] : ['sqlite'];
const workDir = mkdtempSync(join(tmpdir(), 'palimpsest-bench-'));

/** ~300 B of JSON payload, ~450 B per stored event with metadata (the reference notes' event size). */
const payload = {
  channel: 'iopub',
  msg_type: 'stream',
  msg_id: '8c4f3b0e-6a0b-4a55-9d2c-5a1f2e3d4c5b',
  parent_msg_id: '1f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c',
  content: { name: 'stdout', text: 'x'.repeat(120) },
};
const metadata: EventMetadata = { actor: 'alice', cell_ids: ['cell-1'], notebook_id: 'bench' };
const smallEvent = (): NewEvent => ({ type: 'kernel.message', payload: { encoding: 'json', json: payload }, metadata });

/** A store on a fresh SQLite file or PostgreSQL schema, with what the scenarios need around it. */
interface BenchStore {
  store: TypeOrmEventStore;
  /** Updates PostgreSQL's planner statistics, as its autovacuum does once a table has grown (SQLite has none to update). */
  analyze(): Promise<void>;
  /** Closes the store and removes its file or schema. */
  drop(): Promise<void>;
}

/** Opens a BenchStore on the given backend. */
async function freshStore(backend: Backend, name: string): Promise<BenchStore> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(workDir, `${name}-`));
    const store = await TypeOrmEventStore.open({ sqlitePath: join(dir, 'log.sqlite'), migrations: MIGRATIONS });
    return { store, analyze: () => Promise.resolve(), drop: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const schema = `bench_${process.pid}_${name.replace(/\W/g, '_')}_${Math.random().toString(36).slice(2, 8)}`;
  const store = await TypeOrmEventStore.open({ databaseUrl, postgresSchema: schema, migrations: MIGRATIONS });
  const sql = async (text: string) => {
    const client = new Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
    await client.connect();
    await client.query(text).finally(() => client.end());
  };
  return {
    store,
    analyze: () => sql('ANALYZE'),
    drop: async () => {
      await store.close();
      await sql(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/** Runs `writers` loops appending `perAppend` events each until the deadline; returns acknowledged events/s. */
async function appendRate(store: TypeOrmEventStore, writers: number, perAppend: number): Promise<number> {
  // Warm-up: prepared statements, pool connections, first pages.
  await Promise.all(Array.from({ length: writers }, (_, w) => store.append({ stream: `notebook:warm${w}`, events: [smallEvent()] })));
  let events = 0;
  const start = performance.now();
  const deadline = start + APPEND_MS;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < deadline) {
        await store.append({ stream: `notebook:w${w}`, events: Array.from({ length: perAppend }, smallEvent) });
        events += perAppend;
      }
    }),
  );
  return events / ((performance.now() - start) / 1000);
}

/** 20 cells and random single-character edits: one real Yjs update per edit (seeded, so every run is equal). */
function notebookUpdates(count: number): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const cells = doc.getArray<Y.Map<unknown>>('cells');
  for (let i = 0; i < 20; i++) {
    const cell = new Y.Map<unknown>();
    cell.set('id', `cell-${i}`);
    cell.set('cell_type', 'code');
    cell.set('source', new Y.Text());
    cells.push([cell]);
  }
  const sources = cells.toArray().map((cell) => cell.get('source') as Y.Text);
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  while (updates.length < count) {
    const source = sources[Math.floor(random() * sources.length)];
    if (source.length > 0 && random() < 0.2) source.delete(Math.floor(random() * source.length), 1);
    else source.insert(Math.floor(random() * (source.length + 1)), String.fromCharCode(97 + Math.floor(random() * 26)));
  }
  doc.destroy();
  return updates.slice(0, count);
}

/** Stores the updates as one notebook stream, then times reading it back and applying it to a fresh Y.Doc. */
async function replay(store: TypeOrmEventStore, updates: readonly Uint8Array[], expected: string): Promise<{ rate: number; seconds: number }> {
  for (let i = 0; i < updates.length; i += 1000) {
    const events = updates.slice(i, i + 1000).map(
      (bytes): NewEvent => ({ type: 'notebook.cell.source_edited', payload: { encoding: 'yjs', bytes }, metadata: { actor: 'alice', cell_ids: [], notebook_id: 'bench' } }),
    );
    await store.append({ stream: 'notebook:replay', events });
  }
  // The live tail hands every committed event to subscribers; let it finish before timing the replay.
  await store.settled();
  // Garbage left by the earlier append runs is collected first (npm run bench:event-store passes --expose-gc),
  // so the replay is not charged for it.
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  const doc = new Y.Doc();
  const page = 20_000;
  let applied = 0;
  for (let from = 1; ; from += page) {
    const events = await store.readStream('notebook:replay', from, from + page - 1);
    // One transaction for the page: observers and cleanup run once, not per update.
    doc.transact(() => {
      for (const event of events) if (event.payload.encoding === 'yjs') Y.applyUpdate(doc, event.payload.bytes);
    });
    applied += events.length;
    if (events.length < page) break;
  }
  const seconds = (performance.now() - start) / 1000;
  const state = Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64');
  if (applied !== updates.length || createHash('sha256').update(state).digest('hex') !== expected) throw new Error('replay produced another document');
  doc.destroy();
  return { rate: applied / seconds, seconds };
}

/** One kernel message of the threaded-view scenario, with its own msg_id, and its parent's when it has one. */
function kernelMessage(msgType: string, msgId: string, parentId: string | null): NewEvent {
  return { type: 'kernel.message', payload: { encoding: 'json', json: { ...payload, msg_type: msgType, msg_id: msgId, parent_msg_id: parentId } }, metadata };
}

/**
 * Logs a request whose output is THREAD_EVENTS messages, then a request answered by 2; returns the median
 * time of 5 threaded-view reads of each (what `GET /api/kernels/:id/messages?parent=` does).
 */
async function threadedView(bench: BenchStore): Promise<{ short: number; long: number }> {
  const [longId, shortId] = [uuidv7(), uuidv7()];
  await bench.store.append({ stream: 'kernel:threads', events: [kernelMessage('execute_request', longId, null)] });
  for (let i = 0; i < THREAD_EVENTS; i += 1000) {
    const events = Array.from({ length: Math.min(1000, THREAD_EVENTS - i) }, () => kernelMessage('stream', uuidv7(), longId));
    await bench.store.append({ stream: 'kernel:threads', events });
  }
  await bench.store.append({
    stream: 'kernel:threads',
    events: [kernelMessage('execute_request', shortId, null), kernelMessage('execute_reply', uuidv7(), shortId), kernelMessage('status', uuidv7(), shortId)],
  });
  await bench.store.settled();
  await bench.analyze();
  const timed = async (parentId: string, length: number) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      let read = 0;
      for (let after: number | null | undefined; after !== null; ) {
        const page = await readThread(bench.store, 'threads', parentId, { after, limit: MAX_THREAD_PAGE });
        read += page.messages.length;
        after = page.next;
      }
      times.push(performance.now() - start);
      if (read !== length) throw new Error(`the thread of ${parentId} has ${read} messages, not ${length}`);
    }
    return median(times);
  };
  return { short: await timed(shortId, 3), long: await timed(longId, THREAD_EVENTS + 1) };
}

/** The raw better-sqlite3 peer: a plain loop of transactions of `perTx` rows, WAL + synchronous=FULL, same disk. */
function rawSqliteRate(perTx: number): number {
  const dir = mkdtempSync(join(workDir, 'raw-'));
  const db = new Database(join(dir, 'raw.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
      stream_version INTEGER NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL, metadata BLOB NOT NULL, recorded_at INTEGER NOT NULL,
      UNIQUE (stream_id, stream_version)) STRICT`);
    const insert = db.prepare('INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const data = Buffer.from(JSON.stringify(payload));
    const meta = Buffer.from(JSON.stringify(metadata));
    let version = 0;
    const tx = db.transaction(() => {
      for (let i = 0; i < perTx; i++) insert.run(uuidv7(), 'notebook:raw', ++version, 'kernel.message', data, meta, Date.now());
    });
    for (let i = 0; i < 50; i++) tx();
    let events = 0;
    const start = performance.now();
    while (performance.now() - start < APPEND_MS) {
      tx();
      events += perTx;
    }
    return events / ((performance.now() - start) / 1000);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function setup(): string[] {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const probe = new Database(':memory:');
  const sqliteVersion = (probe.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  probe.close();
  let fs = 'unknown';
  try {
    fs = execFileSync('df', ['-T', workDir], { encoding: 'utf8' }).trim().split('\n')[1]?.split(/\s+/).slice(0, 2).join(' ') ?? fs;
  } catch {
    /* df is informative only */
  }
  const lines = [
    `- machine: ${availableParallelism()} CPUs (nproc), ${cpu}`,
    `- node ${process.version}, SQLite ${sqliteVersion} (better-sqlite3), journal_mode=WAL, synchronous=FULL; data in ${workDir} on ${fs}`,
    `- median of ${RUNS} runs, each on a fresh database; append runs last ${APPEND_MS} ms after a warm-up; ~450 B per JSON event`,
    `- threaded view: readThread (the REST handler's read, in pages of ${MAX_THREAD_PAGE}) of each request 5 times per run, median; PostgreSQL after ANALYZE`,
  ];
  return lines;
}

interface Row {
  scenario: string;
  unit: string;
  values: Partial<Record<Backend | 'peer', number>>;
  note?: string;
}

async function main(): Promise<void> {
  const setupLines = setup();
  console.log(setupLines.join('\n'));
  const rows: Row[] = [
    { scenario: 'single-event appends, 1 writer (acknowledged)', unit: 'events/s', values: {} },
    { scenario: 'single-event appends, 50 concurrent writers (acknowledged)', unit: 'events/s', values: {} },
    { scenario: 'batched appends, 100 events per append, 1 writer', unit: 'events/s', values: {} },
    { scenario: `replay ${fmt(REPLAY_EVENTS)} Yjs updates into a Y.Doc`, unit: 'events/s', values: {} },
    { scenario: `replay ${fmt(REPLAY_EVENTS)} Yjs updates: time`, unit: 's', values: {} },
    { scenario: `threaded view of a 3-message request, kernel stream of ${fmt(THREAD_EVENTS)} messages`, unit: 'ms', values: {} },
    { scenario: `threaded view of a ${fmt(THREAD_EVENTS + 1)}-message request (every message of that stream)`, unit: 'ms', values: {} },
  ];
  const started = performance.now();
  const updates = notebookUpdates(REPLAY_EVENTS);
  const reference = new Y.Doc();
  reference.transact(() => updates.forEach((u) => Y.applyUpdate(reference, u)));
  const expected = createHash('sha256').update(Buffer.from(Y.encodeStateAsUpdate(reference)).toString('base64')).digest('hex');
  console.log(`- ${fmt(updates.length)} Yjs updates generated, ${(updates.reduce((a, u) => a + u.length, 0) / updates.length).toFixed(1)} B average`);

  const measure = async (backend: Backend, name: string, fn: (bench: BenchStore) => Promise<number>): Promise<number[]> => {
    const results: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const bench = await freshStore(backend, name);
      try {
        results.push(await fn(bench));
      } finally {
        await bench.drop();
      }
    }
    console.error(`  ${backend} ${name}: ${results.map((r) => (r < 10 ? r.toFixed(2) : fmt(r))).join(', ')}`);
    return results;
  };

  for (const backend of backends) {
    rows[0].values[backend] = median(await measure(backend, 'w1', ({ store }) => appendRate(store, 1, 1)));
    rows[1].values[backend] = median(await measure(backend, 'w50', ({ store }) => appendRate(store, 50, 1)));
    rows[2].values[backend] = median(await measure(backend, 'b100', ({ store }) => appendRate(store, 1, 100)));
    const seconds: number[] = [];
    const rates = await measure(backend, 'replay', async ({ store }) => {
      const r = await replay(store, updates, expected);
      seconds.push(r.seconds);
      return r.rate;
    });
    rows[3].values[backend] = median(rates);
    rows[4].values[backend] = median(seconds);
    const longThreads: number[] = [];
    const shortThreads = await measure(backend, 'threads', async (bench) => {
      const { short, long } = await threadedView(bench);
      longThreads.push(long);
      return short;
    });
    rows[5].values[backend] = median(shortThreads);
    rows[6].values[backend] = median(longThreads);
  }
  const peer1 = Array.from({ length: RUNS }, () => rawSqliteRate(1));
  const peer100 = Array.from({ length: RUNS }, () => rawSqliteRate(100));
  console.error(`  peer raw 1/tx: ${peer1.map(fmt).join(', ')}; 100/tx: ${peer100.map(fmt).join(', ')}`);
  rows[0].values.peer = median(peer1);
  rows[0].note = 'peer: raw better-sqlite3, 1 row per transaction';
  rows[1].values.peer = median(peer1);
  rows[1].note = 'peer: same raw loop (it has no concurrency)';
  rows[2].values.peer = median(peer100);
  rows[2].note = 'peer: raw better-sqlite3, 100 rows per transaction';

  const cell = (v: number | undefined, unit: string) => (v === undefined ? 'n/a' : unit === 's' || (unit === 'ms' && v < 10) ? v.toFixed(2) : fmt(v));
  console.log('');
  console.log('| scenario | unit | SQLite | PostgreSQL | raw better-sqlite3 peer (same run) |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    const peer = row.values.peer === undefined ? 'n/a' : `${fmt(row.values.peer)} (${row.note})`;
    console.log(`| ${row.scenario} | ${row.unit} | ${cell(row.values.sqlite, row.unit)} | ${databaseUrl ? cell(row.values.postgres, row.unit) : 'not run'} | ${peer} |`);
  }
  const w50 = rows[1].values.sqlite ?? 0;
  const replaySeconds = rows[4].values.sqlite ?? Infinity;
  console.log('');
  console.log(`targets: SQLite 50 writers >= 5,000 events/s: ${w50 >= 5000 ? 'met' : 'MISSED'} (${fmt(w50)}); ` +
    `${fmt(REPLAY_EVENTS)} edits rebuilt < 2 s: ${replaySeconds < 2 ? 'met' : 'MISSED'} (${replaySeconds.toFixed(2)} s on SQLite)`);
  console.log(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

try {
  await main();
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
