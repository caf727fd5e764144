import type { BusTopic, BusTopics } from '@palimpsest/contracts';
import { MessageBus, type BusHandler } from './message-bus.js';

/**
 * The in-process bus: synchronous fan-out in subscription order. A failing handler is reported
 * to `onHandlerError` and never stops delivery to the others.
 */
export class InMemoryMessageBus extends MessageBus {
  readonly spansNodes = false;
  private readonly handlers = new Map<BusTopic, Set<BusHandler<BusTopic>>>();

  constructor(private readonly onHandlerError: (topic: BusTopic, error: unknown) => void = () => undefined) {
    super();
  }

  publish<T extends BusTopic>(topic: T, payload: BusTopics[T]): void {
    for (const handler of this.handlers.get(topic) ?? []) {
      try {
        const result = (handler as BusHandler<T>)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.onHandlerError(topic, error));
      } catch (error) {
        this.onHandlerError(topic, error);
      }
    }
  }

  broadcast<T extends BusTopic>(topic: T, payload: BusTopics[T]): Promise<number> {
    this.publish(topic, payload);
    return Promise.resolve(0);
  }

  subscribe<T extends BusTopic>(topic: T, handler: BusHandler<T>): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler as BusHandler<BusTopic>);
    return () => set.delete(handler as BusHandler<BusTopic>);
  }

  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}
