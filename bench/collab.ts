/**
 * Collaboration benchmark: Yjs update fan-out through Palimpsest (Socket.IO with y-socket.io's SocketIOProvider,
 * WebSocket with y-websocket's WebsocketProvider; every update durably appended to SQLite before it is broadcast)
 * against, in the same run, `@hocuspocus/server` 3 and the y-websocket 1.x server (both in memory only).
 * Every server is a child process started fresh for each run, on loopback; all clients live in this process.
 *
 * - fan-out: N editors (EDITORS, default 10,100) on one notebook; 2 of them write single-character inserts into
 *   the cell's Y.Text at RATE (20) updates/s in total for LATENCY_MS; latency = from the writer's local change
 *   until every other client has applied it (p50/p95/p99; also until the first client has it);
 * - saturated throughput: the 2 writers keep WINDOW updates each in flight (not yet at every other client) for
 *   THROUGHPUT_MS: updates/s delivered to all, and the server's CPU (/proc/<pid>/stat) per delivery (one update
 *   to one client);
 * - idle documents: IDLE_DOCS (1,000) documents, one client each (connect, sync, stay idle): server RSS delta / docs;
 * - storage (Palimpsest only): an editing session of KEYSTROKES (20,000) keystrokes with deletes by two editors
 *   (one per transport) over 10 cells: SQLite file (after a WAL checkpoint) / exported .ipynb.
 * Median of RUNS (3) runs. TARGETS (palimpsest-sio,palimpsest-ws,hocuspocus,y-websocket) and SKIP
 * (fanout,idle,storage) narrow it. Prints the setup and markdown tables.
 *
 *   node --import ./test/support/register-swc.mjs bench/collab.ts
 */
import { loadNotebook, validateNotebook } from '@palimpsest/notebook';
import type { INotebookContent } from '@jupyterlab/nbformat';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as Y from 'yjs';
import { startChildServer, startListeningChild, type ChildServer } from '../test/support/child-server.js';
import { socketIoClient, webSocketClient } from '../test/support/collab-clients.js';
import { seeded } from '../test/support/seeded-random.js';
import { TEST_SECRET } from '../test/support/test-secret.js';
import { HocuspocusClient } from './hocuspocus-client.js';
import { cpuSeconds, rssBytes } from './process-stats.js';

const env = process.env;
const RUNS = Number(env.RUNS ?? 3);
const EDITORS = (env.EDITORS ?? '10,100').split(',').map(Number);
/** Updates per second of both writers together in the latency measurement. */
const RATE = Number(env.RATE ?? 20);
const LATENCY_MS = Number(env.LATENCY_MS ?? 8000);
const THROUGHPUT_MS = Number(env.THROUGHPUT_MS ?? 3000);
/** Discarded at the start of each measurement. */
const WARMUP_MS = Number(env.WARMUP_MS ?? 1000);
/** Updates each writer keeps in flight in the throughput measurement. */
const WINDOW = Number(env.WINDOW ?? 32);
const IDLE_DOCS = Number(env.IDLE_DOCS ?? 1000);
const IDLE_RUNS = Number(env.IDLE_RUNS ?? RUNS);
const KEYSTROKES = Number(env.KEYSTROKES ?? 20_000);
const SESSION_CELLS = 10;
/** Longest wait for clients to sync or for in-flight updates to arrive; a run that needs more fails. */
const WAIT_MS = Number(env.WAIT_MS ?? 60_000);
const SKIP = new Set((env.SKIP ?? '').split(',').filter(Boolean));
const workDir = mkdtempSync(join(tmpdir(), 'palimpsest-bench-collab-'));
// Every WebsocketProvider adds a process 'exit' listener; hundreds of clients in one process are intended here.
process.setMaxListeners(0);

/** What the benchmark needs of a client of any server. */
interface BenchClient {
  doc: Y.Doc;
  synced(): Promise<void>;
  destroy(): void;
}

