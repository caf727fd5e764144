import type { IOutput } from '@jupyterlab/nbformat';
import { notebookStream } from '@palimpsest/contracts';
import {
  appendOutput,
  cellIds,
  cellsOf,
  documentAt,
  exportNotebook,
  HistoryDocuments,
  NotebookCatalog,
  NotebookHistory,
  NotebookService,
  replaceOutputs,
  setExecutionCount,
} from '@palimpsest/notebook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openTestStore, type TestStore } from '../../support/test-store.js';

/** A seeded uniform generator in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

/** The content at a version the plain way: nearest checkpoint plus the events after it. */
async function rebuiltAt(testStore: TestStore, notebookId: string, version: number) {
  const doc = await documentAt(testStore.store, notebookId, version);
  try {
    return exportNotebook(doc);
  } finally {
    doc.destroy();
  }
}

describe(HistoryDocuments.name, () => {
  let testStore: TestStore;
  let notebooks: NotebookService;
  let notebookId: string;
  let head: number;
  /** When each version was recorded (unix ms), for time travel by time. */
  const recordedAt = new Map<number, number>();

  beforeAll(async () => {
    testStore = await openTestStore('sqlite');
    const { store } = testStore;
    const catalog = new NotebookCatalog();
    store.onCommitted((events) => catalog.apply(events));
    // Checkpoints every 7 events, so the plain rebuilds start from many different checkpoints.
    notebooks = new NotebookService(store, catalog, { checkpointEvery: 7 });
    notebookId = (await notebooks.create('alice', 'session.ipynb')).id;

    // A session: alice through REST-like commands, bob through a live replica whose updates are
    // often concurrent with hers, a kernel rewriting execution results; cells inserted, edited,
    // moved and deleted.
    const random = seeded(5);
    const pick = (n: number) => Math.floor(random() * n);
    const alice = { actor: 'alice' };
    const kernel = { actor: 'kernel:k1' };
    const bob = { actor: 'bob', clientId: 'bob-1' };
    const replica = new Y.Doc();
    const sync = async () => {
      const { update } = await notebooks.syncState(notebookId, Y.encodeStateVector(replica));
      Y.applyUpdate(replica, update);
    };
    const output = (n: number): IOutput =>
      n % 2 === 0 ? { output_type: 'stream', name: 'stdout', text: `${n}\n` } : { output_type: 'execute_result', execution_count: n, data: { 'text/plain': `${n}` }, metadata: {} };
    const ids = async () => cellIds((await notebooks.live.withNotebook(notebookId, (nb) => ({ doc: nb.doc }))).doc);
    for (let step = 0; step < 260; step++) {
      const current = await ids();
      const id = current[pick(current.length)];
      const roll = pick(10);
      try {
        if (roll === 0 || current.length < 2) await notebooks.insertCell(notebookId, alice, { cell_type: pick(4) === 0 ? 'markdown' : 'code', source: `x${step} = ${step}`, index: pick(current.length + 1) });
        else if (roll === 1 && current.length > 3) await notebooks.deleteCell(notebookId, alice, id);
        else if (roll === 2) await notebooks.moveCell(notebookId, alice, id, pick(current.length));
        else if (roll === 3) await notebooks.updateCell(notebookId, alice, id, { source: `y = ${step}\nprint(y)` });
        else if (roll === 4) {
          // An execution: results rewritten, then the count set.
          await notebooks.change(notebookId, kernel, undefined, (doc) => ({ ...replaceOutputs(doc, id, [output(step)]), reply: () => undefined }));
          await notebooks.change(notebookId, kernel, undefined, (doc) => ({ ...setExecutionCount(doc, id, step), reply: () => undefined }));
        } else if (roll === 5) await notebooks.change(notebookId, kernel, undefined, (doc) => ({ ...appendOutput(doc, id, output(2 * step)), reply: () => undefined }));
        else {
          // bob types in his replica, synced only now and then: his edits race alice's commands.
          if (random() < 0.4) await sync();
          const cells = cellsOf(replica);
          if (cells.length === 0) continue;
          const updates: Uint8Array[] = [];
          const onUpdate = (update: Uint8Array) => void updates.push(update);
          replica.on('update', onUpdate);
          replica.transact(() => {
            if (random() < 0.1) {
              cells.delete(pick(cells.length), 1);
              return;
            }
            const source = cells.get(pick(cells.length)).get('source') as Y.Text;
            for (let i = 0; i < 1 + pick(5); i++) {
              const at = pick(source.length + 1);
              if (at < source.length && random() < 0.3) source.delete(at, 1);
              else source.insert(at, String.fromCharCode(97 + pick(26)));
            }
          });
          replica.off('update', onUpdate);
          for (const update of updates) await notebooks.applyCollaboratorUpdate(notebookId, bob, update);
        }
      } catch (error) {
        // A command refused against the current content (not a code cell, index out of range): nothing was appended.
        if (!(error instanceof Error && 'code' in error)) throw error;
      }
    }
    replica.destroy();
    const events = await store.readStream(notebookStream(notebookId));
    head = events.length;
    for (const event of events) recordedAt.set(event.version, event.recordedAt);
  });

  afterAll(async () => {
    notebooks.live.clear();
    await testStore.cleanup();
  });

  it('exports every version of a two-actor session with executions exactly as the checkpoint rebuild does', async () => {
    expect(head).toBeGreaterThan(250);
    const { store } = testStore;
    expect(await store.latestCheckpoint(notebookStream(notebookId))).not.toBeNull();
    const documents = new HistoryDocuments(store, { maxWaitEvents: 10_000 });
    const contents = [];
    for (let version = 1; version <= head; version++) {
      const fast = await documents.contentAt(notebookId, version);
      expect(fast, `version ${version}`).toStrictEqual(await rebuiltAt(testStore, notebookId, version));
      contents.push(fast);
    }
    expect(contents.some((content) => content?.cells.some((cell) => cell.cell_type === 'code' && (cell.outputs as unknown[]).length > 0))).toBe(true);
  });

  it('serves GET ?at= (by version and by ISO time) and diffs from the history document, equal to the rebuild', async () => {
    const documents = notebooks.history;
    const random = seeded(9);
    for (let i = 0; i < 30; i++) {
      const version = 1 + Math.floor(random() * head);
      const past = await notebooks.exportFile(notebookId, { version });
      expect(past.content, `version ${version}`).toStrictEqual(await rebuiltAt(testStore, notebookId, version));
      const byTime = await notebooks.exportFile(notebookId, { time: recordedAt.get(version)! });
      expect(byTime.version).toBeGreaterThanOrEqual(version);
      expect(byTime.content).toStrictEqual(await rebuiltAt(testStore, notebookId, byTime.version));
    }
    // The reads went through the store's history document (a short history: built while the first read waited).
    expect(documents.size).toBe(1);

    const history = new NotebookHistory(testStore.store, notebooks);
    const diff = await history.diff(notebookId, { version: 40 }, { version: 200 });
    const { diffNotebooks } = await import('@palimpsest/notebook');
    const actors = new Map<string, Set<string>>();
    for (const event of await testStore.store.readStream(notebookStream(notebookId), 41, 200)) {
      for (const cellId of event.metadata.cell_ids) actors.set(cellId, (actors.get(cellId) ?? new Set()).add(event.metadata.actor));
    }
    expect(diff.cells).toStrictEqual(diffNotebooks(await rebuiltAt(testStore, notebookId, 40), await rebuiltAt(testStore, notebookId, 200), actors));
  });

  it('catches up with events appended after it was built', async () => {
    const documents = new HistoryDocuments(testStore.store);
    expect(await documents.warm(notebookId)).toBe(true);
    const cell = await notebooks.insertCell(notebookId, { actor: 'alice' }, { cell_type: 'code', source: 'late = True' });
    const after = await documents.contentAt(notebookId, cell.version);
    expect(after).toStrictEqual(await rebuiltAt(testStore, notebookId, cell.version));
    expect(after?.cells.some((c) => c.id === cell.cell.id)).toBe(true);
    head = cell.version;
  });

  it('leaves a long cold build to the checkpoint rebuild, building in the background', async () => {
    const documents = new HistoryDocuments(testStore.store, { maxWaitEvents: 50 });
    expect(await documents.contentAt(notebookId, head)).toBeNull();
    // A read within reach of a document still being built waits; one far ahead does not.
    expect(await documents.warm(notebookId)).toBe(true);
    expect(await documents.contentAt(notebookId, head)).toStrictEqual(await rebuiltAt(testStore, notebookId, head));
  });

  it('keeps within its byte budget: evicts the least recently read, and excludes a notebook that alone exceeds it', async () => {
    const other = (await notebooks.create('alice', 'other.ipynb')).id;
    await notebooks.insertCell(other, { actor: 'alice' }, { cell_type: 'code', source: 'z = 1' });
    const probe = new HistoryDocuments(testStore.store);
    await probe.warm(notebookId);
    const big = probe.estimatedBytes;

    const roomy = new HistoryDocuments(testStore.store, { maxBytes: big + 1000 });
    await roomy.warm(other);
    await roomy.warm(notebookId);
    expect(roomy.size).toBe(1); // `other` was evicted to make room
    expect(await roomy.contentAt(notebookId, 10)).toStrictEqual(await rebuiltAt(testStore, notebookId, 10));

    const tight = new HistoryDocuments(testStore.store, { maxBytes: big / 2 });
    expect(await tight.warm(notebookId)).toBe(false);
    expect(await tight.contentAt(notebookId, 10)).toBeNull();
    expect(tight.size).toBe(0);
  });
});
