import * as Y from 'yjs';

/** The transaction origin of updates applied while rebuilding a document from the log. */
export const REPLAY_ORIGIN = 'palimpsest:replay';

/** Rebuilds a document from a checkpoint (or nothing) and the updates after it, applied in order to one Y.Doc. */
export function rebuildDoc(checkpoint: Uint8Array | null, updates: Iterable<Uint8Array>): Y.Doc {
  const doc = new Y.Doc();
  if (checkpoint) Y.applyUpdate(doc, checkpoint, REPLAY_ORIGIN);
  for (const update of updates) Y.applyUpdate(doc, update, REPLAY_ORIGIN);
  return doc;
}

/** The document's full state as one update: a checkpoint for `rebuildDoc`. */
export function encodeCheckpoint(doc: Y.Doc): Uint8Array {
  return Y.encodeStateAsUpdate(doc);
}
