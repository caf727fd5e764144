import type { EventType, LoggedEvent } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { cellsOf } from '../model/notebook-doc.js';
import { REPLAY_ORIGIN } from '../replay/rebuild-doc.js';

/** A cell's source right after one event that touched it (null once the cell is deleted). */
export interface CellHistoryEntry {
  version: number;
  at: string;
  actor: string;
  type: EventType;
  source: string | null;
}

/** The current source of a cell in a document, or null when the document has no such cell. */
export function cellSource(doc: Y.Doc, cellId: string): string | null {
  for (const cell of cellsOf(doc)) {
    if (cell.get('id') !== cellId) continue;
    const source = cell.get('source');
    if (source instanceof Y.Text) return source.toJSON();
    return typeof source === 'string' ? source : '';
  }
  return null;
}

/**
 * Replays a notebook stream once, in order, into one Y.Doc and records the cell's source after each
 * event whose `cell_ids` name it: the cell's history in a single pass, whatever the stream's length.
 */
export async function replayCellHistory(pages: AsyncIterable<readonly LoggedEvent[]>, cellId: string): Promise<CellHistoryEntry[]> {
  const doc = new Y.Doc();
  const entries: CellHistoryEntry[] = [];
  try {
    for await (const page of pages) {
      for (const event of page) {
        if (event.payload.encoding === 'yjs') Y.applyUpdate(doc, event.payload.bytes, REPLAY_ORIGIN);
        if (!event.metadata.cell_ids.includes(cellId)) continue;
        entries.push({
          version: event.version,
          at: new Date(event.recordedAt).toISOString(),
          actor: event.metadata.actor,
          type: event.type,
          source: cellSource(doc, cellId),
        });
      }
    }
    return entries;
  } finally {
    doc.destroy();
  }
}
