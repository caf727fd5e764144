import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

/** The ports of a kernel's five channels. */
export interface ChannelPorts {
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
}

/** The content of a Jupyter connection file. */
export interface ConnectionInfo extends ChannelPorts {
  transport: 'tcp';
  ip: string;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

/** A connection for a new kernel on loopback: five free ports and a random signing key. */
export async function allocateConnection(kernelName: string, ip = '127.0.0.1'): Promise<ConnectionInfo> {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await freePorts(ip, 5);
  const key = randomBytes(32).toString('hex');
  return { transport: 'tcp', ip, key, signature_scheme: 'hmac-sha256', kernel_name: kernelName, shell_port, iopub_port, stdin_port, control_port, hb_port };
}

/** Writes the connection file (mode 0600, in a 0700 directory) and returns its path. */
export function writeConnectionFile(runtimeDir: string, kernelId: string, info: ConnectionInfo): string {
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  const path = join(runtimeDir, `kernel-${kernelId}.json`);
  writeFileSync(path, JSON.stringify(info, null, 2), { mode: 0o600 });
  return path;
}

/** Removes a connection file; a missing file is fine. */
export function removeConnectionFile(path: string): void {
  rmSync(path, { force: true });
}

/** The ZeroMQ endpoint of one port of a connection. */
export function endpoint(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}

// Holds all listeners open until every port is known, so the ports are distinct from each other.
async function freePorts(ip: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, ip, resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
