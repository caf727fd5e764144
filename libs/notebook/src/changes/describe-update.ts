import type { DocChange } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { checkUpdate } from './check-update.js';
import { collectChanges } from './collect-changes.js';

/** Applies an update received from a collaborator (with `origin`) and returns the changes it caused; BAD_REQUEST for malformed bytes. */
export function describeUpdate(doc: Y.Doc, update: Uint8Array, origin: unknown): DocChange[] {
  checkUpdate(update);
  return collectChanges(doc, () => Y.applyUpdate(doc, update, origin));
}
