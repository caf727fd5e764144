import type { OnModuleDestroy } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import { NotebookAccess, TokenService, type Principal } from '@palimpsest/auth';
import { MessageBus } from '@palimpsest/bus';
import { DomainError, type BusTopics } from '@palimpsest/contracts';
import { KernelGateway, rawMessageOf } from '@palimpsest/kernels';
import type { Namespace, Socket } from 'socket.io';
import { ExecutionRequests, MAX_CODE_LENGTH } from '../api/execution-requests.js';
import { authorizeKernel } from '../api/kernels.access.js';
import { socketAuthMiddleware, type Ack as AckBody, ackError } from './socket-auth.js';

/** One socket's subscription to one kernel, with its filters (null: everything). */
interface KernelSubscription {
  socket: Socket;
  channels: ReadonlySet<string> | null;
  msgTypes: ReadonlySet<string> | null;
  disconnect: () => void;
}

interface KernelsSocketData {
  principal: Principal;
  subscriptions: Map<string, KernelSubscription>;
}

/** The filters of a `subscribe` body. */
function parseSubscribe(body: unknown): { kernelId: string; channels: Set<string> | null; msgTypes: Set<string> | null } {
  const raw = (body ?? {}) as { kernel_id?: unknown; channels?: unknown; msg_types?: unknown };
  if (typeof raw.kernel_id !== 'string' || raw.kernel_id === '') throw new DomainError('BAD_REQUEST', 'kernel_id must be a string');
  const list = (value: unknown, name: string): Set<string> | null => {
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new DomainError('BAD_REQUEST', `${name} must be an array of strings`);
    return new Set(value);
  };
  return { kernelId: raw.kernel_id, channels: list(raw.channels, 'channels'), msgTypes: list(raw.msg_types, 'msg_types') };
}

/** What an `execute` body asks for: one of a notebook's code cells, or scratch code in the notebook's kernel. */
type ExecuteRequest = { notebookId: string; cellId: string } | { notebookId: string; code: string };

/** Checks an `execute` body: `{notebook_id, cell_id}` or `{notebook_id, code}`, exactly one of the two. */
function parseExecute(body: unknown): ExecuteRequest {
  const raw = (body ?? {}) as { notebook_id?: unknown; cell_id?: unknown; code?: unknown };
  if (typeof raw.notebook_id !== 'string' || raw.notebook_id === '') throw new DomainError('BAD_REQUEST', 'notebook_id must be a string');
  if ((raw.cell_id === undefined) === (raw.code === undefined)) throw new DomainError('BAD_REQUEST', 'give exactly one of cell_id and code');
  if (raw.cell_id !== undefined) {
    if (typeof raw.cell_id !== 'string' || raw.cell_id === '') throw new DomainError('BAD_REQUEST', 'cell_id must be a string');
    return { notebookId: raw.notebook_id, cellId: raw.cell_id };
  }
  if (typeof raw.code !== 'string') throw new DomainError('BAD_REQUEST', 'code must be a string');
  if (raw.code.length > MAX_CODE_LENGTH) throw new DomainError('PAYLOAD_TOO_LARGE', `code may have at most ${MAX_CODE_LENGTH} characters`);
  return { notebookId: raw.notebook_id, code: raw.code };
}

/**
 * Socket.IO `/kernels`: the raw message stream of a kernel, filtered by channel and msg_type, and
 * its execution state on `status` whatever the filters say. Messages come from the bus as they pass
 * (the live tap); the durable, resumable view of the same messages is `/events`. `execute` queues a
 * cell or scratch code like the REST endpoints, without an HTTP round trip per request.
 */
@WebSocketGateway({ namespace: '/kernels', cors: { origin: true } })
export class KernelsGateway implements OnGatewayInit, OnGatewayDisconnect, OnModuleDestroy {
  private readonly subscribers = new Map<string, Set<KernelSubscription>>();
  private readonly offBus: Array<() => void>;

