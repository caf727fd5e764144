import type { KernelLifecycleEventData } from '@palimpsest/contracts';
import { type JupyterMessage, KernelStartupError, parentMsgId, ZmqKernel } from '@palimpsest/kernels';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelFixture, nextLifecycle, nextMessage, processExists, python3Spec, TakenPorts } from './kernel.fixture.js';

describe(`${ZmqKernel.name} lifecycle`, () => {
  const fixture = new KernelFixture();
  afterEach(() => fixture.cleanup());

  it('starts (started, ready), shuts down (shutdown) and leaves no process or connection file', async () => {
    const kernel = fixture.create();
    const events: KernelLifecycleEventData[] = [];
    kernel.onLifecycle((event) => events.push(event));
    await kernel.start();
    const pid = kernel.pid!;
    const file = kernel.connectionFile!;
    expect(existsSync(file)).toBe(true);
    await kernel.shutdown();
    expect(events.map((event) => event.state)).toEqual(['started', 'ready', 'shutdown']);
    expect(events[2]).toMatchObject({ kernel_name: 'python3', exit_code: 0 });
    expect(kernel.executionState).toBe('dead');
    expect(processExists(pid)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('restarts into a fresh process: execution_count starts again at 1 and variables are gone', async () => {
    const kernel = await fixture.start();
    await kernel.execute('x = 1').done;
    expect((await kernel.execute('x').done).executionCount).toBe(2);
    const oldPid = kernel.pid!;
    const restarted = nextLifecycle(kernel, 'restarted');
    await kernel.restart();
    await restarted;
    expect(processExists(oldPid)).toBe(false);
    expect(kernel.pid).not.toBe(oldPid);
    const after = await kernel.execute("'x' in globals()").done;
    expect(after.executionCount).toBe(1);
    expect(after.outputs[0]).toMatchObject({ data: { 'text/plain': 'False' } });
  });

  it('is idle and quiet once start and restart resolve: every readiness probe is answered before, none after', async () => {
    const kernel = fixture.create();
    const heard: JupyterMessage[] = [];
    kernel.onMessage((message, direction) => direction === 'from_kernel' && heard.push(message));
    const firstAnswersOnly = async () => {
      expect(kernel.executionState).toBe('idle');
      heard.length = 0;
      const execution = kernel.execute('1');
      await execution.done;
      // The kernel answers in order: a probe still pending at ready would be heard before this execution.
      expect(heard.filter((message) => parentMsgId(message) !== execution.msgId).map((message) => message.header.msg_type)).toEqual([]);
    };
    await kernel.start();
    await firstAnswersOnly();
    await kernel.restart();
    await firstAnswersOnly();
  });

  it('reports a kernel killed with SIGKILL as died with the signal, and aborts its running execution', async () => {
    const kernel = await fixture.start();
    const running = nextMessage(kernel, (message) => message.header.msg_type === 'execute_input');
    const execution = kernel.execute('while True: pass');
    await running;
    const died = nextLifecycle(kernel, 'died');
    process.kill(kernel.pid!, 'SIGKILL');
    expect(await died).toMatchObject({ state: 'died', exit_code: null, signal: 'SIGKILL' });
    expect(kernel.executionState).toBe('dead');
    expect((await execution.done).status).toBe('aborted');
    expect(() => kernel.execute('1')).toThrow(/not running/);
  });

  it('reports a kernel whose heartbeat stops (process frozen with SIGSTOP) as died, and kills it', async () => {
    const kernel = await fixture.start({ heartbeat: { intervalMs: 100, maxMissed: 3 } });
    const pid = kernel.pid!;
    const died = nextLifecycle(kernel, 'died');
    process.kill(pid, 'SIGSTOP');
    const event = await died;
    expect(event.reason).toBe('no heartbeat for 3 intervals');
    expect(event.signal).toBe('SIGKILL');
    expect(processExists(pid)).toBe(false);
  });

  it('fails to start with a clear error when the kernel process exits at once', async () => {
    const spec = { ...python3Spec(), argv: ['/usr/bin/python3', '-c', "import sys; sys.stderr.write('no kernel here\\n'); sys.exit(3)"] };
    const kernel = fixture.create({ spec });
    const died = nextLifecycle(kernel, 'died');
    await expect(kernel.start()).rejects.toThrow(KernelStartupError);
    await expect(kernel.start()).rejects.toThrow(/already started/);
    expect(await died).toMatchObject({ exit_code: 3 });
    const error = await new ZmqKernel({ name: 'python3', spec, runtimeDir: fixture.runtimeDir }).start().catch((e: Error) => e);
    expect(String(error)).toMatch(/exited with code 3 before it was ready:\nno kernel here/);
  });

  it('fails to start after the startup timeout when the process never answers kernel_info (a real non-kernel process)', async () => {
    const spec = { ...python3Spec(), argv: ['/usr/bin/python3', '-c', 'import signal; signal.pause()'] };
    const kernel = fixture.create({ spec, startupTimeoutMs: 500, shutdownGraceMs: 100 });
    await expect(kernel.start()).rejects.toThrow('kernel python3 did not become ready: no kernel_info_reply within 0.5 s');
    expect(kernel.executionState).toBe('dead');
  });

  describe('when another process holds one of the ports it was given', () => {
    let ports: TakenPorts;
    afterEach(() => ports.release());

    it('launches the kernel again on fresh ports (each launch announced), and it starts with no death recorded', async () => {
      ports = new TakenPorts(1);
      const kernel = fixture.create({ allocateConnection: ports.allocate });
      const events: KernelLifecycleEventData[] = [];
      kernel.onLifecycle((event) => events.push(event));
      await kernel.start();
      expect(ports.launches).toHaveLength(2);
      expect(events.map((event) => event.state)).toEqual(['started', 'started', 'ready']);
      expect(events[1].reason).toMatch(/fresh ports/);
      expect((await kernel.execute('6 * 7').done).outputs[0]).toMatchObject({ data: { 'text/plain': '42' } });
    });

    it('gives up after three launches that all find a port taken, reporting one death', async () => {
      ports = new TakenPorts(3);
      const kernel = fixture.create({ allocateConnection: ports.allocate });
      const events: KernelLifecycleEventData[] = [];
      kernel.onLifecycle((event) => events.push(event));
      await expect(kernel.start()).rejects.toThrow(/exited with code 1 before it was ready:[\s\S]*Address already in use/);
      expect(ports.launches).toHaveLength(3);
      expect(events.map((event) => event.state)).toEqual(['started', 'started', 'started', 'died']);
      expect(kernel.executionState).toBe('dead');
    });
  });
});
