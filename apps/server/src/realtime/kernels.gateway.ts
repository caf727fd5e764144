import type { OnModuleDestroy } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import { NotebookAccess, TokenService, type Principal } from '@palimpsest/auth';
import { MessageBus } from '@palimpsest/bus';
import { DomainError, kernelStream, type BusTopics, type KernelMessageEventData } from '@palimpsest/contracts';
import { EventStore, type Subscription } from '@palimpsest/event-store';
import { KernelGateway, rawMessageOf, type ManagedKernel } from '@palimpsest/kernels';
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

/** A kernel that runs on another node, followed here through its events in the shared log. */
interface FollowedKernel {
  tail: Subscription;
  sockets: number;
}

/**
 * Socket.IO `/kernels`: the raw message stream of a kernel, filtered by channel and msg_type, and
 * its execution state on `status` whatever the filters say. Messages come from the bus as they pass
 * (the live tap); the durable, resumable view of the same messages is `/events`. A kernel running on
 * another node is followed through its events as they are committed to the shared log.
 * `execute` queues a cell or scratch code like the REST endpoints, without an HTTP round trip per request.
 */
@WebSocketGateway({ namespace: '/kernels', cors: { origin: true } })
export class KernelsGateway implements OnGatewayInit, OnGatewayDisconnect, OnModuleDestroy {
  private readonly subscribers = new Map<string, Set<KernelSubscription>>();
  private readonly followed = new Map<string, FollowedKernel>();
  private readonly offBus: Array<() => void>;
  private namespace: Namespace | null = null;

  constructor(
    private readonly kernels: KernelGateway,
    private readonly access: NotebookAccess,
    private readonly tokens: TokenService,
    private readonly executions: ExecutionRequests,
    private readonly store: EventStore,
    bus: MessageBus,
  ) {
    this.offBus = [bus.subscribe('kernel.message', (payload) => this.relay(payload)), bus.subscribe('kernel.status', (payload) => this.status(payload))];
  }

  afterInit(namespace: Namespace): void {
    this.namespace = namespace;
    namespace.use(
      socketAuthMiddleware(this.tokens, (socket, principal) => {
        (socket.data as KernelsSocketData).principal = principal;
        (socket.data as KernelsSocketData).subscriptions = new Map();
      }),
    );
  }

  /** Subscribes to a running kernel, on this node or another (read right on its notebook, or its starter for a standalone one); acks, then sends its status. */
  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): Promise<void> {
    const data = socket.data as KernelsSocketData;
    try {
      const { kernelId, channels, msgTypes } = parseSubscribe(body);
      const here = this.kernels.running(kernelId);
      const { executionState, disconnect } = here ? this.attach(data.principal, here) : await this.follow(data.principal, kernelId);
      if (!socket.connected) return disconnect();
      this.remove(data, kernelId);
      const subscription: KernelSubscription = { socket, channels, msgTypes, disconnect };
      data.subscriptions.set(kernelId, subscription);
      let set = this.subscribers.get(kernelId);
      if (!set) this.subscribers.set(kernelId, (set = new Set()));
      set.add(subscription);
      ack({ ok: true, execution_state: executionState });
      socket.emit('status', { kernel_id: kernelId, execution_state: executionState });
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
    for (const { tail } of this.followed.values()) tail.close();
    this.followed.clear();
  }

  // A kernel of this node: its messages come from the bus as they pass; it counts the subscriber as a connection.
  private attach(principal: Principal, managed: ManagedKernel): { executionState: string; disconnect: () => void } {
    authorizeKernel(this.access, principal, managed, 'read');
    return { executionState: managed.kernel.executionState, disconnect: this.kernels.connect(managed) };
  }

  // A kernel on another node: found through the log and the node that runs it, then followed in the log.
  private async follow(principal: Principal, kernelId: string): Promise<{ executionState: string; disconnect: () => void }> {
    const ownership = await this.kernels.kernelOwnership(kernelId);
    if (!ownership) throw new DomainError('NOT_FOUND', `no running kernel ${kernelId}`);
    authorizeKernel(this.access, principal, ownership, 'read');
    const running = await this.kernels.kernelModel(kernelId);
    const after = await this.store.headPosition();
    // From here on nothing awaits: concurrent subscribers share one tail.
    let followed = this.followed.get(kernelId);
    if (!followed) {
      const { notebookId } = ownership;
      const tail = this.store.subscribe(
        { stream: kernelStream(kernelId), types: ['kernel.message'], after },
        {
          onEvents: (events) => {
            for (const event of events) if (event.payload.encoding === 'json') this.relay({ kernel_id: kernelId, notebook_id: notebookId, data: event.payload.json as KernelMessageEventData });
          },
        },
      );
      this.followed.set(kernelId, (followed = { tail, sockets: 0 }));
    }
    followed.sockets += 1;
    let attached = true;
    return {
      executionState: running.execution_state,
      disconnect: () => {
        if (!attached) return;
        attached = false;
        if (--followed.sockets > 0) return;
        followed.tail.close();
        this.followed.delete(kernelId);
      },
    };
  }

  private relay({ kernel_id, data }: BusTopics['kernel.message']): void {
    const set = this.subscribers.get(kernel_id);
    // Like Jupyter's kernel websocket, subscribers get what the kernel sends; requests are in /events and the threaded view.
    if (!set || data.direction !== 'from_kernel') return;
    const recipients: string[] = [];
    for (const { socket, channels, msgTypes } of set) {
      if (channels && !channels.has(data.channel)) continue;
      if (msgTypes && !msgTypes.has(data.msg_type)) continue;
      recipients.push(socket.id);
    }
    // One broadcast to the recipients' own rooms: the packet is encoded once however many subscribe, and
    // `local` keeps it off the Redis adapter (other nodes' subscribers get the message from their own relay).
    if (recipients.length > 0) this.namespace?.local.to(recipients).emit('message', rawMessageOf(data));
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
