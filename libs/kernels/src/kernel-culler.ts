import type { ManagedKernel } from './managed-kernel.js';

/** Shuts down kernels that stayed idle, with nothing queued, for longer than a timeout (Jupyter's idle culling). */
export class KernelCuller {
  private readonly timer: NodeJS.Timeout;
  private readonly culling = new Set<string>();

  constructor(
    private readonly idleMs: number,
    private readonly kernels: () => readonly ManagedKernel[],
    private readonly cull: (managed: ManagedKernel) => Promise<void>,
  ) {
    // Checked a few times per timeout, at most once a minute; the timer never keeps the process alive.
    this.timer = setInterval(() => this.check(), Math.min(60_000, Math.max(100, Math.floor(idleMs / 4))));
    this.timer.unref();
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const now = Date.now();
    for (const managed of this.kernels()) {
      const { kernel, journal } = managed;
      if (this.culling.has(kernel.id) || kernel.executionState !== 'idle' || kernel.executions.length > 0 || kernel.pendingInput) continue;
      if (now - journal.lastActivity < this.idleMs) continue;
      this.culling.add(kernel.id);
      void this.cull(managed).finally(() => this.culling.delete(kernel.id));
    }
  }
}
