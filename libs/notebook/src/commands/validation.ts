import { DomainError } from '@palimpsest/contracts';
import type * as Y from 'yjs';
import { schemaProblems, type SchemaMode } from '../ipynb/nbformat-schema.js';
import { CURRENT_NBFORMAT_MINOR, describeProblems } from '../ipynb/validate-notebook.js';
import { metaOf } from '../model/notebook-doc.js';

/** The schema rules of the document: lenient when it came from a future nbformat minor. */
function modeOf(doc: Y.Doc): SchemaMode {
  const minor = metaOf(doc).get('nbformat_minor');
  return typeof minor === 'number' && minor > CURRENT_NBFORMAT_MINOR ? 'future' : 'current';
}

/** Throws UNPROCESSABLE naming each problem when `value` does not fit the schema definition. */
export function assertSchema(doc: Y.Doc, value: unknown, definition: 'cell' | 'output' | undefined, path: string): void {
  const problems = schemaProblems(value, modeOf(doc), definition, path);
  if (problems.length > 0) throw new DomainError('UNPROCESSABLE', describeProblems(problems), { problems });
}

/** Throws UNPROCESSABLE unless `index` is an integer from 0 to `max`. */
export function assertIndex(index: unknown, max: number): asserts index is number {
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) > max) {
    throw new DomainError('UNPROCESSABLE', `index must be an integer from 0 to ${max}, got ${String(index)}`);
  }
}
