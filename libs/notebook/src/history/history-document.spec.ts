import type { IOutput } from '@jupyterlab/nbformat';
import type { LoggedEvent } from '@palimpsest/contracts';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { isEmptyUpdate } from '../collab/collaborator-update.js';
import { deleteCell, insertCell, moveCell, updateCell } from '../commands/cell-commands.js';
import { loadNotebook, setNotebookMetadata } from '../commands/notebook-commands.js';
import { appendOutput, replaceOutputs, setExecutionCount } from '../commands/output-commands.js';
import { runCommand, type CommandResult } from '../commands/run-command.js';
import { exportNotebook } from '../model/export-notebook.js';
import { cellIds, cellsOf } from '../model/notebook-doc.js';
import { rebuildDoc } from '../replay/rebuild-doc.js';
import { fixtureNotebook } from '../testing/fixture-doc.js';
import { HistoryDocument, UnsupportedHistoryContent } from './history-document.js';

/** A seeded uniform generator in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

/** A logged Yjs event (only what the history document reads). */
const yjsEvent = (version: number, bytes: Uint8Array): LoggedEvent => ({ version, payload: { encoding: 'yjs', bytes } }) as LoggedEvent;

/**
 * A random session of two actors on their own replicas, each syncing with the log now and then, so
 * their changes are often concurrent: text typed and deleted, cells inserted, deleted and moved,
 * outputs replaced and appended, execution counts and metadata set. Updates reach the log in
 * order, except now and then an actor's queued updates arrive in reverse (the later one waits for
 * the earlier one in the rebuilt document). Answers the log of updates.
 */
