import { DomainError, kernelStream, notebookStream, type KernelByIdRequest, type KernelCall, type KernelCallTarget, type NotebookKernelRequest } from '@palimpsest/contracts';
import type { MessageBus } from '@palimpsest/bus';
import type { EventStore } from '@palimpsest/event-store';
import { join } from 'node:path';
import { ExecutionProgress } from './execution-progress.js';
import { describeKernel, KernelCallRelay, type KernelCallTimeouts, type KernelTarget } from './kernel-call-relay.js';
import { KernelCuller } from './kernel-culler.js';
import { KernelJournal, type Correlation } from './kernel-journal.js';
import { SingleNodeClaims, type KernelClaims } from './kernel-claims.js';
import { kernelOrigin, recordReapedOrphans, type ReapedKernel } from './kernel-thread.js';
import { KernelRegistry, reapOrphans } from './kernel.registry.js';
import { discoverKernelSpecs, type KernelSpecSearchOptions } from './kernelspec.discovery.js';
import type { KernelSpecsModel } from './kernelspec.types.js';
import { toKernelModel, toListedKernel, toNotebookKernelModel, type KernelModel, type ListedKernel, type ManagedKernel, type NotebookKernelModel } from './managed-kernel.js';
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
  /** Keeps a notebook's kernel on one node when several share the store; this node alone by default. */
  claims?: KernelClaims;
  /** How long a request forwarded to the node that runs a kernel waits for its answer. */
  callTimeouts?: KernelCallTimeouts;
}

/** The execute_request options of a notebook cell, as JupyterLab sends them. */
const CELL_EXECUTE = { storeHistory: true, allowStdin: true, stopOnError: true } as const;

/**
 * Runs Jupyter kernels for notebooks (one per notebook) and standalone ones, records every message
 * and lifecycle change in `kernel:<id>` and publishes execution progress on the bus, where the
 * notebook picks it up. Transports (REST, Socket.IO) call it; it knows nothing of notebooks' content.
 * Any kernel can be used from any node: requests for one that runs on another node (a notebook's, or one
 * named by its id) are forwarded to it over the bus.
 */
