import { DomainError } from '@palimpsest/contracts';
import type { MessageBus } from '@palimpsest/bus';
import type { EventStore } from '@palimpsest/event-store';
import { join } from 'node:path';
import { ExecutionProgress } from './execution-progress.js';
import { KernelCuller } from './kernel-culler.js';
import { KernelJournal, type Correlation } from './kernel-journal.js';
import { recordReapedOrphans } from './kernel-thread.js';
import { KernelRegistry, reapOrphans, type OrphanReport } from './kernel.registry.js';
import { discoverKernelSpecs, type KernelSpecSearchOptions } from './kernelspec.discovery.js';
import type { KernelSpecsModel } from './kernelspec.types.js';
import type { ManagedKernel } from './managed-kernel.js';
import { parentMsgId } from './message.factory.js';

/** How the gateway runs kernels; every optional field has a documented default. */
export interface KernelGatewayOptions {
  /** Registry state (`kernels-<pid>.json`) and connection files (`runtime/`); `<dataDir>/kernels` in the server. */
  stateDir: string;
  /** Shut down kernels idle (no message either way, nothing running) this long; 0 or absent: never. */
  cullIdleMs?: number;
  /** How long a kernel may take to answer kernel_info at (re)start; 60 s by default. */
  startupTimeoutMs?: number;
  /** How long complete/inspect/history wait for their reply; 10 s by default. */
  replyTimeoutMs?: number;
  /** Where kernelspecs are searched; Jupyter's data path by default. */
  specSearch?: KernelSpecSearchOptions;
  /** Reports failures that have no caller to go to (an append that failed, a culled kernel that would not stop). */
  onError?: (error: unknown) => void;
}

/** The execute_request options of a notebook cell, as JupyterLab sends them. */
const CELL_EXECUTE = { storeHistory: true, allowStdin: true, stopOnError: true } as const;

/**
 * Runs Jupyter kernels for notebooks (one per notebook) and standalone ones, records every message
 * and lifecycle change in `kernel:<id>` and publishes execution progress on the bus, where the
 * notebook picks it up. Transports (REST, Socket.IO) call it; it knows nothing of notebooks' content.
 */
