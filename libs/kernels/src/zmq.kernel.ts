import type { KernelLifecycleEventData } from '@palimpsest/contracts';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateConnection, endpoint, removeConnectionFile, writeConnectionFile, type ConnectionInfo } from './connection.file.js';
import { ExecutionQueue } from './execution.queue.js';
import { Execution } from './execution.js';
import { HeartbeatMonitor, type HeartbeatOptions } from './heartbeat.monitor.js';
import type { KernelConnection } from './kernel-connection.port.js';
import { KernelNotRunningError, KernelStartupError, NoPendingInputError } from './kernel.errors.js';
import { KernelProcess, type ProcessExit } from './kernel.process.js';
import type { KernelSpec } from './kernelspec.types.js';
import { Listeners } from './listeners.js';
import { createMessage, parentMsgId, type MessageOptions, type MessageOrigin } from './message.factory.js';
import type { Channel, Direction, ExecutionState, JupyterMessage, MessageListener } from './message.types.js';
import { ZmqKernelConnection } from './zmq.connection.js';

/** How to run a kernel; every optional field has a documented default. */
export interface ZmqKernelOptions {
  /** The kernelspec name (`python3`). */
  name: string;
  /** The kernelspec to launch. */
  spec: KernelSpec;
  /** The kernel id; a random UUID by default. */
  id?: string;
  /** Where connection files are written; `<tmpdir>/palimpsest-kernels` by default. */
  runtimeDir?: string;
  /** The kernel's working directory; ours by default. */
  cwd?: string;
  /** Environment added over the spec's `env`. */
  env?: Record<string, string>;
  /** The user name in the headers of the messages we send; `palimpsest` by default. */
  username?: string;
  /** How long a (re)start may take until kernel_info is answered; 60 s by default (jupyter_server's kernel_info_timeout). */
  startupTimeoutMs?: number;
  /** How often kernel_info_request is resent while starting, until the reply and an iopub message arrived; 200 ms. */
  readinessRetryMs?: number;
  /** How long a shutdown waits for the process to exit before SIGKILL; 5 s by default. */
  shutdownGraceMs?: number;
  /** Heartbeat settings, or null for none; by default a ping every 1 s, dead after 5 missed. */
  heartbeat?: HeartbeatOptions | null;
  /** Chooses the ports and key of each launch; free loopback ports and a random key by default. */
  allocateConnection?: (kernelName: string) => Promise<ConnectionInfo>;
}

/** What `execute` sends besides the code; the defaults are a notebook cell's. */
export interface ExecuteOptions {
  silent?: boolean;
  storeHistory?: boolean;
  userExpressions?: Record<string, string>;
  allowStdin?: boolean;
  /** Abort the executions queued behind this one when it fails; true by default. */
  stopOnError?: boolean;
  /** Metadata of the execute_request (for example `{cellId}`). */
  metadata?: Record<string, unknown>;
}

/** An `input()` the kernel is waiting on; kept until answered or until its execution ends. */
export interface PendingInput {
  /** The input_request message (answer with its header as parent). */
  request: JupyterMessage;
  prompt: string;
  password: boolean;
  /** The msg_id of the execute_request that asked. */
  executionId: string | null;
}

/** One launch of the kernel process with its connection; a restart makes a new one. */
interface Session {
  process: KernelProcess;
  info: ConnectionInfo;
  connectionFile: string;
  connection: ZmqKernelConnection;
  heartbeat: HeartbeatMonitor | null;
  /** Set once we stop the process ourselves (or gave it up as dead): its exit is then no surprise. */
  ending: boolean;
  ready: boolean;
  /** Whether shell, control and stdin completed their ZMTP handshake. */
  handshaken: boolean;
  /** The readiness probes (kernel_info_request) sent and not known to be answered, oldest first. */
  probes: Map<string, { replied: boolean; idle: boolean }>;
  sawInfoReply: boolean;
  readinessChanged: (() => void) | null;
}

const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 1000, maxMissed: 5 };

/** How many launches on fresh ports a start or restart makes when the kernel finds a port taken. */
const PORT_ATTEMPTS = 3;

