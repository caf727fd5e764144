import { DomainError, notebookStream } from '@palimpsest/contracts';
import { readStreamPages, type EventStore } from '@palimpsest/event-store';
import type { HistoryPoint, NotebookService } from '../service/notebook.service.js';
import { replayCellHistory, type CellHistoryEntry } from './cell-history.js';
import { diffNotebooks, type CellDiff } from './notebook-diff.js';

/** The difference between two versions of a notebook. */
export interface NotebookDiff {
  from: number;
  to: number;
  cells: CellDiff[];
}

/** Read-side history queries of notebooks: diffs between two points and per-cell histories. */
export class NotebookHistory {
  constructor(
    private readonly store: EventStore,
    private readonly notebooks: NotebookService,
  ) {}

  /** What changed per cell between two points (`to` defaults to now), with the actors of the events in between. */
  async diff(notebookId: string, fromPoint: HistoryPoint, toPoint?: HistoryPoint): Promise<NotebookDiff> {
    const stream = notebookStream(notebookId);
    const from = await this.notebooks.resolvePoint(notebookId, fromPoint);
    const to = await this.notebooks.resolvePoint(notebookId, toPoint ?? { version: await this.store.streamVersion(stream) });
    const [before, after] = await Promise.all([this.notebooks.exportFile(notebookId, { version: from }), this.notebooks.exportFile(notebookId, { version: to })]);
    const actors = new Map<string, Set<string>>();
    for await (const page of readStreamPages(this.store, stream, Math.min(from, to) + 1, Math.max(from, to))) {
      for (const event of page) {
        for (const cellId of event.metadata.cell_ids) {
          const set = actors.get(cellId) ?? new Set<string>();
          actors.set(cellId, set.add(event.metadata.actor));
        }
      }
    }
    return { from, to, cells: diffNotebooks(before.content, after.content, actors) };
  }

  /** The cell's source after each change that touched it, from one pass over the notebook's stream; 404 for a cell the notebook never had. */
  async cellHistory(notebookId: string, cellId: string): Promise<{ cell_id: string; entries: CellHistoryEntry[] }> {
    this.notebooks.entry(notebookId);
    const stream = notebookStream(notebookId);
    const entries = await replayCellHistory(readStreamPages(this.store, stream, 1, await this.store.streamVersion(stream)), cellId);
    if (entries.length === 0) throw new DomainError('NOT_FOUND', `notebook ${notebookId} never had a cell ${cellId}`);
    return { cell_id: cellId, entries };
  }
}
