import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The child is TypeScript run by plain node through the repository's swc loader (ESM + path aliases). */
const CHILD_ARGS = ['--import', './test/support/register-swc.mjs', 'test/support/crash-writer.ts'];
/** Acknowledged events to wait for before the kill. */
const ACKS_BEFORE_KILL = 1500;

interface Ack {
  id: string;
  position: number;
}

/** Spawns the writer child and SIGKILLs it once `acks` acknowledgements have been read from its stdout. */
function runAndKill(env: NodeJS.ProcessEnv, acks: number, track: (child: ChildProcess) => void): Promise<{ acked: Ack[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, CHILD_ARGS, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const acked: Ack[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (killed) return;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!; // an incomplete last line was not fully written: not counted
      for (const line of lines) {
        const [kind, id, position] = line.split(' ');
        if (kind === 'ack') acked.push({ id, position: Number(position) });
      }
      if (acked.length >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed) reject(new Error(`writer exited on its own (code ${code}, signal ${signal}): ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

describe.each(STORE_BACKENDS)('TypeOrmEventStore crash safety on %s', (backend) => {
  let t: TestStore;
  let child: ChildProcess | null = null;
  beforeEach(async () => {
    t = await openTestStore(backend);
    // The test process lets go of the database: only the child has it open when it dies.
    await t.store.close();
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
    await t.cleanup();
  });

  it('keeps every acknowledged append, at its acknowledged position, with a valid chain after SIGKILL mid-stream', async () => {
    const env = backend === 'sqlite' ? { CRASH_SQLITE_PATH: t.location } : { CRASH_PG_SCHEMA: t.location };

    const { acked, signal } = await runAndKill(env, ACKS_BEFORE_KILL, (c) => (child = c));

    expect(signal).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    const store = await t.reopen();
    const stored = await readAll(store);
    const byId = new Map(stored.map((e) => [e.id, e.position]));
    const missing = acked.filter((a) => byId.get(a.id) !== a.position);
    expect(missing).toEqual([]);
    expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
    const verified = await store.verify();
    expect(verified).toMatchObject({ ok: true, first_bad_position: null });
    expect(verified.checked).toBe(stored.length);

    // The log stays writable after recovery and the chains continue from their heads.
    const next = await store.append({
      stream: 'notebook:crash0',
      expectedVersion: await store.streamVersion('notebook:crash0'),
      events: [{ type: 'notebook.cell.source_edited', payload: { encoding: 'yjs', bytes: Uint8Array.of(1) }, metadata: { actor: 'a', cell_ids: [], notebook_id: 'crash' } }],
    });
    expect(next.positions[0]).toBeGreaterThan(Math.max(...stored.map((e) => e.position)));
    expect(await store.verify()).toMatchObject({ ok: true, checked: stored.length + 1 });
  });
});