/** What a kernel writes to stderr when a port it was given is taken (pyzmq: `ZMQError: Address already in use`). */
const PORT_TAKEN = /Address already in use|EADDRINUSE/;

/** A kernel process launched from a kernelspec and spoken to over ZeroMQ (messaging protocol 5.3). */
export class ZmqKernel {
  /** The kernel id. */
  readonly id: string;
  /** The kernelspec name. */
  readonly name: string;
  private state: ExecutionState = 'starting';
  private session: Session | null = null;
  private started = false;
  private info: Record<string, unknown> | null = null;
  private input: PendingInput | null = null;
  private rejectedBefore = 0;
  private operations: Promise<unknown> = Promise.resolve();
  private readonly origin: MessageOrigin;
  private readonly messageListeners = new Listeners<[JupyterMessage, Direction]>();
  private readonly lifecycleListeners = new Listeners<[KernelLifecycleEventData]>();
  private readonly statusListeners = new Listeners<[ExecutionState]>();
  private readonly queue = new ExecutionQueue(
    async (execution) => this.connection.handleIncoming(execution.request),
    () => this.executionOf('', { silent: true, storeHistory: false, allowStdin: false }),
  );

  constructor(private readonly options: ZmqKernelOptions) {
    this.id = options.id ?? randomUUID();
    this.name = options.name;
    this.origin = { session: randomUUID(), username: options.username ?? 'palimpsest' };
  }

  /** The kernelspec it runs. */
  get spec(): KernelSpec {
    return this.options.spec;
  }

  /** starting, idle, busy, restarting or dead. */
  get executionState(): ExecutionState {
    return this.state;
  }

  /** The process id (also its process group id) while a process runs. */
  get pid(): number | undefined {
    return this.session?.process.pid;
  }

  /** The connection file of the running process. */
  get connectionFile(): string | undefined {
    return this.session?.connectionFile;
  }

  /** The content of the last kernel_info_reply (language_info, implementation, banner...). */
  get kernelInfo(): Record<string, unknown> | null {
    return this.info;
  }

  /** The `input()` waiting for an answer, if any; it survives client reconnects because it lives here. */
  get pendingInput(): PendingInput | null {
    return this.input;
  }

  /** How many messages from the kernel were dropped for a bad signature, over all (re)starts. */
  get rejectedMessages(): number {
    return this.rejectedBefore + (this.session?.connection.rejectedMessages ?? 0);
  }

  /** The port to the running kernel's channels (raw client messages in, raw frames out); replaced on restart. */
  get connection(): KernelConnection {
    if (!this.session) throw new KernelNotRunningError(this.id);
    return this.session.connection;
  }

  /** The executions not finished yet: the running one first. */
  get executions(): readonly Execution[] {
    return this.queue.current ? [this.queue.current, ...this.queue.queued] : this.queue.queued;
  }

  /** Listens to every message sent to or received from the kernel, in order; returns the unsubscribe function. */
  onMessage(listener: MessageListener): () => void {
    return this.messageListeners.add(listener);
  }

  /** Listens to lifecycle events (started, ready, interrupted, restarted, died, shutdown). */
  onLifecycle(listener: (event: KernelLifecycleEventData) => void): () => void {
    return this.lifecycleListeners.add(listener);
  }

  /** Listens to execution state changes (from iopub status and from the lifecycle). */
  onStatus(listener: (state: ExecutionState) => void): () => void {
    return this.statusListeners.add(listener);
  }