export class KernelGateway {
  private readonly registry: KernelRegistry;
  private readonly managed = new Map<string, ManagedKernel>();
  private readonly starting = new Map<string, Promise<ManagedKernel>>();
  private readonly culler: KernelCuller | null;
  private readonly onError: (error: unknown) => void;
  private readonly claims: KernelClaims;
  private readonly relay: KernelCallRelay;
  /** Per stopped kernel, its claims being given up: a shutdown answers once another node may start it. */
  private readonly releases = new WeakMap<ManagedKernel, Promise<void>>();

  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
    private readonly options: KernelGatewayOptions,
  ) {
    this.registry = new KernelRegistry({ stateDir: options.stateDir, runtimeDir: join(options.stateDir, 'runtime') });
    this.onError = options.onError ?? (() => undefined);
    this.claims = options.claims ?? new SingleNodeClaims();
    this.relay = new KernelCallRelay(bus, (call) => this.serve(call), options.callTimeouts);
    this.culler = options.cullIdleMs ? new KernelCuller(options.cullIdleMs, () => this.list(), (managed) => this.cull(managed)) : null;
  }

  /** Kills the kernels a previous server process left running and records their end in their streams. */
  reapOrphans(): Promise<ReapedKernel[]> {
    return recordReapedOrphans(this.store, reapOrphans(this.options.stateDir));
  }

  /** The installed kernelspecs in Jupyter Server's shape. */
  kernelspecs(): KernelSpecsModel {
    return discoverKernelSpecs(this.options.specSearch);
  }

  /** Every running kernel of this node. */
  list(): ManagedKernel[] {
    return [...this.managed.values()];
  }

  /** The running kernel of this node with this id, if any. */
  running(kernelId: string): ManagedKernel | undefined {
    return this.managed.get(kernelId);
  }

  /** Every running kernel on every node, with whose each is; UNAVAILABLE when a node that got the question does not answer. */
  async listEverywhere(): Promise<ListedKernel[]> {
    const here = this.list().map(toListedKernel);
    if (!this.relay.reachesOtherNodes) return here;
    const elsewhere = (await this.relay.callEveryNode('', { every_node: true, request: { op: 'list' } })) as ListedKernel[][];
    return [...here, ...elsewhere.flat()];
  }

  /** The notebook's kernel, wherever it runs; NOT_FOUND when it runs nowhere. */
  async notebookKernel(notebookId: string): Promise<NotebookKernelModel> {
    return (await this.onNotebookKernel(notebookId, '', { op: 'describe' }, () => Promise.reject(noKernel(notebookId)))) as NotebookKernelModel;
  }

  /** A kernel's Jupyter Server model, wherever it runs; NOT_FOUND when it runs nowhere. */
  async kernelModel(kernelId: string): Promise<KernelModel> {
    return (await this.onKernel(kernelId, '', { op: 'model' })) as KernelModel;
  }

  /** Interrupts, restarts or shuts down a kernel named by its id, wherever it runs; NOT_FOUND when it runs nowhere. */
  async operateKernel(kernelId: string, actor: string, op: 'interrupt' | 'restart' | 'shutdown'): Promise<void> {
    await this.onKernel(kernelId, actor, { op });
  }

  /** Whose a kernel is (its notebook, or the user who started it), read from this node or the log; null for an unknown id. */
  async kernelOwnership(kernelId: string): Promise<{ notebookId: string | null; owner: string } | null> {
    const here = this.running(kernelId);
    if (here) return here;
    const origin = await kernelOrigin(this.store, kernelId);
    return origin && { notebookId: origin.notebookId, owner: origin.startedBy };
  }

  /** Starts the notebook's kernel here (the default kernelspec when no name is given) unless it runs, here or elsewhere; `started` says which. */
  async startNotebookKernel(notebookId: string, actor: string, name?: string): Promise<{ kernel: NotebookKernelModel; started: boolean }> {
    let started = false;
    const kernel = await this.onNotebookKernel(notebookId, actor, { op: 'describe' }, async () => {
      const local = await this.startHere(notebookId, actor, name);
      started = local.started;
      return toNotebookKernelModel(local.managed);
    });
    return { kernel: kernel as NotebookKernelModel, started };
  }

  /** Interrupts, restarts or shuts down the notebook's kernel, wherever it runs; NOT_FOUND when it runs nowhere. */
  async operateNotebookKernel(notebookId: string, actor: string, op: 'interrupt' | 'restart' | 'shutdown'): Promise<void> {
    await this.onNotebookKernel(notebookId, actor, { op }, () => Promise.reject(noKernel(notebookId)));
  }

  /** Answers the pending `input()` of the notebook's kernel, wherever it runs; CONFLICT when none runs or none is pending. */
  async answerNotebookInput(notebookId: string, actor: string, value: string): Promise<void> {
    await this.onNotebookKernel(notebookId, actor, { op: 'input', value }, () =>
      Promise.reject(new DomainError('CONFLICT', `notebook ${notebookId} has no running kernel, so no input is pending`)),
    );
  }

  /** Relays a shell request (complete, inspect, history) to the notebook's kernel, wherever it runs; answers the reply's content. */
  async requestNotebookKernel(notebookId: string, actor: string, msgType: string, content: Record<string, unknown>): Promise<Record<string, unknown>> {
    const request = { op: 'request', msg_type: msgType, content } as const;
    return (await this.onNotebookKernel(notebookId, actor, request, () => Promise.reject(noKernel(notebookId)))) as Record<string, unknown>;
  }

  /** Queues a cell's code on the notebook's kernel, wherever it runs (started here when it runs nowhere); resolves with the execution id. */
  executeCell(notebookId: string, cellId: string, code: string, actor: string): Promise<string> {
    return this.execute(notebookId, actor, { op: 'execute_cell', cell_id: cellId, code });
  }

  /** Queues scratch code (outside any cell) on the notebook's kernel, wherever it runs (started here when it runs nowhere). */
  executeCode(notebookId: string, code: string, actor: string): Promise<string> {
    return this.execute(notebookId, actor, { op: 'execute_code', code });
  }

  /** Starts a kernel that belongs to no notebook (Jupyter Server's `POST /api/kernels`). */
  startStandalone(actor: string, name?: string): Promise<ManagedKernel> {
    return this.launch(null, actor, name);
  }

  /** Interrupts what the kernel runs. */
  interrupt(managed: ManagedKernel, actor: string): Promise<void> {
    return this.operate(managed, actor, () => managed.kernel.interrupt());
  }

  /** Restarts the kernel (a new process; queued executions are aborted, outputs stay). */
  restart(managed: ManagedKernel, actor: string): Promise<void> {
    return this.operate(managed, actor, () => managed.kernel.restart());
  }

  /** Shuts the kernel down; resolves once its claims are given up, so that any node may start the notebook's kernel again. */
  async shutdown(managed: ManagedKernel, actor: string): Promise<void> {
    await this.operate(managed, actor, () => managed.kernel.shutdown());
    await this.releases.get(managed);
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

  /** Shuts every kernel down (server shutdown), stops culling and answering other nodes, and gives up this node's claims. */
  async shutdownAll(): Promise<void> {
    this.culler?.stop();
    this.relay.close();
    await this.registry.shutdownAll();
    await Promise.all(this.list().map((managed) => managed.journal.flushed()));
    await this.claims.close();
  }

  // The notebook's kernel on this node, or being started here.
  private ofNotebook(notebookId: string): Promise<ManagedKernel> | undefined {
    const running = this.list().find((managed) => managed.notebookId === notebookId);
    return running ? Promise.resolve(running) : this.starting.get(notebookId);
  }

  // A request for a notebook's kernel: run here when it runs here, forwarded when it runs on another node, else `otherwise`.
  private onNotebookKernel(notebookId: string, actor: string, request: NotebookKernelRequest, otherwise: () => Promise<unknown>): Promise<unknown> {
    return this.route({ notebook_id: notebookId, request }, actor, otherwise);
  }

  // A request for a kernel named by its id, as onNotebookKernel; NOT_FOUND when it runs nowhere.
  private onKernel(kernelId: string, actor: string, request: KernelByIdRequest): Promise<unknown> {
    return this.route({ kernel_id: kernelId, request }, actor, () => Promise.reject(new DomainError('NOT_FOUND', `no running kernel ${kernelId}`)));
  }

  // Runs a request where its kernel runs: here, on the node that claims it (over the bus), else `otherwise`.
  private async route(target: KernelCallTarget, actor: string, otherwise: () => Promise<unknown>): Promise<unknown> {
    const here = this.local(target);
    if (here) return this.run(await here, actor, target.request);
    const subject = 'notebook_id' in target ? notebookStream(target.notebook_id) : kernelStream(target.kernel_id);
    if (!(await this.claims.heldElsewhere(subject))) return otherwise();
    if (!this.relay.reachesOtherNodes) throw runsElsewhere(target, 'which this node cannot reach without a bus across nodes (REDIS_URL)');
    try {
      return await this.relay.call(actor, target);
    } catch (error) {
      // No answer, and the claim is gone: its node died meanwhile.
      if (error instanceof DomainError && error.code === 'UNAVAILABLE' && !(await this.claims.heldElsewhere(subject))) return otherwise();
      throw error;
    }
  }

  // The kernel a call names, when it runs (or, a notebook's, is starting) on this node.
  private local(target: KernelCallTarget): Promise<ManagedKernel> | undefined {
    if ('notebook_id' in target) return this.ofNotebook(target.notebook_id);
    const running = this.running(target.kernel_id);
    return running && Promise.resolve(running);
  }

  // A call from another node: answered when its kernel runs here (by every node, a listing).
  private serve(call: KernelCall): Promise<unknown> | null {
    if ('every_node' in call) return Promise.resolve(this.list().map(toListedKernel));
    const here = this.local(call);
    return here ? here.then((managed) => this.run(managed, call.actor, call.request)) : null;
  }

  // What a request does to a kernel of this node, for a caller here or on another node.
  private async run(managed: ManagedKernel, actor: string, request: NotebookKernelRequest | KernelByIdRequest): Promise<unknown> {
    switch (request.op) {
      case 'describe':
        return toNotebookKernelModel(managed);
      case 'model':
        return toKernelModel(managed);
      case 'execute_cell':
      case 'execute_code':
        return this.queue(managed, request.op === 'execute_cell' ? request.cell_id : null, request.code, actor);
      case 'interrupt':
      case 'restart':
      case 'shutdown':
        return this[request.op](managed, actor);
      case 'input':
        return this.answerInput(managed, request.value, actor);
      case 'request':
        return this.request(managed, request.msg_type, request.content, actor);
    }
  }

  private async execute(notebookId: string, actor: string, request: NotebookKernelRequest): Promise<string> {
    const startHereAndQueue = async () => this.run((await this.startHere(notebookId, actor)).managed, actor, request);
    return (await this.onNotebookKernel(notebookId, actor, request, startHereAndQueue)) as string;
  }

  // Starts the notebook's kernel on this node unless one runs or is starting here; `started` says which.
  private async startHere(notebookId: string, actor: string, name?: string): Promise<{ managed: ManagedKernel; started: boolean }> {
    const running = this.ofNotebook(notebookId);
    if (running) return { managed: await running, started: false };
    const starting = this.launch(notebookId, actor, name);
    this.starting.set(notebookId, starting);
    try {
      return { managed: await starting, started: true };
    } finally {
      if (this.starting.get(notebookId) === starting) this.starting.delete(notebookId);
    }
  }

  // Queues code on a kernel: a cell's (its outputs land in the cell) or scratch code (cellId null).
  private queue(managed: ManagedKernel, cellId: string | null, code: string, actor: string): string {
    if (cellId === null) {
      const execution = managed.kernel.execute(code, { storeHistory: false });
      managed.journal.correlate(execution.msgId, { actor, cellId: null, executionId: execution.msgId });
      void execution.done.then(() => managed.journal.forget(execution.msgId));
      return execution.msgId;
    }
    // The request is sent a microtask after queueing: attributed here first, it is logged as the actor's.
    const execution = managed.kernel.execute(code, { ...CELL_EXECUTE, metadata: { cellId } });
    managed.journal.correlate(execution.msgId, { actor, cellId, executionId: execution.msgId });
    managed.progress.track(execution, managed.notebookId!, cellId, () => managed.journal.forget(execution.msgId));
    return execution.msgId;
  }

  private async launch(notebookId: string | null, actor: string, name?: string): Promise<ManagedKernel> {
    const specs = this.kernelspecs();
    const specName = name ?? specs.default;
    const model = specName ? specs.kernelspecs[specName] : undefined;
    if (!specName || !model) {
      const known = Object.keys(specs.kernelspecs).join(', ') || 'none';
      throw new DomainError('UNPROCESSABLE', `no kernelspec named ${JSON.stringify(specName ?? '')} (installed: ${known})`);
    }
    if (notebookId && !(await this.claims.claim(notebookStream(notebookId)))) throw runsElsewhere({ notebook_id: notebookId }, 'since a moment ago: try again');
    const kernel = this.registry.create({ name: specName, spec: model.spec, startupTimeoutMs: this.options.startupTimeoutMs });
    const journal = new KernelJournal(kernel, notebookId, this.store, this.bus, actor, (error) => this.onError(failure('a kernel event was not recorded', error)));
    const managed: ManagedKernel = { kernel, notebookId, owner: actor, journal, progress: new ExecutionProgress(kernel, this.bus), connections: 0 };
    kernel.onLifecycle((event) => {
      if (event.state === 'died' || event.state === 'shutdown') void this.forget(managed);
    });
    try {
      // Every kernel is claimed by its id too, so that other nodes can tell it runs and forward to it.
      await this.claims.claim(kernelStream(kernel.id));
      await kernel.start();
    } catch (error) {
      await this.forget(managed);
      throw error;
    }
    // Listed once ready: until then callers wait on `starting`, so nobody operates a half-started kernel.
    if (kernel.executionState !== 'dead') this.managed.set(kernel.id, managed);
    // Its start in the log is where every node looks up whose a kernel is: once started, its id works on any node.
    await journal.flushed();
    return managed;
  }

  private async operate(managed: ManagedKernel, actor: string, operation: () => Promise<void>): Promise<void> {
    managed.journal.operator = actor;
    await operation();
  }

  private async cull(managed: ManagedKernel): Promise<void> {
    managed.journal.recordLifecycle({ state: 'culled', kernel_name: managed.kernel.name, reason: `idle for ${this.options.cullIdleMs} ms` }, 'palimpsest:culler');
    await this.shutdown(managed, 'palimpsest:culler').catch((error: unknown) => this.onError(failure(`culled kernel ${managed.kernel.id} did not shut down`, error)));
  }

  // Drops a kernel that stopped; resolves once its claims are given up (a failure to is reported, not thrown).
  private forget(managed: ManagedKernel): Promise<void> {
    this.managed.delete(managed.kernel.id);
    managed.progress.close();
    const subjects = [kernelStream(managed.kernel.id), ...(managed.notebookId ? [notebookStream(managed.notebookId)] : [])];
    const released = Promise.all(
      subjects.map((subject) => this.claims.release(subject).catch((error: unknown) => this.onError(failure(`the claim on ${subject} was not given up`, error)))),
    ).then(() => undefined);
    this.releases.set(managed, released);
    // The journal keeps listening until the process is gone: the last lifecycle event is still on its way.
    setImmediate(() => managed.journal.close());
    return released;
  }
}

function noKernel(notebookId: string): DomainError {
  return new DomainError('NOT_FOUND', `notebook ${notebookId} has no running kernel`);
}

function runsElsewhere(target: KernelTarget, detail: string): DomainError {
  return new DomainError('CONFLICT', `${describeKernel(target)} runs on another node, ${detail}`);
}

function failure(what: string, cause: unknown): Error {
  return new Error(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
