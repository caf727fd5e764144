import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TEST_SECRET } from './test-server.js';

/** A server child process and how to reach and kill it. */
export interface ChildServer {
  child: ChildProcess;
  port: number;
  url: string;
  /** Kills it with SIGKILL (no shutdown hooks run) and waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `test/support/server-child.ts` on a data dir and resolves once it prints its port. */
export function startChildServer(dataDir: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', './test/support/register-swc.mjs', 'test/support/server-child.ts'], {
    cwd: process.cwd(),
    // The log is SQLite in the data dir unless the caller passes DATABASE_URL itself.
    env: { ...process.env, DATABASE_URL: '', DATABASE_SCHEMA: '', PORT: '0', DATA_DIR: dataDir, PALIMPSEST_SECRET: TEST_SECRET, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`server child exited early (code ${code}, signal ${signal})`)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (!match) return;
      const port = Number(match[1]);
      resolve({
        child,
        port,
        url: `http://127.0.0.1:${port}`,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
