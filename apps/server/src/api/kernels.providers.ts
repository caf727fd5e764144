import { Logger, type BeforeApplicationShutdown, type Provider } from '@nestjs/common';
import { MessageBus } from '@palimpsest/bus';
import { DomainError } from '@palimpsest/contracts';
import { EventStore } from '@palimpsest/event-store';
import { cellsLastWrittenBy, KernelGateway, PostgresKernelClaims, REAPER_ACTOR, type ReapedKernel } from '@palimpsest/kernels';
import { ExecutionProjector, NotebookService } from '@palimpsest/notebook';
import { join } from 'node:path';
import { SERVER_CONFIG } from '../config/config.token.js';
import type { ServerConfig } from '../config/server.config.js';

/**
 * A reaped kernel never finishes what it ran: the cells it left shown as running (or queued) become idle, by
 * the reaper; cells another kernel wrote to since are left to that kernel. A deleted notebook has nothing to
 * settle; any other failure is logged and the server starts anyway (the cells then show running until
 * executed again).
 */
async function settleCellsOf(orphan: ReapedKernel, store: EventStore, notebooks: NotebookService, logger: Logger): Promise<void> {
  if (!orphan.notebookId) return;
  try {
    await notebooks.settleRunningCells(orphan.notebookId, await cellsLastWrittenBy(store, orphan.notebookId, orphan.kernel_id), REAPER_ACTOR);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') return;
    logger.error(`cells left running by kernel ${orphan.kernel_id} not settled: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The kernel gateway, its registry under `<dataDir>/kernels`. Kernels orphaned by an earlier server are reaped
 * first, and the cells they left running are settled.
 */
const kernelGatewayProvider: Provider = {
  provide: KernelGateway,
  inject: [SERVER_CONFIG, EventStore, MessageBus, NotebookService],
  useFactory: async (config: ServerConfig, store: EventStore, bus: MessageBus, notebooks: NotebookService) => {
    const logger = new Logger('Kernels');
    const gateway = new KernelGateway(store, bus, {
      stateDir: join(config.dataDir, 'kernels'),
      cullIdleMs: config.kernelCullIdleSeconds * 1000,
      onError: (error) => logger.error(error instanceof Error ? error.message : String(error)),
      // Nodes sharing a PostgreSQL log run each notebook's kernel on one of them.
      claims: config.databaseUrl
        ? new PostgresKernelClaims(config.databaseUrl, config.databaseSchema, (subject, error) =>
            logger.error(`lost the claim on ${subject}: another node may start its kernel${error instanceof Error ? ` (${error.message})` : ''}`),
          )
        : undefined,
    });
    for (const orphan of await gateway.reapOrphans()) {
      logger.warn(`orphan kernel ${orphan.kernel_id} (pid ${orphan.pid}) of a stopped server: ${orphan.outcome}`);
      await settleCellsOf(orphan, store, notebooks, logger);
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
