import { InMemoryMessageBus } from '@palimpsest/bus';
import { DomainError } from '@palimpsest/contracts';
import { describe, expect, it } from 'vitest';
import { KernelCallRelay } from './kernel-call-relay.js';

// Two relays on one in-process bus stand for two nodes on a shared bus (the real one, Redis, is in test/e2e/multi-node).
describe(KernelCallRelay.name, () => {
  const nodes = (serve: ConstructorParameters<typeof KernelCallRelay>[1]) => {
    const bus = new InMemoryMessageBus();
    return { asking: new KernelCallRelay(bus, () => null, { otherMs: 50 }), running: new KernelCallRelay(bus, serve) };
  };

  it('answers with the result of the node that runs the kernel, for that notebook only', async () => {
    const { asking, running } = nodes((call) => ('notebook_id' in call && call.notebook_id === 'nb' ? Promise.resolve({ by: call.actor, op: call.request.op }) : null));
    await expect(asking.call('alice', { notebook_id: 'nb', request: { op: 'describe' } })).resolves.toEqual({ by: 'alice', op: 'describe' });
    await expect(asking.call('alice', { notebook_id: 'other', request: { op: 'describe' } })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('notebook other') });
    running.close();
    await expect(asking.call('alice', { notebook_id: 'nb', request: { op: 'describe' } })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('reaches a kernel named by its id, and that kernel only', async () => {
    const { asking } = nodes((call) => ('kernel_id' in call && call.kernel_id === 'k1' ? Promise.resolve({ id: call.kernel_id, op: call.request.op }) : null));
    await expect(asking.call('alice', { kernel_id: 'k1', request: { op: 'model' } })).resolves.toEqual({ id: 'k1', op: 'model' });
    await expect(asking.call('alice', { kernel_id: 'k2', request: { op: 'model' } })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('kernel k2') });
    await expect(asking.call('alice', { notebook_id: 'k1', request: { op: 'describe' } })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('never answers its own calls: a node serves itself before asking the others', async () => {
    const alone = new KernelCallRelay(new InMemoryMessageBus(), (call) => Promise.resolve({ served: call.request.op }), { otherMs: 50 });
    await expect(alone.call('alice', { kernel_id: 'k1', request: { op: 'model' } })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // The in-process bus reaches no other node: a listing of every other node is empty at once.
    await expect(alone.callEveryNode('alice', { every_node: true, request: { op: 'list' } })).resolves.toEqual([]);
  });

  it("passes the running node's contract error on, and reports any other failure as INTERNAL", async () => {
    const { asking } = nodes((call) => Promise.reject(call.request.op === 'input' ? new DomainError('CONFLICT', 'not waiting for input') : new Error('boom')));
    await expect(asking.call('alice', { notebook_id: 'nb', request: { op: 'input', value: 'x' } })).rejects.toMatchObject({ code: 'CONFLICT', message: 'not waiting for input' });
    await expect(asking.call('alice', { notebook_id: 'nb', request: { op: 'interrupt' } })).rejects.toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });
});
