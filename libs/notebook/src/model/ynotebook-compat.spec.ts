import { YNotebook } from '@jupyter/ydoc';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { describeUpdate } from '../changes/describe-update.js';
import { fixtureDocs, normalizedOutput } from '../testing/fixture-doc.js';
import { exportNotebook } from './export-notebook.js';
import { cellIds } from './notebook-doc.js';

/** A YNotebook client synced to the server doc (YNotebook makes its own Y.Doc, as a connected client does). */
function clientOf(doc: Y.Doc): YNotebook {
  const client = new YNotebook();
  Y.applyUpdate(client.ydoc, Y.encodeStateAsUpdate(doc));
  return client;
}

/** What the client did since `before`, as the update its provider would send. */
const sentSince = (client: YNotebook, before: Uint8Array): Uint8Array => Y.encodeStateAsUpdate(client.ydoc, before);

const joined = (source: string | string[]): string => (Array.isArray(source) ? source.join('') : source);

describe(`${YNotebook.name} over the document`, () => {
  it.each(['nbformat/test4.5.ipynb', 'ipywidgets/Output Widget.ipynb', 'nbformat/test4plus.ipynb'])(
    'sees the same cells, sources, outputs and metadata (%s)',
    (name) => {
      const { doc } = fixtureDocs(name);
      const client = clientOf(doc);
      const exported = exportNotebook(doc);
      expect(client.cells.map((cell) => cell.id)).toEqual(exported.cells.map((cell) => cell.id));
      expect(client.cells.map((cell) => cell.getSource())).toEqual(exported.cells.map((cell) => joined(cell.source ?? '')));
      expect(client.metadata).toEqual(exported.metadata);
      exported.cells.forEach((cell, i) => {
        if (cell.cell_type === 'code') expect(client.cells[i].toJSON().outputs).toEqual((cell.outputs as Array<Record<string, unknown>>).map(normalizedOutput));
      });
    },
  );

  it('sends a source edit that the export and describeUpdate understand', () => {
    const { doc } = fixtureDocs();
    const client = clientOf(doc);
    const before = Y.encodeStateVector(client.ydoc);
    client.cells[0].updateSource(0, 0, 'Hello ');
    const changes = describeUpdate(doc, sentSince(client, before), 'client');
    expect(changes).toEqual([{ kind: 'source_edited', cell_id: client.cells[0].id }]);
    expect(joined(exportNotebook(doc).cells[0].source)).toBe(client.cells[0].getSource());
  });

  it('sends an inserted cell and a move that keep ids unique', () => {
    const { doc } = fixtureDocs();
    const client = clientOf(doc);
    let before = Y.encodeStateVector(client.ydoc);
    client.insertCell(1, { cell_type: 'code', source: 'x = 1', id: 'from-client' });
    expect(describeUpdate(doc, sentSince(client, before), 'client')).toEqual([{ kind: 'inserted', cell_id: 'from-client', index: 1 }]);
    before = Y.encodeStateVector(client.ydoc);
    client.moveCell(1, 4);
    expect(describeUpdate(doc, sentSince(client, before), 'client')).toEqual([{ kind: 'moved', cell_id: 'from-client', index: 4 }]);
    expect(cellIds(doc)).toEqual(client.cells.map((cell) => cell.id));
    expect(new Set(cellIds(doc)).size).toBe(cellIds(doc).length);
    expect(exportNotebook(doc).cells[4]).toEqual(expect.objectContaining({ id: 'from-client', source: ['x = 1'], outputs: [], execution_count: null }));
  });

  it('sends deleted cells, outputs and notebook metadata that describeUpdate classifies', () => {
    const { doc } = fixtureDocs();
    const client = clientOf(doc);
    const ids = cellIds(doc);
    const code = client.cells[3];
    const steps: Array<[() => void, unknown[]]> = [
      [() => client.deleteCell(1), [{ kind: 'deleted', cell_id: ids[1] }]],
      [() => (code as unknown as { setOutputs(o: unknown[]): void }).setOutputs([]), [{ kind: 'outputs_changed', cell_id: code.id }]],
      [() => client.setMetadata('title', 'From client'), [{ kind: 'notebook_metadata_changed' }]],
    ];
    for (const [edit, expected] of steps) {
      const before = Y.encodeStateVector(client.ydoc);
      edit();
      expect(describeUpdate(doc, sentSince(client, before), 'client')).toEqual(expected);
    }
    expect(exportNotebook(doc).metadata.title).toBe('From client');
    expect(exportNotebook(doc).cells.map((cell) => cell.id)).toEqual(client.cells.map((cell) => cell.id));
  });
});
