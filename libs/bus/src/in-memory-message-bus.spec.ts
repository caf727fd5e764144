import { describe, expect, it } from 'vitest';
import { InMemoryMessageBus } from './in-memory-message-bus.js';

describe(InMemoryMessageBus.name, () => {
  it('delivers to every subscriber in order and stops after unsubscribe', () => {
    const bus = new InMemoryMessageBus();
    const seen: string[] = [];
    const off = bus.subscribe('log.appended', (p) => void seen.push(`a${p.position}`));
    bus.subscribe('log.appended', (p) => void seen.push(`b${p.position}`));
    bus.publish('log.appended', { node: 'n', position: 1 });
    off();
    bus.publish('log.appended', { node: 'n', position: 2 });
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('keeps delivering when one handler throws, and reports the error', () => {
    const errors: unknown[] = [];
    const bus = new InMemoryMessageBus((_topic, error) => errors.push(error));
    const seen: number[] = [];
    bus.subscribe('log.appended', () => {
      throw new Error('boom');
    });
    bus.subscribe('log.appended', (p) => void seen.push(p.position));
    bus.publish('log.appended', { node: 'n', position: 7 });
    expect(seen).toEqual([7]);
    expect(errors).toHaveLength(1);
  });
});
