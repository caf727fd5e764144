import { InMemoryMessageBus } from '@palimpsest/bus';
import { DomainError, kernelStream, type KernelMessageEventData } from '@palimpsest/contracts';
import { KernelJournal, type ZmqKernel } from '@palimpsest/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '../../support/test-store.js';
import { KernelFixture } from './kernel.fixture.js';

describe(KernelJournal.name, () => {
  const fixture = new KernelFixture();
  const bus = new InMemoryMessageBus();
  const errors: unknown[] = [];
  let test: TestStore;
  let kernel: ZmqKernel;
  let journal: KernelJournal;

  beforeAll(async () => {
    // Small enough that one long line is refused, large enough for every other message of the run.
    test = await openTestStore('sqlite', { maxEventBytes: 16 * 1024 });
    kernel = fixture.create();
    journal = new KernelJournal(kernel, null, test.store, bus, 'user:tester', (error) => errors.push(error));
    await kernel.start();
  });
  afterAll(async () => {
    journal.close();
    await fixture.cleanup();
    await test.cleanup();
  });

  it('logs a burst of output with every message in order, and loses only the message the store refuses', async () => {
    const code = [
      "print('before', flush=True)",
      "print('x' * 64_000, flush=True)",
      "for i in range(200): print(i, flush=True)",
    ].join('\n');
    const execution = kernel.execute(code);
    await execution.done;
    await journal.flushed();

    const events = await test.store.readStream(kernelStream(kernel.id));
    const streamTexts = events
      .map((event) => (event.payload.encoding === 'json' ? (event.payload.json as KernelMessageEventData) : null))
      .filter((data) => data?.msg_type === 'stream' && data.parent_msg_id === execution.msgId)
      .map((data) => (data!.content as { text: string }).text);
    expect(streamTexts[0]).toBe('before\n');
    expect(streamTexts.slice(1).join('')).toBe(Array.from({ length: 200 }, (_, i) => `${i}\n`).join(''));
    expect(events.map((event) => event.version)).toEqual(events.map((_, i) => i + 1));

    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DomainError);
    expect((errors[0] as DomainError).code).toBe('PAYLOAD_TOO_LARGE');
    // The thread's other messages are all there: request, busy, input, reply, idle.
    const thread = events.map((event) => event.payload.encoding === 'json' && (event.payload.json as KernelMessageEventData)).filter((data) => data && (data.msg_id === execution.msgId || data.parent_msg_id === execution.msgId));
    expect(thread.map((data) => data && data.msg_type)).toEqual(expect.arrayContaining(['execute_request', 'status', 'execute_input', 'execute_reply']));
  });

  it('appends the events of one turn together, and one the store refuses does not take the others down', async () => {
    const before = await test.store.streamVersion(kernelStream(kernel.id));
    const refusedBefore = errors.length;
    for (const reason of ['first', 'y'.repeat(20_000), 'third']) journal.recordLifecycle({ state: 'culled', kernel_name: 'python3', reason });
    await journal.flushed();

    const added = await test.store.readStream(kernelStream(kernel.id), before + 1);
    expect(added.map((event) => event.payload.encoding === 'json' && (event.payload.json as { reason?: string }).reason)).toEqual(['first', 'third']);
    expect(added.map((event) => event.version)).toEqual([before + 1, before + 2]);
    expect(errors.slice(refusedBefore).map((error) => (error as DomainError).code)).toEqual(['PAYLOAD_TOO_LARGE']);
  });
});
