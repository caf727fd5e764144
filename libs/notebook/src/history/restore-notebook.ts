import { DomainError, notebookStream } from '@palimpsest/contracts';
import type { EventStore } from '@palimpsest/event-store';
import { changedCellIds } from '../changes/event-type.js';
import { loadNotebook } from '../commands/notebook-commands.js';
import type { Actor, HistoryPoint, NotebookService } from '../service/notebook.service.js';
import { loadableContent } from './loadable-content.js';

/** What a restore appended. */
export interface RestoreResult {
  /** The notebook's new version: the `notebook.restored` event. */
  version: number;
  /** The version whose content the notebook now has again. */
  restored_from: number;
}

/**
 * Restores a notebook's content to an earlier point as a new change: one `notebook.restored` Yjs
 * update that makes the live document equal to the old content. History is never rewritten; the
 * restore itself can be undone by restoring the version before it.
 */
export async function restoreNotebook(
  store: EventStore,
  notebooks: NotebookService,
  notebookId: string,
  who: Actor,
  at: HistoryPoint,
  expected?: number,
): Promise<RestoreResult> {
  const from = await notebooks.resolvePoint(notebookId, at);
  const content = loadableContent((await notebooks.exportFile(notebookId, { version: from })).content);
  const live = notebooks.live;
  return live.withNotebook(notebookId, async (notebook) => {
    if (expected !== undefined && expected !== notebook.version) {
      throw new DomainError('VERSION_CONFLICT', `notebook ${notebookId} is at version ${notebook.version}, expected ${expected}`, {
        expected_version: expected,
        current_version: notebook.version,
      });
    }
    const { update, changes } = loadNotebook(notebook.doc, content);
    // The live doc already holds the restore: appendApplied drops it if the append fails.
    const result = await live.appendApplied(notebook, () =>
      store.append({
        stream: notebookStream(notebookId),
        expectedVersion: notebook.version,
        events: [
          {
            type: 'notebook.restored',
            payload: { encoding: 'yjs', bytes: update },
            metadata: {
              ...who.extra,
              actor: who.actor,
              cell_ids: changedCellIds(changes),
              notebook_id: notebookId,
              changes,
              description: `restored to version ${from}`,
              restored_from: from,
            },
          },
        ],
      }),
    );
    return { version: result.version, restored_from: from };
  });
}