export class KernelGateway {
  private readonly registry: KernelRegistry;
  private readonly managed = new Map<string, ManagedKernel>();
  private readonly starting = new Map<string, Promise<ManagedKernel>>();
  private readonly culler: KernelCuller | null;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
    private readonly options: KernelGatewayOptions,
  ) {
    this.registry = new KernelRegistry({ stateDir: options.stateDir, runtimeDir: join(options.stateDir, 'runtime') });
    this.onError = options.onError ?? (() => undefined);
    this.culler = options.cullIdleMs ? new KernelCuller(options.cullIdleMs, () => this.list(), (managed) => this.cull(managed)) : null;
  }

  /** Kills the kernels a previous server process left running and records their end in their streams. */
  async reapOrphans(): Promise<OrphanReport[]> {
    const reports = reapOrphans(this.options.stateDir);
    await recordReapedOrphans(this.store, reports);
    return reports;
  }

  /** The installed kernelspecs in Jupyter Server's shape. */
  kernelspecs(): KernelSpecsModel {
    return discoverKernelSpecs(this.options.specSearch);
  }

  /** Every running kernel. */
  list(): ManagedKernel[] {
    return [...this.managed.values()];
  }

  /** A running kernel; NOT_FOUND when there is none with this id. */
  get(kernelId: string): ManagedKernel {
    const managed = this.managed.get(kernelId);
    if (!managed) throw new DomainError('NOT_FOUND', `no running kernel ${kernelId}`);
    return managed;
  }

  /** The notebook's running kernel, if any. */
  async ofNotebook(notebookId: string): Promise<ManagedKernel | undefined> {
    return this.list().find((managed) => managed.notebookId === notebookId) ?? this.starting.get(notebookId)?.catch(() => undefined);
  }

  /** The notebook's running kernel, or NOT_FOUND. */
  async requireNotebookKernel(notebookId: string): Promise<ManagedKernel> {
    const managed = await this.ofNotebook(notebookId);
    if (!managed) throw new DomainError('NOT_FOUND', `notebook ${notebookId} has no running kernel`);
    return managed;
  }

  /** Starts the notebook's kernel (the default kernelspec when no name is given) unless one runs; `started` says which. */
  async startForNotebook(notebookId: string, actor: string, name?: string): Promise<{ managed: ManagedKernel; started: boolean }> {
    const running = await this.ofNotebook(notebookId);
    if (running) return { managed: running, started: false };
    const starting = this.launch(notebookId, actor, name);
    this.starting.set(notebookId, starting);
    try {
      return { managed: await starting, started: true };
    } finally {
      if (this.starting.get(notebookId) === starting) this.starting.delete(notebookId);
    }
  }

  /** Starts a kernel that belongs to no notebook (Jupyter Server's `POST /api/kernels`). */
  startStandalone(actor: string, name?: string): Promise<ManagedKernel> {
    return this.launch(null, actor, name);
  }

  /** Queues a cell's code on the notebook's kernel (started first when none runs); resolves with the execution id. */
  async executeCell(notebookId: string, cellId: string, code: string, actor: string): Promise<string> {
    const { managed } = await this.startForNotebook(notebookId, actor);
    // The request is sent a microtask after queueing: attributed here first, it is logged as the actor's.
    const execution = managed.kernel.execute(code, { ...CELL_EXECUTE, metadata: { cellId } });
    managed.journal.correlate(execution.msgId, { actor, cellId, executionId: execution.msgId });
    managed.progress.track(execution, notebookId, cellId, () => managed.journal.forget(execution.msgId));
    return execution.msgId;
  }

  /** Queues scratch code (outside any cell) on the notebook's kernel, started first when none runs. */
  async executeCode(notebookId: string, code: string, actor: string): Promise<string> {
    const { managed } = await this.startForNotebook(notebookId, actor);
    const execution = managed.kernel.execute(code, { storeHistory: false });
    managed.journal.correlate(execution.msgId, { actor, cellId: null, executionId: execution.msgId });
    void execution.done.then(() => managed.journal.forget(execution.msgId));
    return execution.msgId;
  }

  /** Interrupts what the kernel runs. */
  interrupt(managed: ManagedKernel, actor: string): Promise<void> {
    return this.operate(managed, actor, () => managed.kernel.interrupt());
  }

  /** Restarts the kernel (a new process; queued executions are aborted, outputs stay). */
  restart(managed: ManagedKernel, actor: string): Promise<void> {
    return this.operate(managed, actor, () => managed.kernel.restart());
  }

  /** Shuts the kernel down. */
  shutdown(managed: ManagedKernel, actor: string): Promise<void> {
    return this.operate(managed, actor, () => managed.kernel.shutdown());
  }

  /** Answers the kernel's pending `input()`; CONFLICT when none is pending. */
  async answerInput(managed: ManagedKernel, value: string, actor: string): Promise<void> {
    const pending = managed.kernel.pendingInput;
    const asked = pending ? managed.journal.correlationOf(pending.request.header.msg_id) : undefined;
    const correlation: Correlation = { actor, cellId: asked?.cellId ?? null, executionId: asked?.executionId ?? null };
    await managed.journal.within(correlation, () => managed.kernel.answerInput(value));
  }

  /** Sends a shell request (complete, inspect, history...) and resolves with its reply's content. */
  request(managed: ManagedKernel, msgType: string, content: Record<string, unknown>, actor: string): Promise<Record<string, unknown>> {
    const timeoutMs = this.options.replyTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let requestId: string | null = null;
      const timer = setTimeout(() => finish(new DomainError('KERNEL_ERROR', `the kernel did not answer ${msgType} within ${timeoutMs / 1000} s`)), timeoutMs);
      const off = managed.kernel.onMessage((message, direction) => {
        // The request is the first message sent after the call below: sending is synchronous up to the wire.
        if (direction === 'to_kernel') requestId ??= message.header.msg_id;
        else if (message.channel === 'shell' && requestId !== null && parentMsgId(message) === requestId) finish(message.content);
      });
      const finish = (result: Record<string, unknown> | Error) => {
        clearTimeout(timer);
        off();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      managed.journal.within({ actor, cellId: null, executionId: null }, () => managed.kernel.send('shell', msgType, content)).catch((error: Error) => finish(error));
    });
  }

  /** Counts a client subscribed to the kernel's raw stream; returns the function that uncounts it. */
  connect(managed: ManagedKernel): () => void {
    managed.connections += 1;
    let connected = true;
    return () => {
      if (connected) managed.connections -= 1;
      connected = false;
    };
  }

  /** Resolves once every event of the kernel queued so far is committed. */
  flushed(managed: ManagedKernel): Promise<void> {
    return managed.journal.flushed();
  }

  /** Shuts every kernel down (server shutdown) and stops culling. */
  async shutdownAll(): Promise<void> {
    this.culler?.stop();
    await this.registry.shutdownAll();
    await Promise.all(this.list().map((managed) => managed.journal.flushed()));
  }

  private async launch(notebookId: string | null, actor: string, name?: string): Promise<ManagedKernel> {
    const specs = this.kernelspecs();
    const specName = name ?? specs.default;
    const model = specName ? specs.kernelspecs[specName] : undefined;
    if (!specName || !model) {
      const known = Object.keys(specs.kernelspecs).join(', ') || 'none';
      throw new DomainError('UNPROCESSABLE', `no kernelspec named ${JSON.stringify(specName ?? '')} (installed: ${known})`);
    }
    const kernel = this.registry.create({ name: specName, spec: model.spec, startupTimeoutMs: this.options.startupTimeoutMs });
    const journal = new KernelJournal(kernel, notebookId, this.store, this.bus, actor, this.onError);
    const managed: ManagedKernel = { kernel, notebookId, owner: actor, journal, progress: new ExecutionProgress(kernel, this.bus), connections: 0 };
    kernel.onLifecycle((event) => {
      if (event.state === 'died' || event.state === 'shutdown') this.forget(managed);
    });
    try {
      await kernel.start();
    } catch (error) {
      this.forget(managed);
      throw error;
    }
    // Listed once ready: until then callers wait on `starting`, so nobody operates a half-started kernel.
    if (kernel.executionState !== 'dead') this.managed.set(kernel.id, managed);
    return managed;
  }

  private async operate(managed: ManagedKernel, actor: string, operation: () => Promise<void>): Promise<void> {
    managed.journal.operator = actor;
    await operation();
  }

  private async cull(managed: ManagedKernel): Promise<void> {
    managed.journal.recordLifecycle({ state: 'culled', kernel_name: managed.kernel.name, reason: `idle for ${this.options.cullIdleMs} ms` }, 'palimpsest:culler');
    await this.shutdown(managed, 'palimpsest:culler').catch(this.onError);
  }

  private forget(managed: ManagedKernel): void {
    this.managed.delete(managed.kernel.id);
    managed.progress.close();
    // The journal keeps listening until the process is gone: the last lifecycle event is still on its way.
    setImmediate(() => managed.journal.close());
  }
}