function session(seed: number, steps: number): Uint8Array[] {
  const random = seeded(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const log: Uint8Array[] = [];
  const actors = [new Y.Doc(), new Y.Doc()];
  const seen = [0, 0];
  const outbox: Uint8Array[][] = [[], []];
  outbox[0].push(loadNotebook(actors[0], fixtureNotebook('nbformat/test4.5.ipynb')).update);
  const output = (n: number): IOutput =>
    pick(2) === 0 ? { output_type: 'stream', name: 'stdout', text: `line ${n}\n` } : { output_type: 'execute_result', execution_count: n, data: { 'text/plain': `${n}` }, metadata: {} };
  for (let step = 0; step < steps; step++) {
    const a = pick(2);
    const doc = actors[a];
    if (random() < 0.4) while (seen[a] < log.length) Y.applyUpdate(doc, log[seen[a]++]);
    const ids = cellIds(doc);
    const id = ids[pick(ids.length)];
    const roll = pick(10);
    let result: CommandResult | null = null;
    try {
      if (roll === 0 || ids.length === 0) result = insertCell(doc, { cell_type: pick(3) === 0 ? 'markdown' : 'code', source: `cell ${step}`, index: pick(ids.length + 1) });
      else if (roll === 1) result = deleteCell(doc, id);
      else if (roll === 2) result = moveCell(doc, id, pick(ids.length));
      else if (roll === 3) result = updateCell(doc, id, { source: `rewritten ${step}\nsecond line` });
      else if (roll === 4) result = replaceOutputs(doc, id, Array.from({ length: pick(3) }, (_, i) => output(step + i)));
      else if (roll === 5) result = appendOutput(doc, id, output(step));
      else if (roll === 6) result = setExecutionCount(doc, id, pick(3) === 0 ? null : step);
      else if (roll === 7) result = setNotebookMetadata(doc, { kernelspec: { name: 'python3', display_name: `Python ${step}`, language: 'python' }, step });
      else {
        // Character edits, as an editor makes them.
        const source = cellsOf(doc).get(ids.indexOf(id)).get('source') as Y.Text;
        result = runCommand(doc, 'editor', () => {
          for (let i = 0; i < 1 + pick(4); i++) {
            const at = pick(source.length + 1);
            if (at < source.length && random() < 0.3) source.delete(at, Math.min(1 + pick(3), source.length - at));
            else source.insert(at, String.fromCharCode(97 + pick(26)));
          }
        });
      }
    } catch {
      // A command this replica refuses (a cell that is not code, say): nothing happened.
    }
    if (result && !isEmptyUpdate(result.update)) outbox[a].push(result.update);
    if (random() < 0.5) {
      const queued = outbox[a].splice(0);
      log.push(...(queued.length > 1 && random() < 0.15 ? queued.reverse() : queued));
    }
  }
  for (const queued of outbox) log.push(...queued);
  for (const doc of actors) doc.destroy();
  return log;
}

/**
 * The content at every version of a log the plain way, in one pass: one document, the updates applied in
 * order (as `rebuildDoc` does), exported after each; index = version.
 */
function rebuiltContents(log: readonly Uint8Array[]) {
  const doc = rebuildDoc(null, []);
  try {
    return [exportNotebook(doc), ...log.map((update) => (Y.applyUpdate(doc, update), exportNotebook(doc)))];
  } finally {
    doc.destroy();
  }
}

describe(HistoryDocument.name, () => {
  it('reads every version of a concurrent two-actor session exactly as a rebuild of the log up to it', () => {
    for (const seed of [1, 2, 3]) {
      const log = session(seed, 300);
      const expected = rebuiltContents(log);
      const history = new HistoryDocument();
      log.forEach((update, i) => history.apply(yjsEvent(i + 1, update)));
      for (let version = 0; version <= log.length; version++) {
        expect(history.contentAt(version), `seed ${seed}, version ${version}`).toStrictEqual(expected[version]);
      }
      history.destroy();
    }
  });

  it('reads versions while it is being built, and earlier versions after later ones were applied', () => {
    const log = session(7, 200);
    const expected = rebuiltContents(log);
    const random = seeded(11);
    const history = new HistoryDocument();
    log.forEach((update, i) => {
      history.apply(yjsEvent(i + 1, update));
      expect(history.contentAt(i + 1)).toStrictEqual(expected[i + 1]);
      const earlier = Math.floor(random() * (i + 2));
      expect(history.contentAt(earlier)).toStrictEqual(expected[earlier]);
    });
    history.destroy();
  });

  it('counts a JSON event as a version without changing the content, and refuses versions out of order or not reached', () => {
    const doc = new Y.Doc();
    const history = new HistoryDocument();
    history.apply({ version: 1, payload: { encoding: 'json', json: {} } } as LoggedEvent);
    history.apply(yjsEvent(2, insertCell(doc, { cell_type: 'code', source: 'x' }).update));
    expect(history.contentAt(1)).toStrictEqual(exportNotebook(new Y.Doc()));
    expect(history.contentAt(2)).toStrictEqual(exportNotebook(doc));
    expect(() => history.apply(yjsEvent(4, new Uint8Array([0, 0])))).toThrow(/version 2 cannot apply version 4/);
    expect(() => history.contentAt(3)).toThrow(RangeError);
  });

  it('returns content that shares nothing with the document (mutating it changes no later read)', () => {
    const doc = new Y.Doc();
    const history = new HistoryDocument();
    history.apply(yjsEvent(1, loadNotebook(doc, fixtureNotebook('nbformat/test4.5.ipynb')).update));
    const first = history.contentAt(1);
    const expected = structuredClone(first);
    first.metadata.mutated = true;
    (first.cells[0].metadata as Record<string, unknown>).mutated = true;
    expect(history.contentAt(1)).toStrictEqual(expected);
  });

  it('refuses content it does not read (an XML type) so that the caller rebuilds', () => {
    const doc = new Y.Doc();
    const update = runCommand(doc, 'editor', () => doc.getMap('meta').set('xml', new Y.XmlFragment())).update;
    const history = new HistoryDocument();
    history.apply(yjsEvent(1, update));
    expect(() => history.contentAt(1)).toThrow(UnsupportedHistoryContent);
  });
});
