import { DomainError } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { cellIds } from '../model/notebook-doc.js';

/** What decoding an update (without applying it) tells about it. */
export interface UpdateShape {
  /** How many structs (runs of insertions) it carries. */
  structs: number;
  /** How many deleted ranges it carries. */
  deletions: number;
}

type Decoded = ReturnType<typeof Y.decodeUpdate>;

function decode(update: Uint8Array): Decoded {
  try {
    return Y.decodeUpdate(update);
  } catch (error) {
    throw new DomainError('BAD_REQUEST', `malformed Yjs update: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Decodes a Yjs update without applying it; BAD_REQUEST when the bytes are not one. */
export function checkUpdate(update: Uint8Array): UpdateShape {
  const { structs, ds } = decode(update);
  return { structs: structs.length, deletions: [...ds.clients.values()].reduce((sum, ranges) => sum + ranges.length, 0) };
}

/** The cell ids that occur more than once in the document. */
export function duplicateCellIds(doc: Y.Doc): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of cellIds(doc)) (seen.has(id) ? duplicates : seen).add(id);
  return [...duplicates];
}

/**
 * The map key an item of an update writes, or undefined when it cannot be told. Yjs only encodes
 * the key of an item without a left neighbour; an overwrite names its origin, the value it replaces.
 */
function keyOf(doc: Y.Doc, item: Y.Item, structs: Decoded['structs']): string | null | undefined {
  for (let current: Y.Item | undefined = item; current; ) {
    if (current.parentSub !== null || current.origin === null) return current.parentSub;
    const origin: Y.ID = current.origin;
    if (origin.clock < Y.getState(doc.store, origin.client)) {
      const known = Y.getItem(doc.store, origin);
      return known instanceof Y.Item ? known.parentSub : undefined;
    }
    current = structs.find(
      (s): s is Y.Item => s instanceof Y.Item && s.id.client === origin.client && s.id.clock <= origin.clock && origin.clock < s.id.clock + s.length,
    );
  }
  return undefined;
}

/** True when an update may add a cell (inserts a Y.Map) or set an `id` key; typing and plain edits cannot. */
function mayChangeCellIds(doc: Y.Doc, structs: Decoded['structs']): boolean {
  return structs.some((struct) => {
    if (!(struct instanceof Y.Item)) return false;
    if (struct.content instanceof Y.ContentType) return struct.content.type instanceof Y.Map;
    if (!(struct.content instanceof Y.ContentAny)) return false;
    const key = keyOf(doc, struct, structs);
    return key === 'id' || key === undefined;
  });
}

/**
 * The cell ids an update would newly duplicate if applied to `doc`, which it leaves untouched: the
 * collaboration layer refuses the update when this is not empty. Updates that cannot add cells or set
 * ids (typing, metadata values, stream text) are cleared from decoding alone; others are applied to a copy.
 */
export function duplicatesIfApplied(doc: Y.Doc, update: Uint8Array): string[] {
  if (!mayChangeCellIds(doc, decode(update).structs)) return [];
  const copy = new Y.Doc({ gc: doc.gc });
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  Y.applyUpdate(copy, update);
  const before = new Set(duplicateCellIds(doc));
  return duplicateCellIds(copy).filter((id) => !before.has(id));
}
