import * as Y from 'yjs';
import { checkUpdate, duplicatesIfApplied } from '../changes/check-update.js';
import { collectChanges } from '../changes/collect-changes.js';
import { runCommand, type CommandResult } from '../commands/run-command.js';
import { cellIdOf, cellsOf, type CellMap } from '../model/notebook-doc.js';

/** What applying a collaborator's update did: the command result plus the duplicate cells it removed. */
export interface CollaboratorResult extends CommandResult {
  /** Ids whose extra copies were deleted in the same transaction (concurrent moves, id collisions). */
  repaired: string[];
}

/** True for the update of a transaction that changed nothing (`Y.mergeUpdates([])`). */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}

/**
 * Deletes every copy of the given cell ids but one: the copy that existed before (`kept`), else the
 * first in notebook order. Deterministic on the server's document, so every replica converges.
 */
export function removeDuplicateCells(doc: Y.Doc, ids: readonly string[], existing: ReadonlySet<CellMap>): void {
  const cells = cellsOf(doc);
  for (const id of ids) {
    const copies = cells.toArray().flatMap((cell, index) => (cellIdOf(cell) === id ? [{ cell, index }] : []));
    const keep = copies.find(({ cell }) => existing.has(cell)) ?? copies[0];
    for (const { index } of copies.filter((copy) => copy !== keep).reverse()) cells.delete(index, 1);
  }
}

/**
 * Applies a collaborator's update in one transaction (BAD_REQUEST when malformed). An update that
 * would duplicate cell ids is applied together with the removal of the extra copies: refusing it
 * instead would strand the sender, since every later update of that client builds on it.
 */
export function mergeCollaboratorUpdate(doc: Y.Doc, update: Uint8Array, origin: unknown): CollaboratorResult {
  checkUpdate(update);
  const duplicates = duplicatesIfApplied(doc, update);
  const existing = new Set(duplicates.length > 0 ? cellsOf(doc).toArray() : []);
  const updates: Uint8Array[] = [];
  // The repair runs in a transaction of its own: within the one that integrated remote items, Y.Array
  // indexes are not reliable yet. The outer collection still reports the net changes of both.
  const changes = collectChanges(doc, () => {
    updates.push(runCommand(doc, origin, () => Y.applyUpdate(doc, update, origin)).update);
    if (duplicates.length > 0) updates.push(runCommand(doc, origin, () => removeDuplicateCells(doc, duplicates, existing)).update);
  });
  return { update: updates.length === 1 ? updates[0] : Y.mergeUpdates(updates), changes, repaired: duplicates };
}
