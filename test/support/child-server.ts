import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { TEST_SECRET } from './test-secret.js';

/** A server child process and how to reach and kill it. */
export interface ChildServer {
  child: ChildProcess;
  port: number;
  url: string;
  /** Kills it with SIGKILL (no shutdown hooks run) and waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Runs a TypeScript script (`node --import ./test/support/register-swc.mjs <script> ...args`) and resolves once
 * it prints `listening <port>`; it is killed and the promise rejects if that takes longer than `timeoutMs`.
 */
export function startListeningChild(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ChildServer> {
  return startListeningProcess(process.execPath, ['--import', './test/support/register-swc.mjs', script, ...args], env, timeoutMs);
}

/** Runs any program that prints `listening <port>` once it serves, as `startListeningChild` runs a script. */
export function startListeningProcess(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ChildServer> {
  const commandLine = [command, ...args].join(' ');
  const child = spawn(command, args, {
    cwd: process.cwd(),
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => void kill().then(() => reject(new Error(`${commandLine} did not print its port within ${timeoutMs} ms`))), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${commandLine} exited early (code ${code}, signal ${signal})`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({ child, port, url: `http://127.0.0.1:${port}`, kill });
    });
  });
}

/** Starts `test/support/server-child.ts` on a data dir and resolves once it prints its port. */
export function startChildServer(dataDir: string, env: Record<string, string> = {}): Promise<ChildServer> {
  // The log is SQLite in the data dir unless the caller passes DATABASE_URL itself.
  return startListeningChild('test/support/server-child.ts', [], {
    ...process.env,
    DATABASE_URL: '',
    DATABASE_SCHEMA: '',
    PORT: '0',
    DATA_DIR: dataDir,
    PALIMPSEST_SECRET: TEST_SECRET,
    LOG_LEVEL: 'warn',
    ...env,
  });
}

/**
 * A free port below the system's ephemeral range, for a server that must come back on the same port after
 * a crash. A port 0 listener gets an ephemeral port, which an outgoing connection may be given once the
 * listener is gone; ports below the range are never handed out that way.
 */
export async function portForRestarts(): Promise<number> {
  const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(ephemeralStart - 10_000, 1_000));
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) continue;
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }
}
