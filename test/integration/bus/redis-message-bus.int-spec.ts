import { RedisMessageBus } from '@palimpsest/bus';
import { afterEach, describe, expect, it } from 'vitest';

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)(`${RedisMessageBus.name} on the local Redis`, () => {
  const buses: RedisMessageBus[] = [];
  /** Buses, as nodes of one deployment (two by default), on a channel prefix of their own. */
  const twoNodes = async (name: string, count = 2) => {
    const channelPrefix = `test:${process.pid}:${Date.now()}:${name}:`;
    const nodes = await Promise.all(Array.from({ length: count }, () => RedisMessageBus.connect(redisUrl!, { channelPrefix })));
    buses.push(...nodes);
    return nodes;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('delivers a cluster topic to subscribers on another node, once, and to local subscribers', async () => {
    const [a, b] = await twoNodes('cluster');
    const onA: string[] = [];
    const onB = new Promise<string>((resolve) => b.subscribe('kernel.status', (p) => resolve(p.execution_state)));
    a.subscribe('kernel.status', (p) => void onA.push(p.execution_state));
    a.publish('kernel.status', { kernel_id: 'k', notebook_id: null, execution_state: 'busy' });
    expect(await onB).toBe('busy');
    expect(onA).toEqual(['busy']);
  });

  it('counts, on broadcast, the other nodes that got a cluster topic; a node-local topic reaches none', async () => {
    const [a, b] = await twoNodes('count', 3);
    await twoNodes('another deployment');
    const onB = new Promise<string>((resolve) => b.subscribe('kernel.status', (p) => resolve(p.execution_state)));
    const status = { kernel_id: 'k', notebook_id: null, execution_state: 'busy' };
    expect(await a.broadcast('kernel.status', status)).toBe(2);
    expect(await onB).toBe('busy');
    expect(await a.broadcast('log.appended', { node: a.node, position: 1 })).toBe(0);
  });

  it('keeps node-local topics on the node that published them, and does not forward them', async () => {
    const [a, b] = await twoNodes('local');
    const localOnB: unknown[] = [];
    b.subscribe('log.appended', (p) => void localOnB.push(p));
    const status = new Promise<unknown>((resolve) => b.subscribe('kernel.input_requested', resolve));
    a.publish('log.appended', { node: a.node, position: 1 });
    const input = { notebook_id: 'n', kernel_id: 'k', prompt: 'name?', password: false, msg_id: 'm' };
    a.publish('kernel.input_requested', input);
    // Redis delivers one connection's messages in order, so once the later cluster message arrived
    // the local-only one would have arrived before it, had it been sent.
    expect(await status).toEqual(input);
    expect(localOnB).toEqual([]);
  });
});
