import type { KernelLifecycleEventData } from '@palimpsest/contracts';
import { allocateConnection, type ConnectionInfo, discoverKernelSpecs, type JupyterMessage, type KernelSpec, ZmqKernel, type ZmqKernelOptions } from '@palimpsest/kernels';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

/** The real python3 kernelspec (ipykernel) as discovery finds it. */
export function python3Spec(): KernelSpec {
  const spec = discoverKernelSpecs().kernelspecs.python3?.spec;
  if (!spec) throw new Error('the python3 kernelspec is not installed');
  return spec;
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the first lifecycle event of the given state. */
export function nextLifecycle(kernel: ZmqKernel, state: KernelLifecycleEventData['state']): Promise<KernelLifecycleEventData> {
  return new Promise((resolve) => {
    const off = kernel.onLifecycle((event) => {
      if (event.state !== state) return;
      off();
      resolve(event);
    });
  });
}

/** Resolves with the first message from the kernel that matches. */
export function nextMessage(kernel: ZmqKernel, matches: (message: JupyterMessage) => boolean): Promise<JupyterMessage> {
  return new Promise((resolve) => {
    const off = kernel.onMessage((message, direction) => {
      if (direction !== 'from_kernel' || !matches(message)) return;
      off();
      resolve(message);
    });
  });
}

/**
 * A real port collision: `allocate` (a kernel's `allocateConnection`) hands out free ports as usual, but for
 * the first `taken` launches a listener of ours binds the shell port before the kernel can. `release` closes them.
 */
export class TakenPorts {
  /** The connection of every launch, in order. */
  readonly launches: ConnectionInfo[] = [];
  private readonly holders: Server[] = [];

  constructor(private readonly taken: number) {}

  readonly allocate = async (kernelName: string): Promise<ConnectionInfo> => {
    const info = await allocateConnection(kernelName);
    if (this.launches.length < this.taken) {
      const holder = createServer((socket) => socket.destroy());
      this.holders.push(holder);
      await new Promise<void>((resolve) => holder.listen(info.shell_port, info.ip, resolve));
    }
    this.launches.push(info);
    return info;
  };

  async release(): Promise<void> {
    await Promise.all(this.holders.splice(0).map((holder) => new Promise((resolve) => holder.close(resolve))));
  }
}

/** Starts real kernels in a private runtime dir and checks, on cleanup, that no process or file is left behind; reusable after cleanup. */
export class KernelFixture {
  readonly runtimeDir = mkdtempSync(join(tmpdir(), 'palimpsest-kernels-test-'));
  private readonly kernels: ZmqKernel[] = [];
  private readonly pids = new Set<number>();
  private readonly files = new Set<string>();

  /** Creates a python3 kernel (not started) whose processes and files are tracked. */
  create(options: Partial<ZmqKernelOptions> = {}): ZmqKernel {
    const kernel = new ZmqKernel({ name: 'python3', spec: python3Spec(), runtimeDir: this.runtimeDir, ...options });
    this.track(kernel);
    return kernel;
  }

  /** Creates and starts a python3 kernel. */
  async start(options: Partial<ZmqKernelOptions> = {}): Promise<ZmqKernel> {
    const kernel = this.create(options);
    await kernel.start();
    return kernel;
  }

  /** Records the pid and connection file of every process a kernel spawns. */
  track(kernel: ZmqKernel): void {
    this.kernels.push(kernel);
    kernel.onLifecycle((event) => {
      if (event.state !== 'started') return;
      if (kernel.pid !== undefined) this.pids.add(kernel.pid);
      if (kernel.connectionFile !== undefined) this.files.add(kernel.connectionFile);
    });
  }

  /** Shuts every kernel down and asserts their processes and connection files are gone. */
  async cleanup(): Promise<void> {
    await Promise.all(this.kernels.splice(0).map((kernel) => kernel.shutdown()));
    for (const pid of this.pids) expect(processExists(pid), `kernel process ${pid} is still running`).toBe(false);
    for (const file of this.files) expect(existsSync(file), `connection file ${file} is left`).toBe(false);
    rmSync(this.runtimeDir, { recursive: true, force: true });
  }
}
