import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeConnectionFile } from './connection.file.js';
import { ZmqKernel, type ZmqKernelOptions } from './zmq.kernel.js';

/** Where the registry keeps its state file, and whose kernels it records. */
export interface KernelRegistryOptions {
  /** Directory of the state files (one per owning server process). */
  stateDir: string;
  /** The owning process, recorded so that a later server can tell live owners from dead ones; `process.pid` by default. */
  ownerPid?: number;
  /** Default runtime directory for connection files of the kernels it creates. */
  runtimeDir?: string;
}

/** One launched kernel as recorded in a state file. */
export interface KernelRecord {
  kernel_id: string;
  name: string;
  pid: number;
  connection_file: string;
}

/** What `reapOrphans` found for one recorded kernel. */
export interface OrphanReport extends KernelRecord {
  /** killed: it ran and was killed; gone: it had exited; pid_reused: the pid now runs something else, left alone. */
  outcome: 'killed' | 'gone' | 'pid_reused';
}

interface StateFile {
  owner_pid: number;
  kernels: KernelRecord[];
}

const STATE_FILE = /^kernels-(\d+)\.json$/;

/** Tracks the kernels one server launched (in memory and in a state file) so that none outlives the server unnoticed. */
export class KernelRegistry {
  private readonly kernels = new Map<string, ZmqKernel>();
  private readonly ownerPid: number;

  constructor(private readonly options: KernelRegistryOptions) {
    this.ownerPid = options.ownerPid ?? process.pid;
  }

  /** Creates a tracked kernel, not started yet, so that listeners can be added before its first message. */
  create(options: ZmqKernelOptions): ZmqKernel {
    const kernel = new ZmqKernel({ runtimeDir: this.options.runtimeDir, ...options });
    this.kernels.set(kernel.id, kernel);
    kernel.onLifecycle((event) => {
      if (event.state === 'died' || event.state === 'shutdown') this.kernels.delete(kernel.id);
      if (event.state !== 'interrupted' && event.state !== 'ready') this.save();
    });
    return kernel;
  }

  /** The tracked kernel with this id. */
  get(id: string): ZmqKernel | undefined {
    return this.kernels.get(id);
  }

  /** Every tracked kernel that has not died or been shut down. */
  list(): ZmqKernel[] {
    return [...this.kernels.values()];
  }

  /** Shuts every tracked kernel down. */
  async shutdownAll(): Promise<void> {
    await Promise.all(this.list().map((kernel) => kernel.shutdown()));
    this.save();
  }

  // Written on every spawn and exit, atomically (temp file + rename), so a crash leaves a readable file.
  private save(): void {
    const kernels = this.list().flatMap((kernel): KernelRecord[] =>
      kernel.pid !== undefined && kernel.connectionFile !== undefined
        ? [{ kernel_id: kernel.id, name: kernel.name, pid: kernel.pid, connection_file: kernel.connectionFile }]
        : [],
    );
    mkdirSync(this.options.stateDir, { recursive: true, mode: 0o700 });
    const path = join(this.options.stateDir, `kernels-${this.ownerPid}.json`);
    if (kernels.length === 0) {
      rmSync(path, { force: true });
      return;
    }
    const state: StateFile = { owner_pid: this.ownerPid, kernels };
    writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
}

/**
 * Finds kernels recorded by servers that are no longer running and kills their process groups
 * (or only reports them with `dryRun`), removing their connection and state files.
 */
export function reapOrphans(stateDir: string, options: { dryRun?: boolean } = {}): OrphanReport[] {
  if (!existsSync(stateDir)) return [];
  const reports: OrphanReport[] = [];
  for (const file of readdirSync(stateDir).filter((name) => STATE_FILE.test(name))) {
    const path = join(stateDir, file);
    const state = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
    if (isAlive(state.owner_pid)) continue;
    for (const record of state.kernels) {
      const outcome = !isAlive(record.pid) ? 'gone' : runsKernel(record) ? 'killed' : 'pid_reused';
      reports.push({ ...record, outcome });
      if (options.dryRun) continue;
      if (outcome === 'killed') killGroup(record.pid);
      removeConnectionFile(record.connection_file);
    }
    if (!options.dryRun) rmSync(path, { force: true });
  }
  return reports;
}

// A zombie (exited, but not reaped: an init that never waits for orphans, as some containers run) is gone too.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

// Its state in /proc/<pid>/stat, the field after the parenthesized command name; without /proc, never.
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false;
  }
}

// The pid must still run this kernel (its argv names the connection file); without /proc the record is trusted.
function runsKernel(record: KernelRecord): boolean {
  const cmdline = `/proc/${record.pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(cmdline, 'utf8').split('\0').includes(record.connection_file);
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone between the check and the kill.
  }
}
