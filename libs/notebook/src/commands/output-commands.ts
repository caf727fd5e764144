import type { IOutput } from '@jupyterlab/nbformat';
import { DomainError } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { joinMultiline } from '../ipynb/multiline.js';
import { outputToMap } from '../model/cell-map.js';
import { findCell, type CellMap } from '../model/notebook-doc.js';
import { COMMAND_ORIGIN, runCommand, type CommandResult } from './run-command.js';
import { assertSchema } from './validation.js';

/** The outputs array of a code cell; NOT_FOUND for an unknown id, UNPROCESSABLE for a markdown or raw cell. */
export function codeCell(doc: Y.Doc, cellId: string): { cell: CellMap; outputs: Y.Array<Y.Map<unknown>>; index: number } {
  const { cell, index } = findCell(doc, cellId);
  const outputs = cell.get('outputs');
  if (cell.get('cell_type') !== 'code' || !(outputs instanceof Y.Array)) {
    throw new DomainError('UNPROCESSABLE', `cell ${cellId} is not a code cell`);
  }
  return { cell, outputs: outputs as Y.Array<Y.Map<unknown>>, index };
}

/**
 * Appends one output to a code cell. A stream output following a stream output of the same name
 * is appended to that output's text, as Jupyter front ends do.
 */
export function appendOutput(doc: Y.Doc, cellId: string, output: IOutput, origin: unknown = COMMAND_ORIGIN): CommandResult {
  const { outputs, index } = codeCell(doc, cellId);
  assertSchema(doc, output, 'output', `/cells/${index}/outputs/${outputs.length}`);
  const last = outputs.length > 0 ? outputs.get(outputs.length - 1) : null;
  const lastText = last?.get('output_type') === 'stream' && last.get('name') === output.name ? last.get('text') : null;
  return runCommand(doc, origin, () => {
    if (output.output_type === 'stream' && lastText instanceof Y.Text) lastText.insert(lastText.length, joinMultiline(output.text as string | string[]));
    else outputs.push([outputToMap(output)]);
  });
}

/** Replaces all outputs of a code cell. */
export function replaceOutputs(doc: Y.Doc, cellId: string, replacement: readonly IOutput[], origin: unknown = COMMAND_ORIGIN): CommandResult {
  const { outputs, index } = codeCell(doc, cellId);
  replacement.forEach((output, i) => assertSchema(doc, output, 'output', `/cells/${index}/outputs/${i}`));
  return runCommand(doc, origin, () => {
    if (outputs.length > 0) outputs.delete(0, outputs.length);
    outputs.push(replacement.map(outputToMap));
  });
}

/** Removes all outputs of a code cell (no update when it has none). */
export function clearOutputs(doc: Y.Doc, cellId: string, origin: unknown = COMMAND_ORIGIN): CommandResult {
  return replaceOutputs(doc, cellId, [], origin);
}

/** Sets a code cell's execution count (a non-negative integer, or null). */
export function setExecutionCount(doc: Y.Doc, cellId: string, count: number | null, origin: unknown = COMMAND_ORIGIN): CommandResult {
  const { cell } = codeCell(doc, cellId);
  if (count !== null && !(Number.isInteger(count) && count >= 0)) {
    throw new DomainError('UNPROCESSABLE', `execution_count must be a non-negative integer or null, got ${String(count)}`);
  }
  return runCommand(doc, origin, () => {
    if (cell.get('execution_count') !== count) cell.set('execution_count', count);
  });
}
