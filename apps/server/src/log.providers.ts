import { Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { InMemoryMessageBus, MessageBus, RedisMessageBus } from '@palimpsest/bus';
import { loadOrCreateSecret } from '@palimpsest/auth';
import { deriveSealKey, EventStore, SQLITE_FILE_NAME, TypeOrmEventStore } from '@palimpsest/event-store';
import { NotebookCatalog } from '@palimpsest/notebook';
import { join } from 'node:path';
import { MIGRATIONS } from '../../../migrations/index.js';
import { SERVER_CONFIG } from './config/config.token.js';
import { redisKeyPrefix, type ServerConfig } from './config/server.config.js';

const CATALOG_TYPES = ['notebook.created', 'notebook.member.granted', 'notebook.member.revoked', 'notebook.deleted'];

/** Opens the store and, after every commit, publishes the committed events on the bus. */
export const storeProvider: Provider = {
  provide: EventStore,
  inject: [SERVER_CONFIG, MessageBus],
  useFactory: async (config: ServerConfig, bus: MessageBus) => {
    const store = await TypeOrmEventStore.open({
      databaseUrl: config.databaseUrl,
      postgresSchema: config.databaseSchema,
      sqlitePath: join(config.dataDir, SQLITE_FILE_NAME),
      migrations: MIGRATIONS,
      sealKey: deriveSealKey(loadOrCreateSecret(config.secret, config.dataDir).secret),
      onRecoveredError: (error) => new Logger('EventStore').warn(`live tail read failed, retrying: ${String(error)}`),
    });
    store.onCommitted((events) => bus.publish('log.committed', { events }));
    return store;
  },
};

/** The in-process bus, or the Redis bus across server processes when REDIS_URL is set. */
export const busProvider: Provider = {
  provide: MessageBus,
  inject: [SERVER_CONFIG],
  useFactory: (config: ServerConfig): MessageBus | Promise<MessageBus> => {
    const logger = new Logger('Bus');
    const onError = (topic: string, error: unknown) => logger.error(`bus topic ${topic} failed: ${String(error)}`);
    return config.redisUrl ? RedisMessageBus.connect(config.redisUrl, { channelPrefix: `${redisKeyPrefix(config)}bus:`, onError }) : new InMemoryMessageBus(onError);
  },
};

/** The notebook catalog, rebuilt from the log at boot and kept current from the bus. */
export const catalogProvider: Provider = {
  provide: NotebookCatalog,
  inject: [EventStore, MessageBus],
  useFactory: async (store: EventStore, bus: MessageBus) => {
    const catalog = new NotebookCatalog();
    bus.subscribe('log.committed', ({ events }) => catalog.apply(events));
    for (let after = 0; ; ) {
      const page = await store.read({ after, types: CATALOG_TYPES, limit: 5000 });
      catalog.apply(page);
      if (page.length < 5000) break;
      after = page[page.length - 1].position;
    }
    await catalog.refreshVersions((stream) => store.streamVersion(stream));
    return catalog;
  },
};

/** Closes the store (flushing pending appends) when the application shuts down. */
export class LogLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.bus.close();
  }
}
