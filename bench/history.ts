/**
 * History benchmark: on one notebook with 100,000 real Yjs events (two actors typing into 20 cells,
 * outputs rewritten every 50th event, a checkpoint every 500 events), measures time travel to random
 * points (from the notebook's history document, after timing its cold build and its memory, and for
 * comparison the checkpoint rebuild it replaces), diffs, a cell's full history, the audit export and
 * whole-store verification.
 *
 *   npm run bench:history
 *   (= node --import ./test/support/register-swc.mjs bench/history.ts; HISTORY_EVENTS, SAMPLES override the defaults; KEEP_DB=1 keeps the database)
 */
import type { DocChange } from '@palimpsest/contracts';
import { readPages, TypeOrmEventStore, type NewEvent } from '@palimpsest/event-store';
import {
  cellsOf,
  documentAt,
  encodeCheckpoint,
  exportNotebook,
  loadNotebook,
  NotebookCatalog,
  NotebookHistory,
  NotebookService,
  replaceOutputs,
  validateNotebook,
} from '@palimpsest/notebook';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import * as Y from 'yjs';
import { writeAuditExport } from '../apps/server/src/api/audit-export.js';
import { MIGRATIONS } from '../migrations/index.js';

const EVENTS = Number(process.env.HISTORY_EVENTS ?? 100_000);
const SAMPLES = Number(process.env.SAMPLES ?? 200);
const CHECKPOINT_EVERY = 500;
const CELLS = 20;
const NOTEBOOK = '00000000-0000-4000-8000-000000000001';
const STREAM = `notebook:${NOTEBOOK}`;

let seed = 20261122;
/** A seeded uniform number in [0, 1). */
const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
const pick = (n: number): number => Math.floor(random() * n);

/** How the edits are made: typing at a cursor (how people edit), or single characters at random places (Yjs's worst case: no two inserts merge). */
type Workload = 'typing' | 'scattered';

const letter = (): string => (random() < 0.15 ? '\n' : String.fromCharCode(97 + pick(26)));

/** Types a character at the cell's cursor; sometimes a backspace, sometimes the cursor jumps. */
function type(text: Y.Text, cursors: number[], cell: number): void {
  const roll = random();
  if (roll < 0.05) cursors[cell] = pick(text.length + 1);
  if (roll < 0.15 && cursors[cell] > 0) {
    text.delete(--cursors[cell], 1);
    return;
  }
  text.insert(cursors[cell]++, letter());
}

/** Inserts a character at a random place, or deletes one at a random place. */
function scatter(text: Y.Text): void {
  if (text.length > 40 && random() < 0.3) text.delete(pick(text.length), 1);
  else text.insert(pick(text.length + 1), letter());
}

