import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthGuard, loadOrCreateSecret, NotebookAccess, TokenService } from '@palimpsest/auth';
import { MessageBus } from '@palimpsest/bus';
import { EventStore } from '@palimpsest/event-store';
import { NotebookCatalog, NotebookService } from '@palimpsest/notebook';
import { CellsController } from './api/cells.controller.js';
import { NotebooksController } from './api/notebooks.controller.js';
import { AuthController } from './api/auth.controller.js';
import { ContractErrorFilter } from './api/error.filter.js';
import { EventsController } from './api/events.controller.js';
import { HealthController } from './api/health.controller.js';
import { HistoryController } from './api/history.controller.js';
import { SERVER_CONFIG } from './config/config.token.js';
import type { ServerConfig } from './config/server.config.js';
import { busProvider, catalogProvider, LogLifecycle, storeProvider } from './log.providers.js';
import { EventsGateway } from './realtime/events.gateway.js';
import { ReplayGateway } from './realtime/replay.gateway.js';
import { StreamSealing } from './seal.providers.js';
import { JupyterKernelsController } from './api/kernels-jupyter.controller.js';
import { NotebookKernelsController } from './api/kernels.controller.js';
import { ExecutionRequests } from './api/execution-requests.js';
import { KERNEL_PROVIDERS } from './api/kernels.providers.js';
import { KernelsGateway } from './realtime/kernels.gateway.js';
import { collabConfigFromEnv, type CollabConfig } from './realtime/collab.config.js';
import { CollabRooms } from './realtime/collab-rooms.js';
import { YjsSocketGateway } from './realtime/yjs-socket.gateway.js';
import { YjsWebSocketServer } from './realtime/yjs-websocket.server.js';

/** The whole server, wired for one configuration. */
@Module({})
export class AppModule {
  /** Builds the module for a validated configuration. */
  static forRoot(config: ServerConfig, collab: CollabConfig = collabConfigFromEnv()): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule],
      controllers: [HealthController, AuthController, NotebooksController, CellsController, EventsController, HistoryController, NotebookKernelsController, JupyterKernelsController],
      providers: [
        { provide: SERVER_CONFIG, useValue: config },
        busProvider,
        storeProvider,
        catalogProvider,
        { provide: NotebookAccess, useExisting: NotebookCatalog },
        {
          provide: NotebookService,
          inject: [EventStore, NotebookCatalog],
          useFactory: (store: EventStore, catalog: NotebookCatalog) =>
            new NotebookService(store, catalog, { ...collab, history: { maxBytes: config.historyMemoryMb * 1024 * 1024 } }),
        },
        {
          provide: TokenService,
          useFactory: () => {
            const { secret } = loadOrCreateSecret(config.secret, config.dataDir);
            return new TokenService(secret, config.tokenTtlSeconds);
          },
        },
        { provide: LogLifecycle, inject: [EventStore, MessageBus], useFactory: (s: EventStore, b: MessageBus) => new LogLifecycle(s, b) },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ContractErrorFilter },
        EventsGateway,
        ReplayGateway,
        StreamSealing,
        ...KERNEL_PROVIDERS,
        ExecutionRequests,
        KernelsGateway,
        CollabRooms,
        YjsSocketGateway,
        YjsWebSocketServer,
      ],
    };
  }
}
