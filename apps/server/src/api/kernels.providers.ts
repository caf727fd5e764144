import { Logger, type BeforeApplicationShutdown, type Provider } from '@nestjs/common';
import { MessageBus } from '@palimpsest/bus';
import { EventStore } from '@palimpsest/event-store';
import { KernelGateway } from '@palimpsest/kernels';
import { ExecutionProjector, NotebookService } from '@palimpsest/notebook';
import { join } from 'node:path';
import { SERVER_CONFIG } from '../config/config.token.js';
import type { ServerConfig } from '../config/server.config.js';

/** The kernel gateway, its registry under `<dataDir>/kernels`; kernels orphaned by an earlier server are reaped first. */
const kernelGatewayProvider: Provider = {
  provide: KernelGateway,
  inject: [SERVER_CONFIG, EventStore, MessageBus],
  useFactory: async (config: ServerConfig, store: EventStore, bus: MessageBus) => {
    const logger = new Logger('Kernels');
    const gateway = new KernelGateway(store, bus, {
      stateDir: join(config.dataDir, 'kernels'),
      cullIdleMs: config.kernelCullIdleSeconds * 1000,
      onError: (error) => logger.error(`kernel event not recorded: ${error instanceof Error ? error.message : String(error)}`),
    });
    for (const orphan of await gateway.reapOrphans()) {
      logger.warn(`orphan kernel ${orphan.kernel_id} (pid ${orphan.pid}) of a stopped server: ${orphan.outcome}`);
    }
    return gateway;
  },
};

/** Writes execution progress from the bus into the notebooks' cells. */
const executionProjectorProvider: Provider = {
  provide: ExecutionProjector,
  inject: [NotebookService, MessageBus],
  useFactory: (notebooks: NotebookService, bus: MessageBus) => {
    const logger = new Logger('ExecutionProjector');
    return new ExecutionProjector(notebooks, bus, (error, progress) =>
      logger.error(`outputs of cell ${progress.cell_id} not written: ${error instanceof Error ? error.message : String(error)}`),
    );
  },
};

/** Stops every kernel before the store closes (their last events are still recorded), then lets output writes finish. */
export class KernelsLifecycle implements BeforeApplicationShutdown {
  constructor(
    private readonly gateway: KernelGateway,
    private readonly projector: ExecutionProjector,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.gateway.shutdownAll();
    await this.projector.idle();
    this.projector.close();
  }
}

/** Everything the kernels feature adds to the server module. */
export const KERNEL_PROVIDERS: Provider[] = [
  kernelGatewayProvider,
  executionProjectorProvider,
  { provide: KernelsLifecycle, inject: [KernelGateway, ExecutionProjector], useFactory: (g: KernelGateway, p: ExecutionProjector) => new KernelsLifecycle(g, p) },
];
