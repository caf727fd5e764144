import { KernelRegistry, reapOrphans } from '@palimpsest/kernels';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelFixture, nextLifecycle, processExists, python3Spec, TakenPorts } from './kernel.fixture.js';

/** The pid of a process that has really run and exited: an owner that is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
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