/** A benchmarked server child process. */
interface RunningTarget {
  pid: number;
  /** A new document with the benchmark notebook's shape (`cells` code cells); returns its name. */
  newDocument(cells?: number): Promise<string>;
  /** A client of this server on a document. */
  connect(document: string): BenchClient;
  /** Kills the child and removes its files. */
  stop(): Promise<void>;
}

type TargetKey = 'palimpsest-sio' | 'palimpsest-ws' | 'hocuspocus' | 'y-websocket';

/** A server under test and how to start a fresh one. */
interface Target {
  key: TargetKey;
  label: string;
  peer: boolean;
  start(): Promise<RunningTarget>;
}

/** A nbformat 4.5 notebook of empty code cells, as a Jupyter front end would create it. */
function notebookContent(cells: number): INotebookContent {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    cells: Array.from({ length: cells }, (_, i) => ({ id: `cell-${i}`, cell_type: 'code', source: '', metadata: {}, outputs: [], execution_count: null })),
  };
}

/** The Yjs state of the one-cell benchmark notebook, built as Palimpsest builds it (the peers' documents start from it). */
const PEER_SHAPE = ((): Uint8Array => {
  const validation = validateNotebook(notebookContent(1));
  if (!validation.ok) throw new Error('the benchmark notebook is invalid');
  const doc = new Y.Doc();
  loadNotebook(doc, validation.notebook);
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return state;
})();

/** A Y.Doc holding the peers' notebook shape (every client applies the same bytes, so they dedupe). */
function shapedDoc(): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, PEER_SHAPE);
  return doc;
}

/** The source Y.Text of a notebook cell in the jupyter_ydoc schema. */
function sourceText(doc: Y.Doc, index = 0): Y.Text {
  return doc.getArray<Y.Map<unknown>>('cells').get(index).get('source') as Y.Text;
}

const running = new Set<RunningTarget>();

/** Registers a child so it is stopped on any exit path; `stop` unregisters it. */
function tracked(child: ChildServer, target: Omit<RunningTarget, 'pid' | 'stop'>, cleanup: () => void = () => undefined): RunningTarget {
  const handle: RunningTarget = {
    ...target,
    pid: child.child.pid!,
    stop: async () => {
      running.delete(handle);
      await child.kill();
      cleanup();
    },
  };
  running.add(handle);
  return handle;
}

