import { describe, expect, it, vi } from 'vitest';
import { Execution } from './execution.js';
import { ExecutionQueue } from './execution.queue.js';
import { createMessage } from './message.factory.js';
import type { JupyterMessage } from './message.types.js';

// These tests feed the queue synthetic kernel messages (a simulated kernel): the fault they cover, ipykernel
// dropping execute_reply when SIGINT lands between execute_input and the user's code, is a race that a real
// kernel shows only now and then. The real-kernel interrupt tests are in test/integration/kernels.
const origin = { session: 'session', username: 'test' };
const requestOf = (code: string) => createMessage(origin, 'shell', 'execute_request', { code });
const idleFor = (execution: Execution): JupyterMessage => createMessage(origin, 'iopub', 'status', { execution_state: 'idle' }, { parent: execution.request });
const replyFor = (execution: Execution, status = 'ok'): JupyterMessage =>
  createMessage(origin, 'shell', 'execute_reply', { status, execution_count: 1 }, { parent: execution.request });

/** A queue whose sends are recorded; resumed, with a short reply grace. */
function queueWithLog(replyGraceMs = 20) {
  const sent: Execution[] = [];
  const queue = new ExecutionQueue(
    (execution) => {
      sent.push(execution);
      return Promise.resolve();
    },
    () => new Execution(requestOf(''), false),
    replyGraceMs,
  );
  queue.resume();
  return { queue, sent };
}

/** Resolves after the microtask that sends a queued request. */
const sendsSettled = () => new Promise<void>((resolve) => queueMicrotask(resolve));

/** A queue with two executions of this code queued, before the first is sent. */
function twoQueued(firstCode: string, secondCode: string) {
  const { queue, sent } = queueWithLog();
  const first = new Execution(requestOf(firstCode), true);
  const second = new Execution(requestOf(secondCode), true);
  queue.enqueue(first);
  queue.enqueue(second);
  return { queue, sent, first, second };
}

describe('ExecutionQueue (simulated kernel messages)', () => {
  it('sends a queued request only after the caller’s synchronous code, then in order', async () => {
    const { queue, sent, first, second } = twoQueued('1', '2');
    expect(sent).toEqual([]);
    await sendsSettled();
    expect(sent).toEqual([first]);
    queue.observe(replyFor(first));
    queue.observe(idleFor(first));
    expect((await first.done).status).toBe('ok');
    expect(sent).toEqual([first, second]);
  });

  it('ends an interrupted execution that went idle without a reply, and runs the next one', async () => {
    const { queue, sent, first: interrupted, second: next } = twoQueued('while True: pass', '1+1');
    await sendsSettled();
    queue.interrupted();
    queue.observe(idleFor(interrupted));
    expect(await interrupted.done).toMatchObject({ status: 'aborted', reply: null, reason: 'interrupted before the kernel replied' });
    expect(sent).toEqual([interrupted, next]);
  });

  it('still takes a reply that comes after the idle status of an interrupted execution', async () => {
    const { queue } = queueWithLog(60_000);
    const execution = new Execution(requestOf('while True: pass'), true);
    queue.enqueue(execution);
    await sendsSettled();
    queue.interrupted();
    queue.observe(idleFor(execution));
    queue.observe(replyFor(execution, 'error'));
    expect(await execution.done).toMatchObject({ status: 'error', reply: { status: 'error' } });
  });

  it('waits for the reply of an execution that was not interrupted, however long after its idle status', async () => {
    vi.useFakeTimers();
    try {
      const { queue } = queueWithLog(10);
      const execution = new Execution(requestOf('1+1'), true);
      queue.enqueue(execution);
      await sendsSettled();
      queue.observe(idleFor(execution));
      // An interrupted one would have ended after 10 ms; this one keeps waiting.
      vi.advanceTimersByTime(60_000);
      expect(execution.status).toBe('running');
      queue.observe(replyFor(execution));
      expect((await execution.done).status).toBe('ok');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe(Execution.name, () => {
  it('updates a display it shows from an update_display_data of another request, and only that', () => {
    const execution = new Execution(requestOf("display('a', display_id=True)"), true);
    execution.markRunning();
    const shown = (data: string, id = 'd1') => ({ data: { 'text/plain': data }, metadata: {}, transient: { display_id: id } });
    execution.observe(createMessage(origin, 'iopub', 'display_data', shown('a'), { parent: execution.request }));
    const other = requestOf("h.update('b')");
    expect(execution.observe(createMessage(origin, 'iopub', 'update_display_data', shown('b'), { parent: other }))).toBe(false);
    execution.observe(createMessage(origin, 'iopub', 'update_display_data', shown('x', 'd2'), { parent: other }));
    execution.observe(createMessage(origin, 'iopub', 'stream', { name: 'stdout', text: 'not mine' }, { parent: other }));
    expect(execution.outputs).toEqual([{ output_type: 'display_data', ...shown('b') }]);
  });
});
