import type { YjsEventType } from '@palimpsest/contracts';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { deleteCell, insertCell, moveCell, updateCell } from '../commands/cell-commands.js';
import { setNotebookMetadata } from '../commands/notebook-commands.js';
import { appendOutput, clearOutputs, setExecutionCount } from '../commands/output-commands.js';
import type { CommandResult } from '../commands/run-command.js';
import { cellIds, cellsOf } from '../model/notebook-doc.js';
import { fixtureDocs } from '../testing/fixture-doc.js';
import { describeUpdate } from './describe-update.js';
import { eventTypeFor } from './event-type.js';

type Command = (doc: Y.Doc, ids: string[]) => CommandResult;

// test4.5.ipynb: cell 3 is a code cell with a stream output, cell 0 is markdown.
const COMMANDS: Array<[string, Command, YjsEventType]> = [
  ['insert', (doc) => insertCell(doc, { cell_type: 'code', index: 2, id: 'new-cell' }), 'notebook.cell.inserted'],
  ['delete', (doc, ids) => deleteCell(doc, ids[1]), 'notebook.cell.deleted'],
  ['move', (doc, ids) => moveCell(doc, ids[1], 5), 'notebook.cell.moved'],
  ['source edit', (doc, ids) => updateCell(doc, ids[0], { source: 'edited' }), 'notebook.cell.source_edited'],
  ['metadata edit', (doc, ids) => updateCell(doc, ids[0], { metadata: { tags: ['t'] } }), 'notebook.cell.metadata_changed'],
  ['type change', (doc, ids) => updateCell(doc, ids[3], { cell_type: 'raw' }), 'notebook.cell.type_changed'],
  ['output append', (doc, ids) => appendOutput(doc, ids[3], { output_type: 'stream', name: 'stdout', text: 'more' }), 'notebook.cell.outputs_changed'],
  ['outputs clear', (doc, ids) => clearOutputs(doc, ids[3]), 'notebook.cell.outputs_changed'],
  ['execution count', (doc, ids) => setExecutionCount(doc, ids[3], 42), 'notebook.cell.execution_changed'],
  ['notebook metadata', (doc) => setNotebookMetadata(doc, { title: 'x' }), 'notebook.metadata_changed'],
];

describe(describeUpdate.name, () => {
  it.each(COMMANDS)('describes the update of a %s as the command did', (_name, command, eventType) => {
    const { doc, replica } = fixtureDocs();
    const result = command(doc, cellIds(doc));
    expect(result.changes.length).toBeGreaterThan(0);
    expect(describeUpdate(replica, result.update, 'remote')).toEqual(result.changes);
    expect(eventTypeFor(result.changes)).toBe(eventType);
  });

  it('passes the origin to the transaction', () => {
    const { doc, replica } = fixtureDocs();
    const origins: unknown[] = [];
    replica.on('afterTransaction', (transaction: Y.Transaction) => origins.push(transaction.origin));
    describeUpdate(replica, deleteCell(doc, cellIds(doc)[0]).update, 'client-7');
    expect(origins).toEqual(['client-7']);
  });

  it('describes a raw edit of a stream output text as outputs_changed', () => {
    const { doc, replica } = fixtureDocs();
    const id = cellIds(doc)[3];
    const before = Y.encodeStateVector(doc);
    const outputs = cellsOf(doc).get(3).get('outputs') as Y.Array<Y.Map<unknown>>;
    (outputs.get(0).get('text') as Y.Text).insert(0, '>');
    expect(describeUpdate(replica, Y.encodeStateAsUpdate(doc, before), null)).toEqual([{ kind: 'outputs_changed', cell_id: id }]);
  });

  it('describes several edits in one update, each cell once per kind', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(doc);
    const before = Y.encodeStateVector(doc);
    doc.transact(() => {
      const cell = cellsOf(doc).get(0);
      (cell.get('source') as Y.Text).insert(0, 'a');
      (cell.get('source') as Y.Text).insert(0, 'b');
      (cellsOf(doc).get(1).get('metadata') as Y.Map<unknown>).set('k', 1);
      cellsOf(doc).delete(2, 1);
    });
    const changes = describeUpdate(replica, Y.encodeStateAsUpdate(doc, before), null);
    expect(changes).toEqual([
      { kind: 'deleted', cell_id: ids[2] },
      { kind: 'source_edited', cell_id: ids[0] },
      { kind: 'metadata_changed', cell_id: ids[1] },
    ]);
    expect(eventTypeFor(changes)).toBe('notebook.doc.updated');
  });

  it('rejects malformed bytes without touching the doc', () => {
    const { replica } = fixtureDocs();
    const before = Y.encodeStateAsUpdate(replica);
    expect(() => describeUpdate(replica, new Uint8Array([200, 1, 2, 3]), null)).toThrow(/malformed Yjs update/);
    expect(Y.encodeStateAsUpdate(replica)).toEqual(before);
  });
});
