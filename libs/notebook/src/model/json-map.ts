import * as Y from 'yjs';
import { cloneJson, isJsonObject, jsonEqual, type JsonObject } from '../ipynb/json.js';

/** A Y.Map whose entries are the object's keys with plain JSON values (jupyter_ydoc's metadata maps). */
export function jsonToMap(value: unknown): Y.Map<unknown> {
  return new Y.Map(Object.entries(isJsonObject(value) ? cloneJson(value) : {}));
}

/** Makes a map of plain JSON values equal to `next`, writing only the keys that differ. */
export function replaceMapContents(map: Y.Map<unknown>, next: JsonObject): void {
  for (const key of [...map.keys()]) if (!(key in next)) map.delete(key);
  for (const [key, value] of Object.entries(next)) if (!jsonEqual(map.get(key), value)) map.set(key, cloneJson(value));
}

/** Replaces a Y.Text's content with `next`, editing only the span between the common prefix and suffix. */
export function replaceText(text: Y.Text, next: string): void {
  const current = text.toJSON();
  if (current === next) return;
  let start = 0;
  while (start < current.length && start < next.length && current[start] === next[start]) start++;
  let end = 0;
  while (end < current.length - start && end < next.length - start && current[current.length - 1 - end] === next[next.length - 1 - end]) end++;
  text.delete(start, current.length - start - end);
  text.insert(start, next.slice(start, next.length - end));
}
