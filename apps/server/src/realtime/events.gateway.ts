import { Logger } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import { authorize, NotebookAccess, TokenService, type Principal } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { EventStore, toApiEvent, type Subscription } from '@palimpsest/event-store';
import type { Namespace, Socket } from 'socket.io';
import { parseSubscribe } from '../api/events-query.js';
import { socketAuthMiddleware, type Ack as AckBody, ackError } from './socket-auth.js';

interface EventsSocketData {
  principal: Principal;
  subscriptions: Map<string, Subscription>;
}

/** Socket.IO `/events`: subscribe to a notebook's log from a position, then live, with no gap. */
@WebSocketGateway({ namespace: '/events', cors: { origin: true } })
export class EventsGateway implements OnGatewayInit, OnGatewayDisconnect {
  private readonly logger = new Logger(EventsGateway.name);

  constructor(
    private readonly store: EventStore,
    private readonly access: NotebookAccess,
    private readonly tokens: TokenService,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use(socketAuthMiddleware(this.tokens, (socket, principal) => {
      (socket.data as EventsSocketData).principal = principal;
      (socket.data as EventsSocketData).subscriptions = new Map();
    }));
  }

  /** Acks, then emits every stored event after `after` followed by live ones, in order. */
  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): void {
    const data = socket.data as EventsSocketData;
    try {
      const { notebookId, after, types } = parseSubscribe(body);
      authorize(this.access, data.principal, notebookId, 'read');
      data.subscriptions.get(notebookId)?.close();
      ack({ ok: true });
      const subscription = this.store.subscribe(
        { notebookId, after, types },
        {
          onEvents: (events) => {
            for (const event of events) socket.emit('event', toApiEvent(event));
          },
          onError: (error) => {
            this.logger.error(`subscription of ${socket.id} to ${notebookId} failed: ${error.message}`);
            socket.emit('subscription_error', { notebook_id: notebookId, error: 'INTERNAL', message: 'the subscription stopped; subscribe again from your last position' });
          },
        },
      );
      data.subscriptions.set(notebookId, subscription);
    } catch (error) {
      ack(ackError(error));
    }
  }

  /** Stops the socket's subscription to a notebook. */
  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): void {
    const data = socket.data as EventsSocketData;
    const notebookId = (body as { notebook_id?: unknown } | null)?.notebook_id;
    if (typeof notebookId !== 'string') return ack(ackError(new DomainError('BAD_REQUEST', 'notebook_id must be a string')));
    data.subscriptions.get(notebookId)?.close();
    data.subscriptions.delete(notebookId);
    ack({ ok: true });
  }

  handleDisconnect(socket: Socket): void {
    const data = socket.data as Partial<EventsSocketData>;
    for (const subscription of data.subscriptions?.values() ?? []) subscription.close();
    data.subscriptions?.clear();
  }
}
