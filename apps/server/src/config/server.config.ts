import { SQLITE_FILE_NAME } from '@palimpsest/event-store';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

/** The server's configuration, merged over documented defaults and validated at boot. */
export interface ServerConfig {
  /** HTTP, Socket.IO and WebSocket port; 0 picks a free one (tests). Env `PORT`, default 8000. */
  port: number;
  /** Interface to listen on. Env `HOST`, default `0.0.0.0`. */
  host: string;
  /** Where the SQLite log and the generated secret live. Env `DATA_DIR`, default `./data`. */
  dataDir: string;
  /** Shared secret that mints tokens; generated into `dataDir/secret` when unset. Env `PALIMPSEST_SECRET`. */
  secret?: string;
  /** `postgres://...` stores the log in PostgreSQL instead of SQLite. Env `DATABASE_URL`. */
  databaseUrl?: string;
  /** PostgreSQL schema for the log. Env `DATABASE_SCHEMA`, default `public`. */
  databaseSchema: string;
  /** `redis://...` runs the bus and the Socket.IO adapter on Redis. Env `REDIS_URL`. */
  redisUrl?: string;
  /** Lifetime of minted tokens in seconds. Env `TOKEN_TTL_SECONDS`, default 12 h. */
  tokenTtlSeconds: number;
  /** Largest accepted JSON request body in bytes (413 beyond). Env `MAX_BODY_BYTES`, default 16 MiB. */
  maxBodyBytes: number;
  /** Shut down kernels idle this many seconds (nothing running, no message); 0 never culls. Env `KERNEL_CULL_IDLE_SECONDS`, default 0. */
  kernelCullIdleSeconds: number;
  /** Seal every changed stream head (truncation evidence) this many seconds after a commit; 0 seals only every 1,000 events and at shutdown. Env `SEAL_INTERVAL_SECONDS`, default 10. */
  sealIntervalSeconds: number;
  /** Memory (estimated heap MiB) the history documents that serve time travel may hold together; 0 rebuilds every read from checkpoints. Env `HISTORY_MEMORY_MB`, default 256. */
  historyMemoryMb: number;
  /** pino log level. Env `LOG_LEVEL`, default `info`. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** The documented defaults. */
export const DEFAULT_CONFIG: ServerConfig = {
  port: 8000,
  host: '0.0.0.0',
  dataDir: './data',
  databaseSchema: 'public',
  tokenTtlSeconds: 12 * 3600,
  maxBodyBytes: 16 * 1024 * 1024,
  kernelCullIdleSeconds: 0,
  sealIntervalSeconds: 10,
  historyMemoryMb: 256,
  logLevel: 'info',
};

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function integer(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Reads the configuration from the environment over the defaults; throws a clear error on bad values. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const logLevel = env.LOG_LEVEL ?? DEFAULT_CONFIG.logLevel;
  if (!LOG_LEVELS.has(logLevel)) throw new Error(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}`);
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('DATABASE_URL must be a postgres:// URL');
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new Error('REDIS_URL must be a redis:// URL');
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    port: integer('PORT', env.PORT, DEFAULT_CONFIG.port, 0),
    host: env.HOST || DEFAULT_CONFIG.host,
    dataDir: resolve(env.DATA_DIR || DEFAULT_CONFIG.dataDir),
    secret: env.PALIMPSEST_SECRET || undefined,
    databaseUrl,
    databaseSchema: env.DATABASE_SCHEMA || DEFAULT_CONFIG.databaseSchema,
    redisUrl,
    tokenTtlSeconds: integer('TOKEN_TTL_SECONDS', env.TOKEN_TTL_SECONDS, DEFAULT_CONFIG.tokenTtlSeconds, 1),
    maxBodyBytes: integer('MAX_BODY_BYTES', env.MAX_BODY_BYTES, DEFAULT_CONFIG.maxBodyBytes, 1024),
    kernelCullIdleSeconds: integer('KERNEL_CULL_IDLE_SECONDS', env.KERNEL_CULL_IDLE_SECONDS, DEFAULT_CONFIG.kernelCullIdleSeconds, 0),
    sealIntervalSeconds: integer('SEAL_INTERVAL_SECONDS', env.SEAL_INTERVAL_SECONDS, DEFAULT_CONFIG.sealIntervalSeconds, 0),
    historyMemoryMb: integer('HISTORY_MEMORY_MB', env.HISTORY_MEMORY_MB, DEFAULT_CONFIG.historyMemoryMb, 0),
    logLevel: logLevel as ServerConfig['logLevel'],
  };
  return { ...config, ...overrides };
}

/**
 * The prefix of this server's Redis channels (bus, Socket.IO adapter), one per log: the nodes that share a log (a
 * PostgreSQL database and schema) meet, and nothing else on the same Redis does, neither another deployment nor
 * a server on a SQLite file of its own. A node answers every node's kernel listing, so meeting a stranger would
 * mix their kernels into ours.
 */
export function redisKeyPrefix(config: Pick<ServerConfig, 'databaseUrl' | 'databaseSchema' | 'dataDir'>): string {
  const log = config.databaseUrl
    ? `postgres ${decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1))}/${config.databaseSchema}`
    : `sqlite ${join(config.dataDir, SQLITE_FILE_NAME)}`;
  return `palimpsest:${createHash('sha256').update(log).digest('hex').slice(0, 16)}:`;
}
