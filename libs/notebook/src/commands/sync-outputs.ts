import type { IOutput, MultilineString } from '@jupyterlab/nbformat';
import * as Y from 'yjs';
import { jsonEqual } from '../ipynb/json.js';
import { joinMultiline } from '../ipynb/multiline.js';
import { outputToMap } from '../model/cell-map.js';
import { cellsOf } from '../model/notebook-doc.js';
import { codeCell } from './output-commands.js';
import { COMMAND_ORIGIN, runCommand, type CommandResult } from './run-command.js';
import { assertSchema } from './validation.js';

/** What a code cell should show for an execution: its outputs so far, its count, and whether it still runs. */
export interface CellExecutionTarget {
  outputs: readonly IOutput[];
  executionCount: number | null;
  /** Sets jupyter_ydoc's `execution_state` to `running` (true) or `idle` (false). */
  running: boolean;
  /** When set, nothing is written unless the cell's outputs are still exactly these. */
  replaces?: readonly IOutput[];
}

/** One step from the current outputs to the target: text to append to a stream output, or everything from an index replaced. */
interface OutputPlan {
  appends: Array<{ text: Y.Text; suffix: string }>;
  replaceFrom: number;
}

/**
 * Brings a code cell's outputs, execution_count and execution_state to a target with the smallest
 * Yjs change: the common prefix of outputs is kept, a stream output whose new text extends the old
 * only gets the suffix inserted into its Y.Text, and the rest is replaced from the first difference.
 * A long print therefore costs each write only what was printed since the last one.
 */
export function syncExecution(doc: Y.Doc, cellId: string, target: CellExecutionTarget, origin: unknown = COMMAND_ORIGIN): CommandResult {
  const { cell, outputs, index } = codeCell(doc, cellId);
  if (target.replaces && !sameOutputs(outputs.toArray(), target.replaces)) return runCommand(doc, origin, () => undefined);
  const wanted = target.outputs.map(normalized);
  const plan = planOutputs(outputs.toArray(), wanted);
  wanted.slice(plan.replaceFrom).forEach((output, i) => assertSchema(doc, output, 'output', `/cells/${index}/outputs/${plan.replaceFrom + i}`));
  const state = target.running ? 'running' : 'idle';
  return runCommand(doc, origin, () => {
    for (const { text, suffix } of plan.appends) text.insert(text.length, suffix);
    if (plan.replaceFrom < outputs.length) outputs.delete(plan.replaceFrom, outputs.length - plan.replaceFrom);
    if (plan.replaceFrom < wanted.length) outputs.push(wanted.slice(plan.replaceFrom).map(outputToMap));
    if (cell.get('execution_count') !== target.executionCount) cell.set('execution_count', target.executionCount);
    if (cell.get('execution_state') !== state) cell.set('execution_state', state);
  });
}

/**
 * Marks the cells still shown as running (or queued) as idle, outputs untouched: for when the kernel that
 * ran them is gone without finishing them (its server crashed). Only the cells with these ids when given.
 * Nothing changes when none runs.
 */
export function settleRunningCells(doc: Y.Doc, origin: unknown = COMMAND_ORIGIN, cellIds?: ReadonlySet<string>): CommandResult {
  const running = cellsOf(doc)
    .toArray()
    .filter((cell) => cell.get('execution_state') === 'running' && (!cellIds || cellIds.has(cell.get('id') as string)));
  return runCommand(doc, origin, () => {
    for (const cell of running) cell.set('execution_state', 'idle');
  });
}

function planOutputs(current: readonly Y.Map<unknown>[], wanted: readonly IOutput[]): OutputPlan {
  const appends: OutputPlan['appends'] = [];
  let i = 0;
  for (; i < current.length && i < wanted.length; i++) {
    const existing = current[i];
    const next = wanted[i];
    const text = existing.get('text');
    if (next.output_type === 'stream' && existing.get('output_type') === 'stream' && existing.get('name') === next.name && text instanceof Y.Text) {
      const before = text.toJSON();
      const after = next.text as string;
      if (after === before) continue;
      if (after.startsWith(before)) {
        appends.push({ text, suffix: after.slice(before.length) });
        continue;
      }
      break;
    }
    if (!jsonEqual(existing.toJSON(), next)) break;
  }
  return { appends, replaceFrom: i };
}

function sameOutputs(current: readonly Y.Map<unknown>[], expected: readonly IOutput[]): boolean {
  return current.length === expected.length && current.every((output, i) => jsonEqual(output.toJSON(), normalized(expected[i])));
}

// Stream text as one string, as the document keeps it in a Y.Text.
function normalized(output: IOutput): IOutput {
  return output.output_type === 'stream' ? { ...output, text: joinMultiline(output.text as MultilineString) } : output;
}
