import { spawn, type ChildProcess } from 'node:child_process';

/** How a kernel process ended; `error` is set when it could not be started at all. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** What to run: the spec's argv (placeholders already substituted) and the environment to add. */
export interface ProcessLaunch {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
}

const STDERR_TAIL = 4096;

/** A kernel's OS process, leader of its own process group so that signals reach its children too. */
export class KernelProcess {
  /** Resolves once, when the process has exited (or failed to spawn). */
  readonly exited: Promise<ProcessExit>;
  /** Resolves when the process's stderr is closed: all it wrote is in `stderrTail`. */
  readonly stderrClosed: Promise<void>;
  private exit: ProcessExit | null = null;
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => this.finish({ code: null, signal: null, error }, resolve));
      child.once('exit', (code, signal) => this.finish({ code, signal }, resolve));
    });
    this.stderrClosed = new Promise((resolve) => (child.stderr ? child.stderr.once('close', resolve) : resolve()));
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL);
    });
  }

  /** Spawns the process detached (a new session and process group) with the environment merged over ours. */
  static spawn(launch: ProcessLaunch): KernelProcess {
    const [command, ...args] = launch.argv;
    const child = spawn(command, args, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new KernelProcess(child);
  }

  /** The process id, which is also its process group id; undefined when spawning failed. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === null && this.child.pid !== undefined;
  }

  /** The last few KB the process wrote to stderr, for error messages. */
  get stderrTail(): string {
    return this.stderr;
  }

  /** Sends a signal to the whole process group; false when there is no such group any more. */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits up to `graceMs` for the exit, then kills the group with SIGKILL and waits for that exit. */
  async terminate(graceMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), graceMs)));
    const exit = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (exit === null) this.signalGroup('SIGKILL');
    const result = await this.exited;
    // Children the kernel started share its group; they go with it.
    this.signalGroup('SIGKILL');
    return result;
  }

  private finish(exit: ProcessExit, resolve: (exit: ProcessExit) => void): void {
    if (this.exit) return;
    this.exit = exit;
    resolve(exit);
  }
}
