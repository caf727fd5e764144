import type { DocChange } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { collectChanges } from '../changes/collect-changes.js';

/** What a command did: the one Yjs update to append and broadcast, and the changes it made. */
export interface CommandResult {
  /** The update of the command's transaction; an empty update when nothing changed. */
  update: Uint8Array;
  changes: DocChange[];
}

/** The transaction origin of commands when the caller gives none. */
export const COMMAND_ORIGIN = 'palimpsest:command';

/**
 * Runs `mutate` in one transaction with `origin` and returns its update and changes. Validate before
 * calling: a Yjs change cannot be rolled back. Must not run inside another transaction on `doc`.
 */
export function runCommand(doc: Y.Doc, origin: unknown, mutate: () => void): CommandResult {
  const updates: Uint8Array[] = [];
  const onUpdate = (update: Uint8Array): void => void updates.push(update);
  doc.on('update', onUpdate);
  try {
    const changes = collectChanges(doc, () => doc.transact(mutate, origin));
    return { update: updates.length === 1 ? updates[0] : Y.mergeUpdates(updates), changes };
  } finally {
    doc.off('update', onUpdate);
  }
}
