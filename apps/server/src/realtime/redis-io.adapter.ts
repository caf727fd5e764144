import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';

/** Socket.IO on the Redis adapter, so rooms and broadcasts span every server process (REDIS_URL). */
export class RedisIoAdapter extends IoAdapter {
  private readonly clients: Redis[] = [];
  private adapter!: ReturnType<typeof createAdapter>;

  constructor(
    app: INestApplicationContext,
    private readonly url: string,
    /** The adapter's channel prefix (`socket.io` in the adapter's default). */
    private readonly key: string,
  ) {
    super(app);
  }

  /** Connects the publish and subscribe clients the adapter needs. */
  async connect(): Promise<void> {
    const publisher = new Redis(this.url, { lazyConnect: true });
    const subscriber = publisher.duplicate();
    this.clients.push(publisher, subscriber);
    await Promise.all(this.clients.map((client) => client.connect()));
    this.adapter = createAdapter(publisher, subscriber, { key: this.key });
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, options);
    server.adapter(this.adapter);
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.allSettled(this.clients.splice(0).map((client) => client.quit()));
  }
}