/** A Palimpsest child server, with what the storage session inspects after the run. */
interface PalimpsestServer extends RunningTarget {
  url: string;
  token: string;
  dataDir: string;
  /** Kills the child, keeping its data dir (removed by `stop`). */
  kill(): Promise<void>;
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Starts `test/support/server-child.ts` on a fresh SQLite data dir (WAL, synchronous=FULL) and mints a token. */
async function startPalimpsest(transport: 'socket.io' | 'websocket'): Promise<PalimpsestServer> {
  const dataDir = mkdtempSync(join(workDir, 'palimpsest-'));
  let child: ChildServer;
  try {
    child = await startChildServer(dataDir);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { url } = child;
  let token = '';
  const handle = tracked(
    child,
    {
      newDocument: async (cells = 1) => {
        const response = await fetch(`${url}/api/notebooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'bench.ipynb', content: notebookContent(cells) }),
        });
        return (await json<{ id: string }>(response)).id;
      },
      connect: (id) => (transport === 'socket.io' ? socketIoClient(url, id, token) : webSocketClient(url, id, token)),
    },
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  try {
    const response = await fetch(`${url}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: TEST_SECRET, user: 'alice', scope: 'write' }),
    });
    token = (await json<{ access_token: string }>(response)).access_token;
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return { ...handle, url, token, dataDir, kill: () => child.kill() };
}

/** Starts bench/collab-peer-server.ts (no persistence configured, whatever this shell's environment says). */
async function startPeer(kind: 'hocuspocus' | 'y-websocket'): Promise<RunningTarget> {
  const { YPERSISTENCE: _persistence, CALLBACK_URL: _callback, GC: _gc, ...childEnv } = process.env;
  const child = await startListeningChild('bench/collab-peer-server.ts', [kind], childEnv);
  const wsUrl = `ws://127.0.0.1:${child.port}`;
  let documents = 0;
  return tracked(child, {
    newDocument: () => Promise.resolve(`doc-${++documents}`),
    // y-websocket's server takes the document name from the path; webSocketClient puts it after /yjs/ (the token is ignored).
    connect: (name) => (kind === 'hocuspocus' ? new HocuspocusClient(wsUrl, name, shapedDoc()) : webSocketClient(child.url, name, 'unused', shapedDoc())),
  });
}

const TARGETS: Target[] = (
  [
    { key: 'palimpsest-sio', label: 'Palimpsest, Socket.IO', peer: false, start: () => startPalimpsest('socket.io') },
    { key: 'palimpsest-ws', label: 'Palimpsest, WebSocket', peer: false, start: () => startPalimpsest('websocket') },
    { key: 'hocuspocus', label: 'Hocuspocus (no persistence)', peer: true, start: () => startPeer('hocuspocus') },
    { key: 'y-websocket', label: 'y-websocket server (no persistence)', peer: true, start: () => startPeer('y-websocket') },
  ] satisfies Target[]
).filter((target) => !env.TARGETS || env.TARGETS.split(',').includes(target.key));

/** Rejects after `ms` unless the promise settles first. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Connects one client per document name, `batch` at a time, each batch synced before the next starts. */
async function connectAll(target: RunningTarget, documents: string[], clients: BenchClient[], batch = 50): Promise<void> {
  for (let i = 0; i < documents.length; i += batch) {
    const next = documents.slice(i, i + batch).map((document) => target.connect(document));
    clients.push(...next);
    await within(Promise.all(next.map((client) => client.synced())), WAIT_MS, 'syncing clients');
  }
}

/** One update of a writer on its way to every other client. */
interface Pending {
  sentAt: number;
  remaining: number;
  firstAt?: number;
}

/**
 * Tracks single-character inserts of the writers until every other client has applied them. A client has
 * a writer's update k once its state vector entry for that writer passes k's clock (each insert is one clock).
 */
class FanOut {
  /** Called once an update reached every other client. */
  onComplete: (writer: number, update: Pending, doneAt: number) => void = () => undefined;
  private readonly pending: Array<Map<number, Pending>>;
  private readonly detach: Array<() => void> = [];
  private drained?: () => void;

  constructor(
    private readonly clients: BenchClient[],
    private readonly writers: number[],
  ) {
    this.pending = writers.map(() => new Map());
    const ids = writers.map((index) => clients[index].doc.clientID);
    clients.forEach((client, index) => {
      const seen = ids.map((id) => Y.getState(client.doc.store, id));
      const check = (): void => {
        const now = performance.now();
        for (let w = 0; w < ids.length; w++) {
          if (writers[w] === index) continue;
          const state = Y.getState(client.doc.store, ids[w]);
          while (seen[w] < state) this.delivered(w, seen[w]++, now);
        }
      };
      client.doc.on('afterTransaction', check);
      this.detach.push(() => client.doc.off('afterTransaction', check));
    });
  }

  /** Writer `w` inserts one character at the end of the cell's source. */
  send(w: number): void {
    const doc = this.clients[this.writers[w]].doc;
    const text = sourceText(doc);
    this.pending[w].set(Y.getState(doc.store, doc.clientID), { sentAt: performance.now(), remaining: this.clients.length - 1 });
    text.insert(text.length, String.fromCharCode(97 + (text.length % 26)));
  }

  /** How many updates have not reached every other client yet. */
  get inFlight(): number {
    return this.pending.reduce((sum, map) => sum + map.size, 0);
  }

  /** Resolves once nothing is in flight; rejects after WAIT_MS. */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return within(new Promise<void>((resolve) => (this.drained = resolve)), WAIT_MS, `delivering ${this.inFlight} updates`);
  }

  close(): void {
    for (const detach of this.detach) detach();
  }

  private delivered(w: number, clock: number, now: number): void {
    const update = this.pending[w].get(clock);
    if (!update) return;
    update.firstAt ??= now;
    if (--update.remaining > 0) return;
    this.pending[w].delete(clock);
    this.onComplete(w, update, now);
    if (this.drained && this.inFlight === 0) this.drained();
  }
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function median(values: number[]): number {
  return percentile(values.filter((v) => !Number.isNaN(v)), 0.5);
}

/** What one fan-out run measured. */
interface FanOutRun {
  p50: number;
  p95: number;
  p99: number;
  firstP99: number;
  samples: number;
  throughput: number;
  cpuPerDeliveryUs: number;
}

/** The writers alternate at RATE updates/s in total; latency of the updates sent after the warm-up. */
async function measureLatency(fan: FanOut): Promise<Pick<FanOutRun, 'p50' | 'p95' | 'p99' | 'firstP99' | 'samples'>> {
  const all: number[] = [];
  const first: number[] = [];
  const period = 1000 / RATE;
  const start = performance.now();
  fan.onComplete = (_w, update, doneAt) => {
    if (update.sentAt < start + WARMUP_MS) return;
    all.push(doneAt - update.sentAt);
    first.push(update.firstAt! - update.sentAt);
  };
  const total = Math.round((WARMUP_MS + LATENCY_MS) / period);
  for (let k = 0; k < total; k++) {
    await sleep(Math.max(0, start + k * period - performance.now()));
    fan.send(k % 2);
  }
  await fan.drain();
  return { p50: percentile(all, 0.5), p95: percentile(all, 0.95), p99: percentile(all, 0.99), firstP99: percentile(first, 0.99), samples: all.length };
}

/** Each writer keeps WINDOW updates in flight; counts those delivered to all during THROUGHPUT_MS after the warm-up. */
async function measureThroughput(fan: FanOut, pid: number, receivers: number): Promise<Pick<FanOutRun, 'throughput' | 'cpuPerDeliveryUs'>> {
  const inFlight = [0, 0];
  const end = performance.now() + WARMUP_MS + THROUGHPUT_MS;
  let counting = false;
  let completed = 0;
  let scheduled = false;
  const pump = (): void => {
    scheduled = false;
    for (let w = 0; w < inFlight.length; w++) {
      while (inFlight[w] < WINDOW && performance.now() < end) {
        fan.send(w);
        inFlight[w]++;
      }
    }
  };
  fan.onComplete = (w) => {
    inFlight[w]--;
    if (counting) completed++;
    if (!scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  pump();
  await sleep(WARMUP_MS);
  counting = true;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(THROUGHPUT_MS);
  counting = false;
  const cpu1 = cpuSeconds(pid);
  const seconds = (performance.now() - t0) / 1000;
  await fan.drain();
  return { throughput: completed / seconds, cpuPerDeliveryUs: ((cpu1 - cpu0) * 1e6) / (completed * receivers) };
}

/** N editors on one fresh document of a fresh server: latency at RATE, then saturated throughput. */
async function fanOutRun(target: Target, editors: number): Promise<FanOutRun> {
  const server = await target.start();
  const clients: BenchClient[] = [];
  let fan: FanOut | undefined;
  try {
    const document = await server.newDocument();
    await connectAll(server, Array.from({ length: editors }, () => document), clients, 25);
    // The writers are the first and the middle client (on Palimpsest, both connected before most others).
    fan = new FanOut(clients, [0, Math.floor(editors / 2)]);
    await sleep(500);
    const latency = await measureLatency(fan);
    const throughput = await measureThroughput(fan, server.pid, editors - 1);
    return { ...latency, ...throughput };
  } finally {
    fan?.close();
    for (const client of clients) client.destroy();
    await server.stop();
  }
}

/** IDLE_DOCS documents with one synced, idle client each: the server's RSS growth per document. */
async function idleRun(target: Target): Promise<number> {
  const server = await target.start();
  const clients: BenchClient[] = [];
  try {
    const documents: string[] = [];
    for (let i = 0; i < IDLE_DOCS; i += 20) {
      documents.push(...(await Promise.all(Array.from({ length: Math.min(20, IDLE_DOCS - i) }, () => server.newDocument()))));
    }
    await sleep(2000);
    const before = rssBytes(server.pid);
    await connectAll(server, documents, clients);
    await sleep(3000);
    return (rssBytes(server.pid) - before) / IDLE_DOCS;
  } finally {
    for (const client of clients) client.destroy();
    await server.stop();
  }
}

/** Lines the session's editors type (with typos they delete again). */
const CORPUS = [
  'import numpy as np',
  'import pandas as pd',
  "df = pd.read_csv('data/measurements.csv', parse_dates=['time'])",
  "df = df[df['value'].notna()].sort_values('time')",
  "summary = df.groupby('sensor')['value'].agg(['mean', 'std', 'count'])",
  'def moving_average(values, window=5):',
  '    return np.convolve(values, np.ones(window) / window, mode="valid")',
  'for name, group in df.groupby("sensor"):',
  '    print(name, moving_average(group["value"].to_numpy())[:3])',
  '# TODO: check the outliers before the next run',
  "fig, ax = plt.subplots(figsize=(8, 4))",
  "ax.plot(df['time'], df['value'], label='raw')",
  'result = {key: value for key, value in zip(keys, values) if value is not None}',
  'assert len(result) > 0, "no data"',
];

/** One editor typing: lines of the corpus at its cursor, ~12 % backspaces, now and then another cell. */
class Typist {
  private cell: number;
  private cursor = 0;
  private line = '';
  private column = 0;

  constructor(
    readonly client: BenchClient,
    private readonly random: () => number,
  ) {
    this.cell = Math.floor(random() * SESSION_CELLS);
  }

  /** One keystroke, one Yjs transaction (as an editor binding sends them). */
  keystroke(): void {
    if (this.random() < 0.004) {
      this.cell = Math.floor(this.random() * SESSION_CELLS);
      this.cursor = sourceText(this.client.doc, this.cell).length;
    }
    const text = sourceText(this.client.doc, this.cell);
    this.cursor = Math.min(this.cursor, text.length);
    if (this.random() < 0.12 && this.cursor > 0 && this.column > 0) {
      text.delete(--this.cursor, 1);
      this.column--;
      return;
    }
    if (this.column >= this.line.length) {
      const newline = this.line !== '';
      this.line = CORPUS[Math.floor(this.random() * CORPUS.length)];
      this.column = 0;
      if (newline) return void text.insert(this.cursor++, '\n');
    }
    text.insert(this.cursor++, this.line[this.column++]);
  }
}

/** What the storage session measured. */
interface StorageResult {
  keystrokes: number;
  seconds: number;
  ipynbBytes: number;
  sourceChars: number;
  fileBytes: number;
  events: number;
  yjsEvents: number;
  eventBytes: number;
  yjsDataBytes: number;
  checkpoints: number;
  checkpointBytes: number;
  cellIndexRows: number;
  /** Bytes per table and index (SQLite's dbstat), largest first. */
  objects: Array<{ name: string; bytes: number }>;
  /** One keystroke's event as stored. */
  sample: { data: number; metadata: number; json: string };
}

/** Two editors (Socket.IO and WebSocket) type KEYSTROKES keystrokes into a 10-cell notebook; then the store is measured. */
async function storageSession(): Promise<StorageResult> {
  const server = await startPalimpsest('socket.io');
  const editors: BenchClient[] = [];
  try {
    const id = await server.newDocument(SESSION_CELLS);
    editors.push(socketIoClient(server.url, id, server.token), webSocketClient(server.url, id, server.token));
    await within(Promise.all(editors.map((editor) => editor.synced())), WAIT_MS, 'syncing editors');
    const random = seeded(315);
    const typists = editors.map((editor) => new Typist(editor, random));
    const started = performance.now();
    const hasAll = (): boolean =>
      editors.every((a) => editors.every((b) => Y.getState(b.doc.store, a.doc.clientID) === Y.getState(a.doc.store, a.doc.clientID)));
    for (let done = 0; done < KEYSTROKES; ) {
      // Bursts of 200 keystrokes, alternating editors, then a wait until both editors have everything (bounded in-flight).
      for (let i = 0; i < 200 && done < KEYSTROKES; i++, done++) typists[done % 2].keystroke();
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (!hasAll()) return;
            for (const editor of editors) editor.doc.off('afterTransaction', check);
            resolve();
          };
          for (const editor of editors) editor.doc.on('afterTransaction', check);
          check();
        }),
        WAIT_MS,
        'the editors converging',
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const auth = { authorization: `Bearer ${server.token}` };
    const ipynb = await (await fetch(`${server.url}/api/notebooks/${id}/ipynb`, { headers: auth })).text();
    const rest = await json<{ content: INotebookContent }>(await fetch(`${server.url}/api/notebooks/${id}`, { headers: auth }));
    const sources = rest.content.cells.map((cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source));
    if (sources.join('\u0000') !== editors[0].doc.getArray<Y.Map<unknown>>('cells').map((cell) => String(cell.get('source'))).join('\u0000')) {
      throw new Error('the server and the editors do not hold the same notebook');
    }
    for (const editor of editors.splice(0)) editor.destroy();
    await sleep(1000);
    await server.kill();
    const db = new Database(join(server.dataDir, 'palimpsest.sqlite'));
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      const events = db.prepare(`SELECT count(*) AS n, sum(length(data) + length(metadata)) AS bytes FROM events`).get() as { n: number; bytes: number };
      const yjs = db.prepare(`SELECT count(*) AS n, sum(length(data)) AS bytes FROM events WHERE data_encoding = 'yjs'`).get() as { n: number; bytes: number };
      const checkpoints = db.prepare('SELECT count(*) AS n, sum(length(state)) AS bytes FROM doc_checkpoints').get() as { n: number; bytes: number | null };
      const cells = db.prepare('SELECT count(*) AS n FROM event_cells').get() as { n: number };
      const objects = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>;
      const sample = db
        .prepare(`SELECT length(data) AS data, length(metadata) AS metadata, CAST(metadata AS TEXT) AS json FROM events WHERE type = 'notebook.cell.source_edited' LIMIT 1 OFFSET 100`)
        .get() as StorageResult['sample'];
      return {
        keystrokes: KEYSTROKES,
        seconds,
        ipynbBytes: Buffer.byteLength(ipynb),
        sourceChars: sources.reduce((sum, source) => sum + source.length, 0),
        fileBytes: statSync(join(server.dataDir, 'palimpsest.sqlite')).size,
        events: events.n,
        yjsEvents: yjs.n,
        eventBytes: events.bytes,
        yjsDataBytes: yjs.bytes,
        checkpoints: checkpoints.n,
        checkpointBytes: checkpoints.bytes ?? 0,
        cellIndexRows: cells.n,
        objects,
        sample,
      };
    } finally {
      db.close();
    }
  } finally {
    for (const editor of editors) editor.destroy();
    await server.stop();
  }
}

/**
 * The durability floor: single-row commits of a raw better-sqlite3 table (WAL, synchronous=FULL) in the same temp
 * dir, one every 10 ms; returns the commit latency p50 and p99 in ms.
 */
async function commitFloor(commits = 200): Promise<{ p50: number; p99: number }> {
  const dir = mkdtempSync(join(workDir, 'floor-'));
  const db = new Database(join(dir, 'floor.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, data BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO events (data) VALUES (?)');
    const data = Buffer.alloc(300);
    const times: number[] = [];
    for (let i = 0; i < commits; i++) {
      const start = performance.now();
      insert.run(data);
      times.push(performance.now() - start);
      await sleep(10);
    }
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function setup(): string[] {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const probe = new Database(':memory:');
  const sqlite = (probe.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  probe.close();
  const palimpsest = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  return [
    `- machine: ${availableParallelism()} CPUs (nproc), ${cpu}; node ${process.version}; data in ${workDir}`,
    `- servers (each a child process, fresh per run, 127.0.0.1): Palimpsest ${palimpsest} (socket.io ${packageVersion('socket.io')}, ws ${packageVersion('ws')}, ` +
      `SQLite ${sqlite} via better-sqlite3 ${packageVersion('better-sqlite3')}, WAL + synchronous=FULL, every update appended before broadcast); ` +
      `@hocuspocus/server ${packageVersion('@hocuspocus/server')} (no extensions: no persistence); ` +
      `y-websocket ${packageVersion('y-websocket-v1')} server (bin/utils setupWSConnection, no persistence)`,
    `- clients (all in this process): y-socket.io ${packageVersion('y-socket.io')} SocketIOProvider, y-websocket ${packageVersion('y-websocket')} ` +
      `WebsocketProvider (Palimpsest WebSocket and the y-websocket server), a minimal Hocuspocus-protocol client (bench/hocuspocus-client.ts); ` +
      `yjs ${packageVersion('yjs')}`,
    `- median of ${RUNS} runs (idle: ${IDLE_RUNS}); latency: ${RATE} updates/s from 2 writers for ${LATENCY_MS} ms after ${WARMUP_MS} ms warm-up; ` +
      `throughput: ${WINDOW} updates in flight per writer for ${THROUGHPUT_MS} ms; idle: ${IDLE_DOCS} documents`,
  ];
}

type Metric = keyof FanOutRun;

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(2));
const whole = (v: number) => (Number.isNaN(v) ? 'n/a' : Math.round(v).toLocaleString('en-US'));

async function main(): Promise<void> {
  console.log(setup().join('\n'));
  const started = performance.now();
  const floor = await commitFloor();
  console.log(`- durability floor on this disk: one raw single-row SQLite commit (WAL, FULL) takes p50 ${ms(floor.p50)} ms, p99 ${ms(floor.p99)} ms`);
  const fanOut = new Map<string, FanOutRun[]>();
  const idle = new Map<TargetKey, number[]>();
  const key = (target: Target, editors: number) => `${target.key}/${editors}`;

  if (!SKIP.has('fanout')) {
    for (let run = 1; run <= RUNS; run++) {
      for (const editors of EDITORS) {
        for (const target of TARGETS) {
          try {
            const result = await fanOutRun(target, editors);
            fanOut.set(key(target, editors), [...(fanOut.get(key(target, editors)) ?? []), result]);
            console.error(
              `  run ${run} N=${editors} ${target.key}: p50/p95/p99 ${ms(result.p50)}/${ms(result.p95)}/${ms(result.p99)} ms ` +
                `(first p99 ${ms(result.firstP99)}, ${result.samples} samples), ${whole(result.throughput)} updates/s, ${result.cpuPerDeliveryUs.toFixed(1)} µs CPU/delivery`,
            );
          } catch (error) {
            console.error(`  run ${run} N=${editors} ${target.key}: FAILED ${String(error)}`);
          }
        }
      }
    }
  }
  if (!SKIP.has('idle')) {
    for (let run = 1; run <= IDLE_RUNS; run++) {
      for (const target of TARGETS) {
        try {
          const perDoc = await idleRun(target);
          idle.set(target.key, [...(idle.get(target.key) ?? []), perDoc]);
          console.error(`  idle run ${run} ${target.key}: ${(perDoc / 1024).toFixed(1)} KB per document`);
        } catch (error) {
          console.error(`  idle run ${run} ${target.key}: FAILED ${String(error)}`);
        }
      }
    }
  }
  let storage: StorageResult | undefined;
  if (!SKIP.has('storage')) {
    try {
      storage = await storageSession();
    } catch (error) {
      console.error(`  storage session: FAILED ${String(error)}`);
    }
  }

  const value = (target: Target, editors: number, metric: Metric) => median((fanOut.get(key(target, editors)) ?? []).map((r) => r[metric]));
  console.log('');
  console.log(`| measurement | ${TARGETS.map((t) => t.label).join(' | ')} |`);
  console.log(`|---|${TARGETS.map(() => '---').join('|')}|`);
  for (const editors of EDITORS) {
    const cells = TARGETS.map((t) => `${ms(value(t, editors, 'p50'))} / ${ms(value(t, editors, 'p95'))} / ${ms(value(t, editors, 'p99'))}`);
    console.log(`| N=${editors} editors: p50 / p95 / p99 ms until every other client has it | ${cells.join(' | ')} |`);
    console.log(`| N=${editors}: p99 ms until the first client has it | ${TARGETS.map((t) => ms(value(t, editors, 'firstP99'))).join(' | ')} |`);
  }
  for (const editors of EDITORS) {
    console.log(`| N=${editors}: saturated throughput, updates/s delivered to all | ${TARGETS.map((t) => whole(value(t, editors, 'throughput'))).join(' | ')} |`);
  }
  for (const editors of EDITORS) {
    const cells = TARGETS.map((t) => `${value(t, editors, 'cpuPerDeliveryUs').toFixed(1)} µs`);
    console.log(`| N=${editors}: server CPU per delivered update (one update to one client) | ${cells.join(' | ')} |`);
  }
  if (!SKIP.has('idle')) {
    const idleCells = TARGETS.map((t) => `${(median(idle.get(t.key) ?? []) / 1024).toFixed(1)} KB`);
    console.log(`| ${IDLE_DOCS.toLocaleString('en-US')} idle documents (1 client each): server RSS per document | ${idleCells.join(' | ')} |`);
  }

  const peers = TARGETS.filter((t) => t.peer);
  console.log('');
  for (const editors of EDITORS) {
    const best = Math.min(...peers.map((t) => value(t, editors, 'p99')).filter((v) => !Number.isNaN(v)));
    for (const t of TARGETS.filter((t) => !t.peer)) {
      const p99 = value(t, editors, 'p99');
      const verdicts = [`no worse than the best peer (${ms(best)} ms): ${p99 <= best ? 'met' : 'MISSED'}`];
      if (editors >= 100) verdicts.push(`under 50 ms: ${p99 < 50 ? 'met' : 'MISSED'}`);
      console.log(`target N=${editors} ${t.label} p99 ${ms(p99)} ms: ${verdicts.join('; ')}`);
    }
  }
  if (storage) {
    const s = storage;
    const ratio = (bytes: number) => `${(bytes / s.ipynbBytes).toFixed(1)}×`;
    console.log('');
    console.log(`Storage: ${whole(s.keystrokes)} keystrokes (with deletes) by 2 editors over ${SESSION_CELLS} cells in ${s.seconds.toFixed(1)} s; ` +
      `final notebook ${whole(s.sourceChars)} source characters`);
    console.log('');
    console.log('| measurement | bytes | per byte of .ipynb | per keystroke |');
    console.log('|---|---|---|---|');
    const row = (label: string, bytes: number) => console.log(`| ${label} | ${whole(bytes)} | ${ratio(bytes)} | ${(bytes / s.keystrokes).toFixed(1)} B |`);
    row('exported .ipynb (GET /api/notebooks/:id/ipynb)', s.ipynbBytes);
    row('SQLite file after wal_checkpoint(TRUNCATE)', s.fileBytes);
    row(`events: sum(length(data) + length(metadata)), ${whole(s.events)} events`, s.eventBytes);
    row(`of which Yjs update data, ${whole(s.yjsEvents)} events`, s.yjsDataBytes);
    row(`doc_checkpoints: ${s.checkpoints} states`, s.checkpointBytes);
    console.log(`| event_cells index rows | ${whole(s.cellIndexRows)} | | |`);
    for (const object of s.objects.filter((o) => o.bytes >= s.fileBytes / 50)) row(`of the file: ${object.name} (dbstat)`, object.bytes);
    console.log('');
    console.log(`A keystroke's event: data ${s.sample.data} B, metadata ${s.sample.metadata} B: ${s.sample.json}`);
    console.log(`Jupyter reference (jupyter-collaboration#315): 580 MB .jupyter_ystore.db for a 1.5 MB notebook, ≈390×.`);
  }
  console.log(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** Stops every child still running and removes the temp dir. */
async function cleanUp(): Promise<void> {
  await Promise.allSettled([...running].map((target) => target.stop()));
  rmSync(workDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
try {
  await main();
} finally {
  await cleanUp();
}
// Provider timers (reconnects, awareness renewal) of destroyed clients must not keep the process alive.
process.exit(process.exitCode ?? 0);