/** Builds the notebook's stream straight into the store: the created event, the imported content, then EVENTS edits with checkpoints. */
async function buildNotebook(store: TypeOrmEventStore, workload: Workload): Promise<number> {
  const content = validateNotebook({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: Array.from({ length: CELLS }, (_, i) => ({ id: `cell-${i}`, cell_type: 'code', source: '', metadata: {}, outputs: [], execution_count: null })),
  });
  if (!content.ok) throw new Error('bench notebook is invalid');
  const doc = new Y.Doc();
  const imported = loadNotebook(doc, content.notebook);
  const base = { cell_ids: [] as string[], notebook_id: NOTEBOOK };
  let version = (
    await store.append({
      stream: STREAM,
      events: [
        { type: 'notebook.created', payload: { encoding: 'json', json: { name: 'bench.ipynb', owner: 'alice' } }, metadata: { ...base, actor: 'alice' } },
        { type: 'notebook.content.imported', payload: { encoding: 'yjs', bytes: imported.update }, metadata: { ...base, actor: 'alice', changes: imported.changes } },
      ],
    })
  ).version;
  const sources = cellsOf(doc).map((cell) => cell.get('source') as Y.Text);
  const cursors = sources.map(() => 0);
  let cell = 0;
  let batch: NewEvent[] = [];
  while (version + batch.length < EVENTS) {
    // A user mostly keeps working in the same cell.
    if (random() < 0.1) cell = pick(CELLS);
    const cellId = `cell-${cell}`;
    const actor = random() < 0.5 ? 'alice' : 'bob';
    let update: Uint8Array;
    let change: DocChange;
    if ((version + batch.length) % 50 === 0) {
      update = replaceOutputs(doc, cellId, [{ output_type: 'stream', name: 'stdout', text: `run ${version + batch.length}\n` }]).update;
      change = { kind: 'outputs_changed', cell_id: cellId };
    } else {
      const text = sources[cell];
      const edit = workload === 'typing' ? () => type(text, cursors, cell) : () => scatter(text);
      const captured: Uint8Array[] = [];
      const onUpdate = (u: Uint8Array): void => void captured.push(u);
      doc.on('update', onUpdate);
      doc.transact(edit);
      doc.off('update', onUpdate);
      update = captured[0];
      change = { kind: 'source_edited', cell_id: cellId };
    }
    batch.push({
      type: change.kind === 'outputs_changed' ? 'notebook.cell.outputs_changed' : 'notebook.cell.source_edited',
      payload: { encoding: 'yjs', bytes: update },
      metadata: { actor, cell_ids: [cellId], notebook_id: NOTEBOOK, changes: [change] },
    });
    // Append up to the next checkpoint, then store the checkpoint of exactly that version.
    if ((version + batch.length) % CHECKPOINT_EVERY === 0 || version + batch.length === EVENTS) {
      const result = await store.append({ stream: STREAM, events: batch });
      version = result.version;
      batch = [];
      await store.saveCheckpoint({ stream: STREAM, version, position: result.positions[result.positions.length - 1], state: encodeCheckpoint(doc) });
    }
  }
  const stateBytes = encodeCheckpoint(doc).byteLength;
  doc.destroy();
  return stateBytes;
}

