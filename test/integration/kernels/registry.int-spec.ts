import { KernelRegistry, reapOrphans } from '@palimpsest/kernels';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KernelFixture, nextLifecycle, processExists, python3Spec, TakenPorts } from './kernel.fixture.js';

/** The pid of a process that has really run and exited: an owner that is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/**
 * A real zombie: a process that has exited but whose parent does not wait for it (as an init that never reaps
 * orphans leaves a kernel whose server died) until `reap()`, which lets the parent wait and exit.
 */
async function zombie(): Promise<{ pid: number; reap(): Promise<void> }> {
  const program = ['import os, sys', 'pid = os.fork()', 'if pid == 0: os._exit(0)', 'print(pid, flush=True)', 'sys.stdin.read()', 'os.waitpid(pid, 0)'];
  const parent = spawn('python3', ['-c', program.join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => parent.once('exit', resolve));
  const [line] = (await once(createInterface({ input: parent.stdout }), 'line')) as [string];
  const pid = Number(line);
  await vi.waitFor(() => expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /), { timeout: 5_000, interval: 10 });
  return {
    pid,
    reap: async () => {
      parent.stdin.end();
      await exited;
    },
  };
}

describe(KernelRegistry.name, () => {
  const fixture = new KernelFixture();
  const stateDir = mkdtempSync(join(tmpdir(), 'palimpsest-kernel-state-'));
  afterEach(async () => {
    await fixture.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('records launched kernels in a state file, and shutdownAll stops them and empties it', async () => {
    const registry = new KernelRegistry({ stateDir, runtimeDir: fixture.runtimeDir });
    const kernels = [registry.create({ name: 'python3', spec: python3Spec() }), registry.create({ name: 'python3', spec: python3Spec() })];
    kernels.forEach((kernel) => fixture.track(kernel));
    await Promise.all(kernels.map((kernel) => kernel.start()));
    expect(readdirSync(stateDir)).toEqual([`kernels-${process.pid}.json`]);
    expect(reapOrphans(stateDir)).toEqual([]); // the owner (this process) is alive
    await registry.shutdownAll();
    expect(registry.list()).toEqual([]);
    expect(readdirSync(stateDir)).toEqual([]);
    for (const kernel of kernels) expect(kernel.executionState).toBe('dead');
  });

  it('reapOrphans kills the kernels of a server that is gone and removes their files', async () => {
    const registry = new KernelRegistry({ stateDir, runtimeDir: fixture.runtimeDir, ownerPid: await deadPid() });
    const kernel = registry.create({ name: 'python3', spec: python3Spec() });
    fixture.track(kernel);
    await kernel.start();
    const pid = kernel.pid!;
    const file = kernel.connectionFile!;
    expect(reapOrphans(stateDir, { dryRun: true })).toEqual([{ kernel_id: kernel.id, name: 'python3', pid, connection_file: file, outcome: 'killed' }]);
    expect(processExists(pid)).toBe(true);
    const died = nextLifecycle(kernel, 'died');
    expect(reapOrphans(stateDir).map((report) => report.outcome)).toEqual(['killed']);
    expect(await died).toMatchObject({ signal: 'SIGKILL' });
    expect(processExists(pid)).toBe(false);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('reapOrphans counts a zombie as gone, owner and kernel alike, though it still answers signal 0', async () => {
    const [owner, kernel] = [await zombie(), await zombie()];
    try {
      expect([processExists(owner.pid), processExists(kernel.pid)]).toEqual([true, true]);
      const connectionFile = join(stateDir, 'runtime', 'kernel-zombie.json');
      mkdirSync(join(stateDir, 'runtime'), { recursive: true });
      writeFileSync(connectionFile, '{}');
      const record = { kernel_id: 'zombie', name: 'python3', pid: kernel.pid, connection_file: connectionFile };
      writeFileSync(join(stateDir, `kernels-${owner.pid}.json`), JSON.stringify({ owner_pid: owner.pid, kernels: [record] }));
      expect(reapOrphans(stateDir)).toEqual([{ ...record, outcome: 'gone' }]);
      expect(existsSync(connectionFile)).toBe(false);
      expect(readdirSync(stateDir)).toEqual(['runtime']);
    } finally {
      await Promise.all([owner.reap(), kernel.reap()]);
    }
  });

  it('records the process that runs when a start had to launch again on fresh ports', async () => {
    const ports = new TakenPorts(1);
    try {
      const registry = new KernelRegistry({ stateDir, runtimeDir: fixture.runtimeDir });
      const kernel = registry.create({ name: 'python3', spec: python3Spec(), allocateConnection: ports.allocate });
      fixture.track(kernel);
      await kernel.start();
      expect(ports.launches).toHaveLength(2);
      const state = JSON.parse(readFileSync(join(stateDir, `kernels-${process.pid}.json`), 'utf8'));
      expect(state.kernels).toEqual([{ kernel_id: kernel.id, name: 'python3', pid: kernel.pid, connection_file: kernel.connectionFile }]);
      expect(processExists(kernel.pid!)).toBe(true);
    } finally {
      await ports.release();
    }
  });
});
