import { type Direction, type JupyterMessage, toKernelMessageEventData, WireCodec, ZmqKernel, createMessage } from '@palimpsest/kernels';
import { readFileSync } from 'node:fs';
import { Dealer } from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelFixture, nextMessage } from './kernel.fixture.js';

describe(ZmqKernel.name, () => {
  const fixture = new KernelFixture();
  let kernel: ZmqKernel;
  const log: { message: JupyterMessage; direction: Direction }[] = [];

  beforeAll(async () => {
    kernel = fixture.create();
    kernel.onMessage((message, direction) => log.push({ message, direction }));
    await kernel.start();
  });
  afterAll(() => fixture.cleanup());

  const threadOf = (msgId: string) => log.filter(({ message }) => message.header.msg_id === msgId || message.parent_header.msg_id === msgId);

  it('is ready after kernel_info: idle, with language_info from the reply', () => {
    expect(kernel.executionState).toBe('idle');
    expect(kernel.kernelInfo?.language_info).toMatchObject({ name: 'python' });
    expect(log.some(({ message, direction }) => direction === 'to_kernel' && message.header.msg_type === 'kernel_info_request')).toBe(true);
  });

  it('runs print and reports every message of the thread, in both directions, as kernel.message data', async () => {
    const execution = kernel.execute("print('hi')");
    const result = await execution.done;
    expect(result.status).toBe('ok');
    expect(result.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'hi\n' }]);
    const thread = threadOf(execution.msgId).map(({ message, direction }) => toKernelMessageEventData(message, direction));
    expect(thread[0]).toMatchObject({ channel: 'shell', direction: 'to_kernel', msg_type: 'execute_request', parent_msg_id: null });
    const types = thread.map((event) => `${event.channel}:${event.msg_type}`);
    expect(types).toEqual(expect.arrayContaining(['iopub:status', 'iopub:execute_input', 'iopub:stream', 'shell:execute_reply']));
    expect(thread.slice(1).every((event) => event.direction === 'from_kernel' && event.parent_msg_id === execution.msgId)).toBe(true);
  });

  it('returns an execute_result with the execution_count, and measures the round trip', async () => {
    const first = await kernel.execute('1+1').done;
    expect(first.outputs).toEqual([{ output_type: 'execute_result', execution_count: first.executionCount, data: { 'text/plain': '2' }, metadata: {} }]);
    expect(first.reply).toMatchObject({ status: 'ok', execution_count: first.executionCount });
    const median = async (run: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 21; i += 1) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      return times.sort((x, y) => x - y)[10].toFixed(2);
    };
    const execute = await median(() => kernel.execute('1+1').done);
    const noHistory = await median(() => kernel.execute('1+1', { storeHistory: false }).done);
    const info = await median(async () => {
      const reply = nextMessage(kernel, (message) => message.header.msg_type === 'kernel_info_reply');
      await kernel.send('shell', 'kernel_info_request', {});
      await reply;
    });
    console.log(`median of 21 round trips: execute 1+1 ${execute} ms, without history ${noHistory} ms, kernel_info ${info} ms`);
  });

  it('folds rich display_data', async () => {
    const result = await kernel.execute("from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))").done;
    expect(result.outputs).toHaveLength(1);
    expect(result.outputs[0]).toMatchObject({ output_type: 'display_data', data: { 'text/html': '<b>x</b>' } });
  });

  it('applies update_display_data to the output with that display_id', async () => {
    const code = "from IPython.display import display\nh = display('before', display_id=True)\nprint('between')\nh.update('after')";
    const result = await kernel.execute(code).done;
    expect(result.outputs).toHaveLength(2);
    expect(result.outputs[0]).toMatchObject({ output_type: 'display_data', data: { 'text/plain': "'after'" } });
    expect(result.outputs[1]).toMatchObject({ output_type: 'stream', text: 'between\n' });
  });

  it('keeps only the last line of a clear_output(wait=True) progress loop', async () => {
    const code = "from IPython.display import clear_output\nfor i in range(5):\n    clear_output(wait=True)\n    print(f'step {i}')";
    const result = await kernel.execute(code).done;
    expect(result.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'step 4\n' }]);
  });

  it('collapses \\r progress output to the final line', async () => {
    const code = "import sys\nfor i in range(5):\n    sys.stdout.write(f'\\rprogress {i * 25}%')\n    sys.stdout.flush()\nprint()";
    const result = await kernel.execute(code).done;
    expect(result.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'progress 100%\n' }]);
  });

  it('reports an exception as an error output with a traceback and reply status error', async () => {
    const result = await kernel.execute("raise ValueError('boom')").done;
    expect(result.status).toBe('error');
    expect(result.reply).toMatchObject({ status: 'error', ename: 'ValueError', evalue: 'boom' });
    const error = result.outputs.find((output) => output.output_type === 'error');
    expect(error).toMatchObject({ ename: 'ValueError', evalue: 'boom' });
    expect(error?.output_type === 'error' && error.traceback.length).toBeGreaterThan(0);
  });

  it('runs queued executions in order and aborts those behind a failure (stop_on_error)', async () => {
    const a = kernel.execute("order = ['a']");
    const b = kernel.execute("order.append('b'); 1/0");
    const c = kernel.execute("order.append('c')");
    const d = kernel.execute('order', { stopOnError: false });
    expect([b.status, c.status]).toEqual(['queued', 'queued']);
    expect((await a.done).status).toBe('ok');
    expect((await b.done).status).toBe('error');
    expect(await c.done).toMatchObject({ status: 'aborted', reason: 'a previous execution failed' });
    expect((await d.done).status).toBe('aborted');
    const check = await kernel.execute('order').done;
    expect(check.outputs[0]).toMatchObject({ data: { 'text/plain': "['a', 'b']" } });
  });

  it('answers input() through answerInput and forgets the pending request afterwards', async () => {
    const asked = nextMessage(kernel, (message) => message.header.msg_type === 'input_request');
    const execution = kernel.execute("name = input('Name? ')\nprint('hello', name)");
    await asked;
    expect(kernel.pendingInput).toMatchObject({ prompt: 'Name? ', password: false, executionId: execution.msgId });
    const reply = await kernel.answerInput('Ada');
    expect(reply).toMatchObject({ channel: 'stdin', header: { msg_type: 'input_reply' }, content: { value: 'Ada' } });
    const result = await execution.done;
    expect(result.outputs.at(-1)).toEqual({ output_type: 'stream', name: 'stdout', text: 'hello Ada\n' });
    expect(kernel.pendingInput).toBeNull();
  });

  it('interrupts an endless loop with SIGINT: KeyboardInterrupt, and the queue behind it is aborted', async () => {
    // Waits for the loop's own output, not execute_input: a SIGINT that lands while ipykernel still prepares
    // the cell is caught by the kernel itself, which then goes idle without any execute_reply.
    const running = nextMessage(kernel, (message) => message.header.msg_type === 'stream');
    const loop = kernel.execute("print('looping', flush=True)\nwhile True: pass");
    const behind = kernel.execute("print('never')");
    await running;
    expect(kernel.executionState).toBe('busy');
    await kernel.interrupt();
    const result = await loop.done;
    expect(result.status).toBe('error');
    expect(result.reply).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
    expect((await behind.done).status).toBe('aborted');
    expect((await kernel.execute('40 + 2').done).outputs[0]).toMatchObject({ data: { 'text/plain': '42' } });
  });

  it('ends an execution interrupted as soon as it starts, with or without a reply from the kernel, and runs the next', async () => {
    // SIGINT at execute_input races ipykernel's own preparation of the cell: either the user's code gets the
    // KeyboardInterrupt (an error reply) or ipykernel goes idle with no reply at all. Both must end it.
    const started = nextMessage(kernel, (message) => message.header.msg_type === 'execute_input');
    const loop = kernel.execute('while True: pass', { stopOnError: false });
    await started;
    await kernel.interrupt();
    const result = await loop.done;
    expect(['error', 'aborted']).toContain(result.status);
    if (result.status === 'aborted') expect(result.reason).toBe('interrupted before the kernel replied');
    expect((await kernel.execute('6 * 7').done).outputs[0]).toMatchObject({ data: { 'text/plain': '42' } });
  });

  it('drops a kernel message with a bad signature fed into the iopub verify path, and counts it', () => {
    const seen: JupyterMessage[] = [];
    const off = kernel.onMessage((message) => seen.push(message));
    const key = (JSON.parse(readFileSync(kernel.connectionFile!, 'utf8')) as { key: string }).key;
    const status = createMessage({ session: 'forger', username: 'x' }, 'iopub', 'status', { execution_state: 'busy' });
    const before = kernel.rejectedMessages;
    kernel.connection.handleOutgoing('iopub', [Buffer.from('status'), ...new WireCodec('wrong key').encode(status)]);
    expect(kernel.rejectedMessages).toBe(before + 1);
    expect(seen).toHaveLength(0);
    kernel.connection.handleOutgoing('iopub', [Buffer.from('status'), ...new WireCodec(key).encode(status)]);
    off();
    expect(seen.map((message) => message.header.msg_id)).toEqual([status.header.msg_id]);
    expect(kernel.rejectedMessages).toBe(before + 1);
  });

  it('the real kernel ignores a forged execute_request on its shell socket', async () => {
    const info = JSON.parse(readFileSync(kernel.connectionFile!, 'utf8')) as { key: string; ip: string; shell_port: number };
    const origin = { session: 'intruder', username: 'mallory' };
    const intruder = new Dealer({ linger: 0, routingId: 'intruder' });
    intruder.connect(`tcp://${info.ip}:${info.shell_port}`);
    try {
      const forged = createMessage(origin, 'shell', 'execute_request', { code: 'forged = True', silent: false });
      const probe = createMessage(origin, 'shell', 'kernel_info_request', {});
      await intruder.send(new WireCodec('not the key').encode(forged));
      await intruder.send(new WireCodec(info.key).encode(probe));
      // Shell requests from one peer are handled in order: the probe's reply comes after the forged one was handled.
      const codec = new WireCodec(info.key);
      const reply = codec.decode('shell', await intruder.receive());
      expect(reply?.header.msg_type).toBe('kernel_info_reply');
      expect(reply?.parent_header.msg_id).toBe(probe.header.msg_id);
    } finally {
      intruder.close();
    }
    const check = await kernel.execute("'forged' in globals()").done;
    expect(check.outputs[0]).toMatchObject({ data: { 'text/plain': 'False' } });
  });
});
