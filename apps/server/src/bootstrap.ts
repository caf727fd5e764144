import { Logger as NestLogger, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DomainError } from '@palimpsest/contracts';
import type { NextFunction, Request, Response } from 'express';
import { Logger, LoggerModule } from 'nestjs-pino';
import { fileURLToPath } from 'node:url';
import serveStatic from 'serve-static';
import { AppModule } from './app.module.js';
import { RedisIoAdapter } from './realtime/redis-io.adapter.js';
import { redisKeyPrefix, type ServerConfig } from './config/server.config.js';
import type { CollabConfig } from './realtime/collab.config.js';

/** The web page's files (`apps/server/public`; the build copies them beside the compiled code). */
const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/**
 * The page's files sit at the top level (`/`, `/app.js`, `/style.css`). Only such paths (`/` or a
 * top-level name with an extension) are looked up in PUBLIC_DIR: the lookup is an asynchronous `stat` on
 * libuv's thread pool, a thread hop that would otherwise delay every other GET (`/api/...`, `/health`)
 * by ~0.5 ms on an idle 2-vCPU machine (docs/benchmarks.md).
 */
const PAGE_PATH = /^\/(?:[^/]+\.[a-z0-9]+)?$/i;

/** Serves the web page from PUBLIC_DIR for top-level paths; everything else goes straight to the routes. */
function pageFiles(): (request: Request, response: Response, next: NextFunction) => void {
  const files = serveStatic(PUBLIC_DIR);
  return (request, response, next) => {
    if (PAGE_PATH.test(request.path)) void files(request, response, next);
    else next();
  };
}

/** A started server and how to reach and stop it. */
export interface RunningServer {
  app: INestApplication;
  /** The port actually bound (useful with port 0). */
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Builds, configures and starts the server for a configuration (collaboration settings default to the environment's). */
export async function startServer(config: ServerConfig, collab?: CollabConfig): Promise<RunningServer> {
  const app = await NestFactory.create<NestExpressApplication>(
    { module: class Root {}, imports: [LoggerModule.forRoot({ pinoHttp: { level: config.logLevel, autoLogging: config.logLevel === 'debug' || config.logLevel === 'trace' } }), AppModule.forRoot(config, collab)] },
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  if (config.redisUrl) {
    const adapter = new RedisIoAdapter(app, config.redisUrl, `${redisKeyPrefix(config)}socket.io`);
    await adapter.connect();
    app.useWebSocketAdapter(adapter);
  }
  app.useBodyParser('json', { limit: config.maxBodyBytes });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      exceptionFactory: (errors) =>
        new DomainError('BAD_REQUEST', errors.map((e) => Object.values(e.constraints ?? { invalid: `${e.property} is invalid` }).join(', ')).join('; ')),
    }),
  );
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Palimpsest')
      .setDescription('Event-sourced backend for live, shared Jupyter notebooks. Errors are {"error": "<CODE>", "message": "..."}.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  app.use(pageFiles());
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  new NestLogger('Palimpsest').log(`listening on http://${config.host}:${address.port}`);
  return {
    app,
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    close: () => app.close(),
  };
}
