import { notebookStream, type ForkOrigin } from '@palimpsest/contracts';
import type { EventStore } from '@palimpsest/event-store';
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { changedCellIds } from '../changes/event-type.js';
import { loadNotebook } from '../commands/notebook-commands.js';
import type { HistoryPoint, NotebookService } from '../service/notebook.service.js';
import { loadableContent } from './loadable-content.js';

/** The notebook a fork created. */
export interface ForkResult {
  id: string;
  name: string;
  version: number;
  forked_from: ForkOrigin;
}

/**
 * Forks a notebook at a point (default: now) into a new notebook owned by `owner`, whose
 * `notebook.created` event records its origin (`forked_from`) and whose first content is the
 * source's content at that point. The source is untouched.
 */
export async function forkNotebook(
  store: EventStore,
  notebooks: NotebookService,
  sourceId: string,
  owner: string,
  options: { at?: HistoryPoint; name?: string } = {},
): Promise<ForkResult> {
  const source = notebooks.entry(sourceId);
  const version = await notebooks.resolvePoint(sourceId, options.at ?? { version: await store.streamVersion(notebookStream(sourceId)) });
  const content = loadableContent((await notebooks.exportFile(sourceId, { version })).content);
  const name = options.name ?? `${source.name.replace(/\.ipynb$/, '')}-fork.ipynb`;
  const id = randomUUID();
  const forkedFrom: ForkOrigin = { notebook_id: sourceId, version };
  const doc = new Y.Doc();
  const { update, changes } = loadNotebook(doc, content);
  doc.destroy();
  const metadata = { actor: owner, cell_ids: [] as string[], notebook_id: id };
  const result = await store.append({
    stream: notebookStream(id),
    expectedVersion: 'no_stream',
    events: [
      { type: 'notebook.created', payload: { encoding: 'json', json: { name, owner, forked_from: forkedFrom } }, metadata },
      {
        type: 'notebook.content.imported',
        payload: { encoding: 'yjs', bytes: update },
        metadata: { ...metadata, cell_ids: changedCellIds(changes), changes, description: `forked from ${sourceId} at version ${version}` },
      },
    ],
  });
  // The catalog learns of the new notebook from the bus: wait for it, so the caller can use it at once.
  await store.settled();
  return { id, name, version: result.version, forked_from: forkedFrom };
}