  constructor(
    private readonly kernels: KernelGateway,
    private readonly access: NotebookAccess,
    private readonly tokens: TokenService,
    private readonly executions: ExecutionRequests,
    bus: MessageBus,
  ) {
    this.offBus = [bus.subscribe('kernel.message', (payload) => this.relay(payload)), bus.subscribe('kernel.status', (payload) => this.status(payload))];
  }

  afterInit(namespace: Namespace): void {
    namespace.use(
      socketAuthMiddleware(this.tokens, (socket, principal) => {
        (socket.data as KernelsSocketData).principal = principal;
        (socket.data as KernelsSocketData).subscriptions = new Map();
      }),
    );
  }

  /** Subscribes to a running kernel (read right on its notebook, or its starter for a standalone one); acks, then sends its status. */
  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): void {
    const data = socket.data as KernelsSocketData;
    try {
      const { kernelId, channels, msgTypes } = parseSubscribe(body);
      const managed = this.kernels.get(kernelId);
      authorizeKernel(this.access, data.principal, managed, 'read');
      this.remove(data, kernelId);
      const subscription: KernelSubscription = { socket, channels, msgTypes, disconnect: this.kernels.connect(managed) };
      data.subscriptions.set(kernelId, subscription);
      let set = this.subscribers.get(kernelId);
      if (!set) this.subscribers.set(kernelId, (set = new Set()));
      set.add(subscription);
      ack({ ok: true, execution_state: managed.kernel.executionState });
      socket.emit('status', { kernel_id: kernelId, execution_state: managed.kernel.executionState });
    } catch (error) {
      ack(ackError(error));
    }
  }

  /** Queues a code cell or scratch code (execute right on the notebook); acks `{ok, execution_id}` once it is queued. */
  @SubscribeMessage('execute')
  async execute(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): Promise<void> {
    const { principal } = socket.data as KernelsSocketData;
    try {
      const request = parseExecute(body);
      const executionId =
        'cellId' in request
          ? await this.executions.executeCell(principal, request.notebookId, request.cellId)
          : await this.executions.executeCode(principal, request.notebookId, request.code);
      ack({ ok: true, execution_id: executionId });
    } catch (error) {
      ack(ackError(error));
    }
  }

  /** Stops the socket's subscription to a kernel. */
  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): void {
    const kernelId = (body as { kernel_id?: unknown } | null)?.kernel_id;
    if (typeof kernelId !== 'string') return ack(ackError(new DomainError('BAD_REQUEST', 'kernel_id must be a string')));
    this.remove(socket.data as KernelsSocketData, kernelId);
    ack({ ok: true });
  }

  handleDisconnect(socket: Socket): void {
    const data = socket.data as Partial<KernelsSocketData>;
    for (const kernelId of [...(data.subscriptions?.keys() ?? [])]) this.remove(data as KernelsSocketData, kernelId);
  }

  onModuleDestroy(): void {
    for (const off of this.offBus) off();
  }

  private relay({ kernel_id, data }: BusTopics['kernel.message']): void {
    const set = this.subscribers.get(kernel_id);
    // Like Jupyter's kernel websocket, subscribers get what the kernel sends; requests are in /events and the threaded view.
    if (!set || data.direction !== 'from_kernel') return;
    const message = rawMessageOf(data);
    for (const { socket, channels, msgTypes } of set) {
      if (channels && !channels.has(data.channel)) continue;
      if (msgTypes && !msgTypes.has(data.msg_type)) continue;
      socket.emit('message', message);
    }
  }

  private status({ kernel_id, execution_state }: BusTopics['kernel.status']): void {
    for (const { socket } of this.subscribers.get(kernel_id) ?? []) socket.emit('status', { kernel_id, execution_state });
  }

  private remove(data: KernelsSocketData, kernelId: string): void {
    const subscription = data.subscriptions.get(kernelId);
    if (!subscription) return;
    subscription.disconnect();
    data.subscriptions.delete(kernelId);
    const set = this.subscribers.get(kernelId);
    set?.delete(subscription);
    if (set?.size === 0) this.subscribers.delete(kernelId);
  }
}
