import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { EventStore, StreamSealer, TypeOrmEventStore } from '@palimpsest/event-store';
import { SERVER_CONFIG } from './config/config.token.js';
import type { ServerConfig } from './config/server.config.js';

/** Runs the stream sealer for the server's lifetime: seals changed stream heads periodically and once more at shutdown. */
@Injectable()
export class StreamSealing implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** The sealer (tests call `sealNow` on it). */
  readonly sealer: StreamSealer;

  constructor(store: EventStore, @Inject(SERVER_CONFIG) config: ServerConfig) {
    const logger = new Logger('StreamSealer');
    this.sealer = new StreamSealer(store instanceof TypeOrmEventStore ? store : { sealHeads: () => store.sealHeads() }, {
      intervalMs: config.sealIntervalSeconds * 1000,
      onError: (error) => logger.warn(`sealing stream heads failed, retrying at the next trigger: ${String(error)}`),
    });
  }

  onApplicationBootstrap(): void {
    this.sealer.start();
  }

  // Before the store closes (LogLifecycle closes it in onApplicationShutdown).
  async beforeApplicationShutdown(): Promise<void> {
    await this.sealer.stop();
  }
}
