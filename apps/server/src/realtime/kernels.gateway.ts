import type { OnModuleDestroy } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import { NotebookAccess, TokenService, type Principal } from '@palimpsest/auth';
import { MessageBus } from '@palimpsest/bus';
import { DomainError, type BusTopics } from '@palimpsest/contracts';
import { KernelGateway, rawMessageOf } from '@palimpsest/kernels';
import type { Namespace, Socket } from 'socket.io';
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

/**
 * Socket.IO `/kernels`: the raw message stream of a kernel, filtered by channel and msg_type, and
 * its execution state on `status` whatever the filters say. Messages come from the bus as they pass
 * (the live tap); the durable, resumable view of the same messages is `/events`.
 */
@WebSocketGateway({ namespace: '/kernels', cors: { origin: true } })
export class KernelsGateway implements OnGatewayInit, OnGatewayDisconnect, OnModuleDestroy {
  private readonly subscribers = new Map<string, Set<KernelSubscription>>();
  private readonly offBus: Array<() => void>;

  constructor(
    private readonly kernels: KernelGateway,
    private readonly access: NotebookAccess,
    private readonly tokens: TokenService,
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
