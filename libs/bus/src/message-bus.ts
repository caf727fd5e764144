import type { BusTopic, BusTopics } from '@palimpsest/contracts';

/** A handler for one topic's payloads. */
export type BusHandler<T extends BusTopic> = (payload: BusTopics[T]) => void | Promise<void>;

/** The message bus port: typed topics that gateways and projections meet on. */
export abstract class MessageBus {
  /** True when published cluster topics reach other nodes (a distributed bus). */
  abstract readonly spansNodes: boolean;
  /** Publishes a payload to every subscriber of the topic (on every node, for distributed buses). */
  abstract publish<T extends BusTopic>(topic: T, payload: BusTopics[T]): void;
  /**
   * Publishes a cluster topic as `publish` does and resolves with how many other nodes received it, for a
   * caller that waits for an answer from each.
   */
  abstract broadcast<T extends BusTopic>(topic: T, payload: BusTopics[T]): Promise<number>;
  /** Subscribes to a topic; the returned function unsubscribes. */
  abstract subscribe<T extends BusTopic>(topic: T, handler: BusHandler<T>): () => void;
  /** Releases connections. */
  abstract close(): Promise<void>;
}