/** Times `op` over `count` samples; answers p50/p95/p99 in ms. */
async function latencies(count: number, op: () => Promise<unknown>): Promise<{ p50: number; p95: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** A sink that counts bytes, as a fast client would read an export. */
function countingSink(): { sink: Writable; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  return { sink, bytes: () => bytes };
}

const ms = (n: number): string => n.toFixed(1);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** One workload's results, one table row each. */
interface WorkloadResult {
  workload: Workload;
  head: number;
  stateBytes: number;
  buildSeconds: number;
  rows: string[];
  throughput: string[];
  /** Cold build of the history document: seconds, then its estimated bytes and the measured heap growth after the time-travel samples. */
  cold: { seconds: number; estimated: number; heap: number };
  timeTravelP95: number;
}

// A full collection before reading the heap (the bench runs without --expose-gc).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Heap in use after a full collection. */
function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Builds one workload's notebook in a fresh store and measures it. */
async function measure(workload: Workload): Promise<WorkloadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'palimpsest-bench-history-'));
  const store = await TypeOrmEventStore.open({ sqlitePath: join(dir, 'log.sqlite'), migrations: MIGRATIONS });
  try {
    const buildStarted = performance.now();
    const stateBytes = await buildNotebook(store, workload);
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    const catalog = new NotebookCatalog();
    for await (const page of readPages(store, { stream: STREAM, types: ['notebook.created'] })) catalog.apply(page);
    await catalog.refreshVersions((stream) => store.streamVersion(stream));
    const notebooks = new NotebookService(store, catalog);
    const history = new NotebookHistory(store, notebooks);
    const head = await store.streamVersion(STREAM);

    // Before: the checkpoint rebuild (nearest checkpoint + the events after it) that served every read until the history document.
    const rebuild = await latencies(Math.min(SAMPLES, 100), async () => {
      const doc = await documentAt(store, NOTEBOOK, 1 + pick(head));
      exportNotebook(doc);
      doc.destroy();
    });
    // The history document's cold build (the first read of a long history is served by a rebuild while it runs in the background).
    const heapBefore = heapUsed();
    const coldStarted = performance.now();
    const documents = notebooks.history;
    if (!(await documents.warm(NOTEBOOK))) throw new Error('the history document does not fit its budget');
    const coldSeconds = (performance.now() - coldStarted) / 1000;
    const timeTravel = await latencies(SAMPLES, () => notebooks.get(NOTEBOOK, { version: 1 + pick(head) }));
    const cold = { seconds: coldSeconds, estimated: documents.estimatedBytes, heap: heapUsed() - heapBefore };
    const nearDiff = await latencies(Math.min(SAMPLES, 100), () => {
      const from = 2 + pick(head - 600);
      return history.diff(NOTEBOOK, { version: from }, { version: from + 1 + pick(500) });
    });
    const farDiff = await latencies(5, () => history.diff(NOTEBOOK, { version: 2 + pick(head / 10) }, { version: head - pick(head / 10) }));
    const cellHistory = await latencies(3, () => history.cellHistory(NOTEBOOK, `cell-${pick(CELLS)}`));
    const row = (name: string, l: { p50: number; p95: number; p99: number }, bold = false) =>
      `| ${workload} | ${name} | ${ms(l.p50)} | ${bold ? `**${ms(l.p95)}**` : ms(l.p95)} | ${ms(l.p99)} |`;
    const rows = [
      row('time travel to a random version (GET ?at=), history document', timeTravel, true),
      row('before: checkpoint rebuild + export of a random version', rebuild),
      row('diff, points 1-500 versions apart', nearDiff),
      row(`diff, points ~${fmt(head * 0.8)} versions apart`, farDiff),
      row(`cell history (one pass over ${fmt(head)} events)`, cellHistory),
    ];

    const throughput: string[] = [];
    for (const format of ['ndjson', 'csv'] as const) {
      const { sink, bytes } = countingSink();
      const started = performance.now();
      const written = await writeAuditExport(store, { notebookId: NOTEBOOK }, format, sink);
      const seconds = (performance.now() - started) / 1000;
      throughput.push(`| ${workload} | audit export, ${format} (streamed, 1,000-event pages) | ${fmt(written / seconds)} | ${(bytes() / 1e6 / seconds).toFixed(1)} |`);
    }
    const verifyStarted = performance.now();
    const verified = await store.verifyStreams();
    throughput.push(`| ${workload} | verify (hash chain + seals, whole store) | ${fmt(verified.checked / ((performance.now() - verifyStarted) / 1000))} | - |`);
    notebooks.live.clear();
    documents.clear();
    return { workload, head, stateBytes, buildSeconds, rows, throughput, cold, timeTravelP95: timeTravel.p95 };
  } finally {
    await store.close();
    if (process.env.KEEP_DB) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: WorkloadResult[] = [];
  for (const workload of ['typing', 'scattered'] as const) results.push(await measure(workload));
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  console.log('## History benchmark\n');
  console.log(`- machine: ${availableParallelism()} CPUs, ${cpu}; node ${process.version}; SQLite (better-sqlite3), WAL, synchronous=FULL, OS temp dir`);
  for (const r of results) {
    console.log(
      `- ${r.workload}: ${fmt(r.head)} events in one notebook stream (${CELLS} code cells, two actors, one character per event, outputs rewritten every 50th event), ` +
        `checkpoints every ${CHECKPOINT_EVERY}; final Yjs state ${fmt(r.stateBytes / 1024)} KiB; built in ${r.buildSeconds.toFixed(1)} s`,
    );
  }
  console.log(`- ${SAMPLES} random points for time travel; 100 near diffs; 5 far diffs; 3 cell histories\n`);
  console.log('| workload | measurement | p50 ms | p95 ms | p99 ms |');
  console.log('|---|---|---|---|---|');
  for (const r of results) for (const line of r.rows) console.log(line);
  console.log('\n| workload | throughput | events/s | MB/s |');
  console.log('|---|---|---|---|');
  for (const r of results) for (const line of r.throughput) console.log(line);
  console.log('\n| workload | history document cold build s | estimated MiB | heap growth MiB (after the time-travel samples) |');
  console.log('|---|---|---|---|');
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
  for (const r of results) console.log(`| ${r.workload} | ${r.cold.seconds.toFixed(2)} | ${mib(r.cold.estimated)} | ${mib(r.cold.heap)} |`);
  for (const r of results) console.log(`\nTarget (${r.workload}): time travel p95 < 50 ms: ${r.timeTravelP95 < 50 ? 'met' : 'NOT met'} (${ms(r.timeTravelP95)} ms).`);
}

await main();