  /** Launches the process and resolves once the kernel answered kernel_info and iopub is connected. */
  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error(`kernel ${this.id} was already started`));
    this.started = true;
    return this.serialize(() => this.launch('start'));
  }

  /** Builds a message, sends it on a channel and returns it. */
  async send(channel: Channel, msgType: string, content: Record<string, unknown>, options: MessageOptions = {}): Promise<JupyterMessage> {
    const message = createMessage(this.origin, channel, msgType, content, options);
    await this.connection.handleIncoming(message);
    return message;
  }

  /** Queues code for execution; the handle's `done` settles when the reply and the matching idle status arrived. */
  execute(code: string, options: ExecuteOptions = {}): Execution {
    if (this.state === 'dead') throw new KernelNotRunningError(this.id);
    const execution = this.executionOf(code, options);
    this.queue.enqueue(execution);
    return execution;
  }

  /** Answers the pending `input()`. */
  async answerInput(value: string): Promise<JupyterMessage> {
    const pending = this.input;
    if (!pending) throw new NoPendingInputError(this.id);
    this.input = null;
    return this.send('stdin', 'input_reply', { value }, { parent: pending.request });
  }

  /** Interrupts the running code: SIGINT to the process group, or interrupt_request on control (interrupt_mode 'message'). */
  async interrupt(): Promise<void> {
    const session = this.session;
    if (!session) throw new KernelNotRunningError(this.id);
    if (this.spec.interrupt_mode === 'message') await this.send('control', 'interrupt_request', {});
    else session.process.signalGroup('SIGINT');
    this.queue.interrupted();
    this.emitLifecycle({ state: 'interrupted' });
  }

  /** Shuts the process down (shutdown_request restart=true) and launches it again on new ports; queued executions are aborted. */
  restart(): Promise<void> {
    return this.serialize(async () => {
      const session = this.session;
      if (!session) throw new KernelNotRunningError(this.id);
      this.stopExecutions('the kernel restarted');
      this.setState('restarting');
      await this.stopSession(session, true);
      await this.launch('restart');
    });
  }

  /** Sends shutdown_request on control, waits for the exit (SIGKILL after the grace period) and removes the connection file. */
  shutdown(): Promise<void> {
    return this.serialize(async () => {
      const session = this.session;
      this.stopExecutions('the kernel was shut down');
      if (!session) {
        this.setState('dead');
        return;
      }
      const exit = await this.stopSession(session, false);
      this.setState('dead');
      this.emitLifecycle({ state: 'shutdown', exit_code: exit.code, signal: exit.signal });
    });
  }

  private executionOf(code: string, options: ExecuteOptions): Execution {
    const content = {
      code,
      silent: options.silent ?? false,
      store_history: options.storeHistory ?? true,
      user_expressions: options.userExpressions ?? {},
      allow_stdin: options.allowStdin ?? true,
      stop_on_error: options.stopOnError ?? true,
    };
    const request = createMessage(this.origin, 'shell', 'execute_request', content, { metadata: options.metadata });
    return new Execution(request, content.stop_on_error);
  }

  // Launches the process, and once it is ready starts the heartbeat and the queue.
  private async launch(kind: 'start' | 'restart'): Promise<void> {
    const session = await this.spawnUntilReady();
    session.ready = true;
    session.heartbeat = this.startHeartbeat(session);
    this.setState('idle');
    this.emitLifecycle({ state: kind === 'start' ? 'ready' : 'restarted' });
    this.queue.resume();
  }

  // The ports are free when chosen but only taken when the kernel binds them, so another process can take one
  // in between: a kernel that exits complaining of an address in use is launched again on fresh ports (as
  // jupyter_client's restarter does), PORT_ATTEMPTS times in all.
  private async spawnUntilReady(): Promise<Session> {
    for (let attempt = 1; ; attempt += 1) {
      const session = await this.spawn();
      // Every process is announced, so the registry records the one that runs and the log shows each launch.
      this.emitLifecycle(attempt === 1 ? { state: 'started' } : { state: 'started', reason: `launched again on fresh ports (attempt ${attempt}): a port was taken` });
      try {
        await session.connection.connect();
        await this.awaitReady(session);
        return session;
      } catch (error) {
        if (session.ending) throw error;
        const exit = await this.stopSession(session, false);
        if (attempt < PORT_ATTEMPTS && PORT_TAKEN.test(session.process.stderrTail)) continue;
        this.reportDeath(exit, (error as Error).message);
        throw error;
      }
    }
  }

  // Starts a process on new ports with a new connection file; it becomes the current session.
  private async spawn(): Promise<Session> {
    const info = await (this.options.allocateConnection ?? allocateConnection)(this.name);
    const connectionFile = writeConnectionFile(this.options.runtimeDir ?? join(tmpdir(), 'palimpsest-kernels'), this.id, info);
    const argv = this.spec.argv.map((arg) => arg.replaceAll('{connection_file}', connectionFile));
    const env = { ...this.spec.env, ...this.options.env, JPY_PARENT_PID: String(process.pid) };
    const connection = new ZmqKernelConnection(
      info,
      this.origin.session,
      (message, direction) => this.dispatch(session, message, direction),
      (error) => this.died(session, { code: null, signal: null }, `channel failure: ${error.message}`),
    );
    const kernelProcess = KernelProcess.spawn({ argv, env, cwd: this.options.cwd });
    const session: Session = {
      process: kernelProcess,
      info,
      connectionFile,
      connection,
      heartbeat: null,
      ending: false,
      ready: false,
      handshaken: false,
      probes: new Map(),
      sawInfoReply: false,
      readinessChanged: null,
    };
    this.session = session;
    // Before it is ready, an exit fails the launch (awaitReady); after, it is a death.
    void session.process.exited.then((exit) => {
      if (session.ready && !session.ending) this.died(session, exit, 'the kernel process exited');
    });
    return session;
  }

  // Ready = shell, control and stdin handshaken (else the kernel drops an early input_request) and a
  // readiness probe answered with its reply and its idle status on iopub (else a lost iopub subscription
  // would lose output). Probes are resent until then; ready waits for all of them, so none is answered
  // after ready: the kernel is idle and quiet when start or restart resolves.
  private awaitReady(session: Session): Promise<void> {
    const timeoutMs = this.options.startupTimeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const nudge = () => {
        if (session.sawInfoReply && session.probes.size === 0) return;
        const probe = createMessage(this.origin, 'shell', 'kernel_info_request', {});
        session.probes.set(probe.header.msg_id, { replied: false, idle: false });
        session.connection.handleIncoming(probe).catch(() => undefined);
      };
      const retry = setInterval(nudge, this.options.readinessRetryMs ?? 200);
      const deadline = setTimeout(() => {
        finish(new KernelStartupError(`kernel ${this.name} did not become ready: ${readiness(session)} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const finish = (error?: Error) => {
        clearInterval(retry);
        clearTimeout(deadline);
        session.readinessChanged = null;
        if (error) reject(error);
        else resolve();
      };
      session.readinessChanged = () => readiness(session) === null && finish();
      void session.connection.handshaken.then(() => {
        session.handshaken = true;
        session.readinessChanged?.();
      });
      // The exit is reported once stderr is read to its end (bounded by the deadline, should a child keep it open).
      void session.process.exited.then(async (exit) => {
        await session.process.stderrClosed;
        finish(new KernelStartupError(startupExitMessage(this.name, exit, session.process.stderrTail)));
      });
      nudge();
    });
  }

  private startHeartbeat(session: Session): HeartbeatMonitor | null {
    const options = this.options.heartbeat === undefined ? DEFAULT_HEARTBEAT : this.options.heartbeat;
    if (!options) return null;
    return new HeartbeatMonitor(endpoint(session.info, session.info.hb_port), options, (missed) => {
      if (session.ending) return;
      session.ending = true;
      session.process.signalGroup('SIGKILL');
      void session.process.exited.then((exit) => this.died(session, exit, `no heartbeat for ${missed} intervals`));
    });
  }

  private dispatch(session: Session, message: JupyterMessage, direction: Direction): void {
    if (session !== this.session) return;
    this.messageListeners.emit(message, direction);
    if (direction === 'from_kernel') this.track(session, message);
  }

  private track(session: Session, message: JupyterMessage): void {
    const type = message.header.msg_type;
    if (message.channel === 'iopub') {
      if (type === 'status') this.trackStatus(session, message);
    } else if (message.channel === 'shell' && type === 'kernel_info_reply') {
      session.sawInfoReply = true;
      this.info = message.content;
    } else if (message.channel === 'stdin' && type === 'input_request') {
      const { prompt, password } = message.content;
      this.input = { request: message, prompt: typeof prompt === 'string' ? prompt : '', password: password === true, executionId: parentMsgId(message) };
    }
    if (!session.ready) trackProbe(session, message);
    this.queue.observe(message);
    session.readinessChanged?.();
  }

  private trackStatus(session: Session, message: JupyterMessage): void {
    const state = message.content.execution_state;
    if (state === 'idle' && this.input && this.input.executionId === parentMsgId(message)) this.input = null;
    if (session.ready && (state === 'idle' || state === 'busy')) this.setState(state);
  }

  private stopExecutions(reason: string): void {
    this.queue.pause();
    this.queue.abortAll(reason);
    this.input = null;
  }

  // Ends a session we stop on purpose: shutdown_request on control, then exit within the grace period or SIGKILL.
  private async stopSession(session: Session, restart: boolean): Promise<ProcessExit> {
    session.ending = true;
    session.heartbeat?.stop();
    if (session.process.running) {
      await session.connection.handleIncoming(createMessage(this.origin, 'control', 'shutdown_request', { restart })).catch(() => undefined);
    }
    const exit = await session.process.terminate(this.options.shutdownGraceMs ?? 5000);
    this.release(session);
    return exit;
  }

  private died(session: Session, exit: ProcessExit, reason: string): void {
    session.ending = true;
    session.heartbeat?.stop();
    session.process.signalGroup('SIGKILL');
    if (this.release(session)) this.reportDeath(exit, reason);
  }

  private reportDeath(exit: ProcessExit, reason: string): void {
    this.stopExecutions(`the kernel died: ${reason}`);
    this.setState('dead');
    this.emitLifecycle({ state: 'died', exit_code: exit.code, signal: exit.signal, reason: exit.error ? exit.error.message : reason });
  }

  // Closes a session's channels and connection file; false when it was no longer the current one.
  private release(session: Session): boolean {
    if (session !== this.session) return false;
    this.session = null;
    this.rejectedBefore += session.connection.rejectedMessages;
    void session.connection.disconnect();
    removeConnectionFile(session.connectionFile);
    return true;
  }

  private setState(state: ExecutionState): void {
    if (state === this.state) return;
    this.state = state;
    this.statusListeners.emit(state);
  }

  private emitLifecycle(event: Omit<KernelLifecycleEventData, 'kernel_name'>): void {
    this.lifecycleListeners.emit({ kernel_name: this.name, ...event });
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.operations.then(operation, operation);
    this.operations = run.catch(() => undefined);
    return run;
  }
}

// What the session still lacks to be ready, or null when it is ready.
function readiness(session: Session): string | null {
  if (!session.sawInfoReply) return 'no kernel_info_reply';
  if (!session.handshaken) return 'no handshake on shell, control and stdin';
  if (session.probes.size > 0) return 'no idle status on iopub for every kernel_info_request';
  return null;
}

// Marks a readiness probe's reply or idle status. A probe with both is done, and so is every earlier one:
// the kernel answers shell requests in order and each channel keeps its order (an early probe's status
// may have been published before our iopub subscription took effect, and is never seen).
function trackProbe(session: Session, message: JupyterMessage): void {
  const id = parentMsgId(message);
  const probe = id === null ? undefined : session.probes.get(id);
  if (!probe) return;
  if (message.channel === 'shell' && message.header.msg_type === 'kernel_info_reply') probe.replied = true;
  if (message.channel === 'iopub' && message.header.msg_type === 'status' && message.content.execution_state === 'idle') probe.idle = true;
  if (!probe.replied || !probe.idle) return;
  for (const earlier of session.probes.keys()) {
    session.probes.delete(earlier);
    if (earlier === id) return;
  }
}

function startupExitMessage(name: string, exit: ProcessExit, stderr: string): string {
  const how = exit.error ? `could not be started (${exit.error.message})` : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const tail = stderr.trim().split('\n').slice(-5).join('\n');
  return `kernel ${name} ${how} before it was ready${tail ? `:\n${tail}` : ''}`;
}
