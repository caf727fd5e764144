import { describe, expect, it } from 'vitest';
import { foldOutput, initialOutputState, toNbformatOutputs, type OutputFoldState } from './output.folding.js';
import { appendStreamText } from './stream.text.js';
import type { NotebookOutput } from './output.types.js';

const msg = (msg_type: string, content: Record<string, unknown>) => ({ header: { msg_type }, content });
const fold = (state: OutputFoldState, ...messages: ReturnType<typeof msg>[]) => messages.reduce(foldOutput, state);
const stdout = (text: string) => msg('stream', { name: 'stdout', text });

describe(foldOutput.name, () => {
  it('coalesces consecutive stream messages of the same name into one output', () => {
    const state = fold(initialOutputState(), stdout('a\n'), stdout('b\n'));
    expect(state.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'a\nb\n' }]);
  });

  it('starts a new output when the stream name changes or another output came between', () => {
    const state = fold(
      initialOutputState(),
      stdout('a'),
      msg('stream', { name: 'stderr', text: 'e' }),
      stdout('b'),
      msg('display_data', { data: { 'text/plain': 'x' }, metadata: {} }),
      stdout('c'),
    );
    expect(state.outputs.map((o) => o.output_type === 'stream' && `${o.name}:${o.text}`)).toEqual([
      'stdout:a',
      'stderr:e',
      'stdout:b',
      false,
      'stdout:c',
    ]);
  });

  it('applies carriage returns when coalescing a stream', () => {
    const state = fold(initialOutputState(), stdout('0%\r'), stdout('50%\r'), stdout('100%\n'));
    expect(state.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '100%\n' }]);
  });

  it('adds execute_result with its execution_count and error outputs', () => {
    const state = fold(
      initialOutputState(),
      msg('execute_result', { execution_count: 3, data: { 'text/plain': '2' }, metadata: {} }),
      msg('error', { ename: 'ValueError', evalue: 'bad', traceback: ['tb'] }),
    );
    expect(state.outputs).toEqual([
      { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': '2' }, metadata: {} },
      { output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: ['tb'] },
    ]);
  });

  it('updates every output with the display_id of an update_display_data, and nothing else', () => {
    const shown = (text: string) => msg('display_data', { data: { 'text/plain': text }, metadata: {}, transient: { display_id: 'd1' } });
    const state = fold(
      initialOutputState(),
      shown('one'),
      msg('display_data', { data: { 'text/plain': 'other' }, metadata: {} }),
      shown('two'),
      msg('update_display_data', { data: { 'text/plain': 'new' }, metadata: { m: 1 }, transient: { display_id: 'd1' } }),
    );
    expect(state.outputs.map((o) => (o.output_type === 'display_data' ? o.data['text/plain'] : null))).toEqual(['new', 'other', 'new']);
  });

  it('returns the same state for an update of an unknown display_id', () => {
    const state = initialOutputState([{ output_type: 'stream', name: 'stdout', text: 'x' }]);
    const next = foldOutput(state, msg('update_display_data', { data: {}, metadata: {}, transient: { display_id: 'nope' } }));
    expect(next.outputs).toBe(state.outputs);
  });

  it('clears immediately on clear_output', () => {
    const state = fold(initialOutputState(), stdout('a'), msg('clear_output', { wait: false }));
    expect(state).toEqual({ outputs: [], clearOnNextOutput: false });
  });

  it('defers clear_output(wait=True) until the next output arrives', () => {
    const waiting = fold(initialOutputState(), stdout('step 1\n'), msg('clear_output', { wait: true }));
    expect(waiting.outputs).toHaveLength(1);
    expect(waiting.clearOnNextOutput).toBe(true);
    const next = foldOutput(waiting, stdout('step 2\n'));
    expect(next).toEqual({ outputs: [{ output_type: 'stream', name: 'stdout', text: 'step 2\n' }], clearOnNextOutput: false });
  });

  it('ignores messages that are not outputs', () => {
    const state = initialOutputState();
    expect(foldOutput(state, msg('status', { execution_state: 'idle' }))).toBe(state);
  });
});

describe(toNbformatOutputs.name, () => {
  it('removes the transient display ids', () => {
    const outputs: NotebookOutput[] = [{ output_type: 'display_data', data: {}, metadata: {}, transient: { display_id: 'd' } }];
    expect(toNbformatOutputs(outputs)).toEqual([{ output_type: 'display_data', data: {}, metadata: {} }]);
  });
});

describe('foldOutput over a long stream', () => {
  it('gives the same text as folding the whole text at once, chunk by chunk with carriage returns', () => {
    let state = initialOutputState();
    let expected = '';
    for (let i = 0; i < 2000; i++) {
      const chunk = i % 10 === 9 ? `\rline ${i}\n` : `${i} `;
      state = foldOutput(state, { header: { msg_type: 'stream' }, content: { name: 'stdout', text: chunk } });
      expected = appendStreamText(expected, chunk);
    }
    expect(state.outputs).toHaveLength(1);
    expect((state.outputs[0] as { text: string }).text).toBe(expected);
  });
});
