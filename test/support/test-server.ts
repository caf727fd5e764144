import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startServer, type RunningServer } from '../../apps/server/src/bootstrap.js';
import { configFromEnv, type ServerConfig } from '../../apps/server/src/config/server.config.js';
import { TEST_SECRET } from './test-secret.js';

export { TEST_SECRET };

/** A server started on port 0 over a temp data dir, with helpers for tokens and teardown. */
export interface TestServer extends RunningServer {
  dataDir: string;
  /** Mints a token for a user through the real REST endpoint. */
  token(user: string, scope?: 'read' | 'write'): Promise<string>;
  /** Stops the server and removes its data dir. */
  stop(): Promise<void>;
}

/** Starts a server on port 0 over a fresh temp data dir (SQLite unless `overrides.databaseUrl`). */
export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'palimpsest-e2e-'));
  const config = configFromEnv({}, { port: 0, host: '127.0.0.1', dataDir, secret: TEST_SECRET, logLevel: 'warn', ...overrides });
  const server = await startServer(config);
  return {
    ...server,
    dataDir,
    token: async (user, scope = 'write') => {
      const response = await request(server.url).post('/api/auth/token').send({ secret: TEST_SECRET, user, scope }).expect(200);
      return (response.body as { access_token: string }).access_token;
    },
    stop: async () => {
      await server.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
