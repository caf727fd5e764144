/** What the capacity benchmarks share: the firehose kernel's spec, counting stream messages at a reader, and one timed firehose run. */
import type { RawKernelMessage } from '@palimpsest/kernels';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Socket } from 'socket.io-client';
import { cpuSeconds } from './process-stats.js';

/** The stream messages of a print loop as one client receives them: how many, the lines they hold, their rate (first to last). */
export class StreamCount {
  messages = 0;
  lines = 0;
  private first = 0;
  private last = 0;

  /** Counts one message the client received (anything but `stream` is ignored). */
  readonly observe = (msgType: string, content: Record<string, unknown>): void => {
    if (msgType !== 'stream') return;
    this.last = performance.now();
    if (this.messages++ === 0) this.first = this.last;
    this.lines += String(content.text).split('\n').length - 1;
  };

  get perSecond(): number {
    return this.messages / ((this.last - this.first) / 1000);
  }
}

/** Writes the kernelspec of bench/firehose-kernel.ts under `<jupyterPath>/kernels/firehose`. */
export function writeFirehoseSpec(jupyterPath: string): void {
  const dir = join(jupyterPath, 'kernels', 'firehose');
  mkdirSync(dir, { recursive: true });
  const argv = [process.execPath, '--import', resolve('test/support/register-swc.mjs'), resolve('bench/firehose-kernel.ts'), '{connection_file}'];
  writeFileSync(join(dir, 'kernel.json'), JSON.stringify({ argv, display_name: 'Firehose (benchmark)', language: 'text' }));
}

/**
 * One firehose run of `expected` stream messages: the rate at which `socket` received them (first to last) and the
 * server's CPU per message. `submit` starts the execution and answers its id; `completed` resolves once it is done.
 */
export async function firehoseRun(
  socket: Socket,
  expected: number,
  submit: () => Promise<string>,
  completed: (executionId: string) => Promise<void>,
  pid: number,
): Promise<{ perSecond: number; cpuPerMessage: number }> {
  const count = new StreamCount();
  const counter = (message: RawKernelMessage) => count.observe(message.msg_type, message.content);
  socket.on('message', counter);
  const cpuBefore = cpuSeconds(pid);
  await completed(await submit());
  const cpu = cpuSeconds(pid) - cpuBefore;
  socket.off('message', counter);
  if (count.messages !== expected) throw new Error(`the subscriber got ${count.messages} of ${expected} stream messages`);
  return { perSecond: count.perSecond, cpuPerMessage: cpu / count.messages };
}
