import type { DisplayDataOutput, ExecuteResultOutput, NotebookOutput, OutputTransient } from './output.types.js';
import { appendToSplitText, splitStreamText, type SplitStreamText } from './stream.text.js';

/** The outputs of a cell as one execution builds them, with the pending `clear_output(wait=True)` made explicit. */
export interface OutputFoldState {
  readonly outputs: readonly NotebookOutput[];
  /** A `clear_output` with `wait` arrived: the outputs are cleared when the next output arrives. */
  readonly clearOnNextOutput: boolean;
}

/** The part of an iopub message that folding reads. */
export interface OutputMessage {
  header: { msg_type: string };
  content: Record<string, unknown>;
}

/** A fold state starting from a cell's current outputs. */
export function initialOutputState(outputs: readonly NotebookOutput[] = []): OutputFoldState {
  return { outputs, clearOnNextOutput: false };
}

/**
 * Applies one iopub message to the outputs, as JupyterLab's output area does; messages that are
 * not outputs return the state unchanged. `update_display_data` only touches outputs in this state:
 * apply it to every cell's state to update a display shown in several cells.
 */
export function foldOutput(state: OutputFoldState, message: OutputMessage): OutputFoldState {
  const content = message.content;
  switch (message.header.msg_type) {
    case 'clear_output':
      return content.wait === true ? { ...state, clearOnNextOutput: true } : { outputs: [], clearOnNextOutput: false };
    case 'update_display_data':
      return { ...state, outputs: updateDisplay(state.outputs, content) };
    case 'stream':
    case 'display_data':
    case 'execute_result':
    case 'error':
      return addOutput(state.clearOnNextOutput ? [] : state.outputs, toOutput(message.header.msg_type, content));
    default:
      return state;
  }
}

/** True for an iopub `update_display_data`, which may update displays of any execution. */
export function isDisplayUpdate(message: { channel: string; header: { msg_type: string } }): boolean {
  return message.channel === 'iopub' && message.header.msg_type === 'update_display_data';
}

/** True when some output is a display with a display_id, which later `update_display_data` can update. */
export function showsDisplays(outputs: readonly NotebookOutput[]): boolean {
  return outputs.some((output) => (output.output_type === 'display_data' || output.output_type === 'execute_result') && output.transient?.display_id !== undefined);
}

/** The outputs as nbformat stores them: the transient display ids removed. */
export function toNbformatOutputs(outputs: readonly NotebookOutput[]): NotebookOutput[] {
  return outputs.map((output) => {
    if (output.output_type !== 'display_data' && output.output_type !== 'execute_result') return output;
    const { transient: _transient, ...stored } = output;
    return stored;
  });
}

/** The split form of stream outputs this module built, so appending never re-reads their whole text. */
const splitTexts = new WeakMap<NotebookOutput, SplitStreamText>();

function appendToStream<T extends NotebookOutput & { text: string }>(stream: T | null, template: T): T {
  const split = appendToSplitText(stream ? (splitTexts.get(stream) ?? splitStreamText(stream.text)) : { settled: '', open: '' }, template.text);
  const merged = { ...(stream ?? template), text: split.settled + split.open };
  splitTexts.set(merged, split);
  return merged;
}

function addOutput(outputs: readonly NotebookOutput[], output: NotebookOutput): OutputFoldState {
  const last = outputs.at(-1);
  if (output.output_type === 'stream' && last?.output_type === 'stream' && last.name === output.name) {
    return { outputs: [...outputs.slice(0, -1), appendToStream(last, output)], clearOnNextOutput: false };
  }
  const added = output.output_type === 'stream' ? appendToStream(null, output) : output;
  return { outputs: [...outputs, added], clearOnNextOutput: false };
}

function toOutput(msgType: string, content: Record<string, unknown>): NotebookOutput {
  switch (msgType) {
    case 'stream':
      return { output_type: 'stream', name: content.name === 'stderr' ? 'stderr' : 'stdout', text: text(content.text) };
    case 'error':
      return {
        output_type: 'error',
        ename: text(content.ename),
        evalue: text(content.evalue),
        traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
      };
    case 'execute_result':
      return { output_type: 'execute_result', execution_count: numberOrNull(content.execution_count), ...displayParts(content) };
    default:
      return { output_type: 'display_data', ...displayParts(content) };
  }
}

function updateDisplay(outputs: readonly NotebookOutput[], content: Record<string, unknown>): readonly NotebookOutput[] {
  const id = displayIdOf(content);
  if (id === undefined || !outputs.some((o) => hasDisplayId(o, id))) return outputs;
  const { data, metadata } = displayParts(content);
  return outputs.map((output) => (hasDisplayId(output, id) ? { ...output, data, metadata } : output));
}

function hasDisplayId(output: NotebookOutput, id: string): output is DisplayDataOutput | ExecuteResultOutput {
  return (output.output_type === 'display_data' || output.output_type === 'execute_result') && output.transient?.display_id === id;
}

function displayParts(content: Record<string, unknown>): Pick<DisplayDataOutput, 'data' | 'metadata' | 'transient'> {
  const id = displayIdOf(content);
  const transient: OutputTransient | undefined = id === undefined ? undefined : { display_id: id };
  return { data: record(content.data), metadata: record(content.metadata), ...(transient ? { transient } : {}) };
}

function displayIdOf(content: Record<string, unknown>): string | undefined {
  const id = record(content.transient).display_id;
  return typeof id === 'string' ? id : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
