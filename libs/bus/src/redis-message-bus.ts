import { CLUSTER_TOPICS, type BusTopic, type BusTopics } from '@palimpsest/contracts';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { InMemoryMessageBus } from './in-memory-message-bus.js';
import { MessageBus, type BusHandler } from './message-bus.js';
import { decodeWireJson, encodeWireJson } from './wire-json.js';

/** Options of the Redis bus. */
export interface RedisMessageBusOptions {
  /** Prefix of the Redis pub/sub channels (default `palimpsest:bus:`); one per topic. */
  channelPrefix?: string;
  /** Told when a handler fails or a message from another node cannot be decoded. */
  onError?: (topic: BusTopic, error: unknown) => void;
}

interface Envelope {
  node: string;
  payload: unknown;
}

/**
 * The bus across nodes: every publish is delivered locally at once (as the in-process bus does),
 * and topics in CLUSTER_TOPICS are also sent over Redis pub/sub to the other nodes, which deliver
 * them to their local subscribers. A node ignores its own messages coming back from Redis.
 */
export class RedisMessageBus extends MessageBus {
  readonly spansNodes = true;
  /** This node's id on the bus. */
  readonly node = randomUUID();
  private readonly local: InMemoryMessageBus;
  private readonly prefix: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly options: RedisMessageBusOptions,
  ) {
    super();
    this.prefix = options.channelPrefix ?? 'palimpsest:bus:';
    this.local = new InMemoryMessageBus(options.onError);
    subscriber.on('message', (channel: string, text: string) => this.receive(channel, text));
  }

  /** Connects to Redis and subscribes to every cluster topic. */
  static async connect(url: string, options: RedisMessageBusOptions = {}): Promise<RedisMessageBus> {
    const publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    const subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const bus = new RedisMessageBus(publisher, subscriber, options);
    await subscriber.subscribe(...[...CLUSTER_TOPICS].map((topic) => bus.prefix + topic));
    return bus;
  }

  publish<T extends BusTopic>(topic: T, payload: BusTopics[T]): void {
    this.local.publish(topic, payload);
    if (!CLUSTER_TOPICS.has(topic)) return;
    this.send(topic, payload).catch((error: unknown) => this.options.onError?.(topic, error));
  }

  async broadcast<T extends BusTopic>(topic: T, payload: BusTopics[T]): Promise<number> {
    this.local.publish(topic, payload);
    if (!CLUSTER_TOPICS.has(topic)) return 0;
    // Redis counts the connections subscribed to the channel that got it: every node's, this one's included.
    return (await this.send(topic, payload)) - 1;
  }

  subscribe<T extends BusTopic>(topic: T, handler: BusHandler<T>): () => void {
    return this.local.subscribe(topic, handler);
  }

  // Sends a cluster topic to the other nodes; resolves with the number of subscribed connections that got it.
  private send(topic: BusTopic, payload: unknown): Promise<number> {
    const envelope: Envelope = { node: this.node, payload };
    return this.publisher.publish(this.prefix + topic, encodeWireJson(envelope));
  }

  private receive(channel: string, text: string): void {
    const topic = channel.slice(this.prefix.length) as BusTopic;
    try {
      const envelope = decodeWireJson(text) as Envelope;
      if (envelope.node === this.node) return;
      this.local.publish(topic, envelope.payload as BusTopics[typeof topic]);
    } catch (error) {
      this.options.onError?.(topic, error);
    }
  }

  async close(): Promise<void> {
    await this.local.close();
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }
}
