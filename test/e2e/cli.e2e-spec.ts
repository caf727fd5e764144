import Database from 'better-sqlite3';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);
const CLI = ['--import', './test/support/register-swc.mjs', 'apps/cli/src/main.ts'];
const FIXTURE = resolve(process.cwd(), '../shared/fixtures/notebooks/ipywidgets/Output Widget.ipynb');

interface Printed {
  position: number;
  stream: string;
  version: number;
  type: string;
}

const sourceOf = (cell: { source: string | string[] }) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source);

describe('the palimpsest CLI against a running server', () => {
  let server: TestServer;
  let alice: string;
  let env: NodeJS.ProcessEnv;
  const tempDir = mkdtempSync(join(tmpdir(), 'palimpsest-cli-'));
  let notebookId: string;

  /** Runs the CLI; answers its exit code and output. */
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: process.cwd(), env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.token('alice');
    env = { ...process.env, PALIMPSEST_URL: server.url, PALIMPSEST_SECRET: TEST_SECRET, PALIMPSEST_TOKEN: alice };
  });
  afterAll(async () => {
    await server.stop();
    rmSync(tempDir, { recursive: true, force: true });
  });

  it('mints a working token with the secret, and refuses a wrong secret with the server error and exit 1', async () => {
    const minted = await cli('token', '--user', 'bob');
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    await request(server.url).get('/api/notebooks').set('authorization', `Bearer ${token}`).expect(200);

    const refused = await cli('token', '--user', 'bob', '--secret', 'wrong');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('UNAUTHORIZED');
    expect(refused.stdout).toBe('');
  });

  it('imports a real notebook, lists it, and exports it with the same cells', async () => {
    const imported = await cli('import', FIXTURE, '--name', 'widgets.ipynb');
    expect(imported.code).toBe(0);
    [notebookId] = imported.stdout.trim().split('\t');

    const listed = await cli('notebooks');
    expect(listed.stdout.trim().split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^${notebookId}\towner\t\\d+\twidgets\\.ipynb$`)));

    const output = join(tempDir, 'out.ipynb');
    expect((await cli('export', notebookId, '--output', output)).code).toBe(0);
    const original = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cells: Array<{ source: string | string[] }> };
    const exported = JSON.parse(readFileSync(output, 'utf8')) as { nbformat: number; cells: Array<{ source: string | string[] }> };
    expect(exported.nbformat).toBe(4);
    expect(exported.cells.map(sourceOf)).toEqual(original.cells.map(sourceOf));
  });

  it('answers an unknown notebook and an invalid file with clear errors, creating nothing', async () => {
    const missing = await cli('export', 'no-such-notebook');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');

    const before = (await request(server.url).get('/api/notebooks').set('authorization', `Bearer ${alice}`)).body.notebooks.length;
    const invalid = await cli('import', resolve(process.cwd(), '../shared/fixtures/notebooks/nbformat/invalid.ipynb'));
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('INVALID_NOTEBOOK');
    expect((await request(server.url).get('/api/notebooks').set('authorization', `Bearer ${alice}`)).body.notebooks).toHaveLength(before);
  });

  it('prints the history as NDJSON, then follows live events from a position', async () => {
    const history = await cli('events', notebookId);
    expect(history.code).toBe(0);
    const events = history.stdout.trim().split('\n').map((line) => JSON.parse(line) as Printed);
    expect(events[0]).toMatchObject({ type: 'notebook.created', version: 1 });
    expect(events.map((event) => event.position)).toEqual([...events.map((event) => event.position)].sort((a, b) => a - b));
    const last = events[events.length - 1].position;

    // One change before the follower starts (it must replay it), one once it printed that (it must get it live).
    const addCell = (source: string) =>
      request(server.url).post(`/api/notebooks/${notebookId}/cells`).set('authorization', `Bearer ${alice}`).send({ cell_type: 'code', source }).expect(201);
    await addCell('stored = 1');
    const follower = spawn(process.execPath, [...CLI, 'events', notebookId, '--follow', '--after', String(last)], { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((done) => follower.once('exit', (code) => done(code)));
    try {
      const printed: Printed[] = [];
      const insertsSeen = () => printed.filter((event) => event.type === 'notebook.cell.inserted').length;
      let addedLive = false;
      await new Promise<void>((done, fail) => {
        createInterface({ input: follower.stdout }).on('line', (line) => {
          printed.push(JSON.parse(line) as Printed);
          if (insertsSeen() === 1 && !addedLive) {
            addedLive = true;
            addCell('live = 2').catch(fail);
          }
          if (insertsSeen() === 2) done();
        });
      });
      expect(printed[0].position).toBeGreaterThan(last);
      expect(printed.every((event, i) => i === 0 || event.position > printed[i - 1].position)).toBe(true);
    } finally {
      follower.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('backs the live SQLite store up while the server writes; the copy is a verified prefix of the log, and is never overwritten', async () => {
    const created = await request(server.url).post('/api/notebooks').set('authorization', `Bearer ${alice}`).send({ name: 'busy.ipynb' }).expect(201);
    // An editor keeps adding cells for as long as the backup runs.
    let backingUp = true;
    const writes = (async () => {
      let count = 0;
      for (; backingUp; count++) {
        await request(server.url).post(`/api/notebooks/${created.body.id}/cells`).set('authorization', `Bearer ${alice}`).send({ cell_type: 'code', source: `x = ${count}` }).expect(201);
      }
      return count;
    })();
    const target = join(tempDir, 'backup');
    const made = await cli('backup', '--data-dir', server.dataDir, '--to', target);
    backingUp = false;
    expect(await writes).toBeGreaterThan(0);
    expect(made.code).toBe(0);
    const [path, events, head] = made.stdout.trim().split('\t');
    expect(path).toBe(join(target, 'palimpsest.sqlite'));
    expect(Number.parseInt(events, 10)).toBeGreaterThan(0);
    const copiedHead = Number(/head position (\d+)/.exec(head)![1]);

    const verified = await cli('verify', '--data-dir', target, '--secret', TEST_SECRET);
    expect(verified.code).toBe(0);
    // Exactly the server's log up to the copy's head: same events, same chain hashes.
    const rows = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT position, event_id, hex(hash) AS hash FROM events WHERE position <= ? ORDER BY position').all(copiedHead);
      } finally {
        db.close();
      }
    };
    const copied = rows(path);
    expect(copied).toHaveLength(copiedHead);
    expect(rows(join(server.dataDir, 'palimpsest.sqlite'))).toEqual(copied);

    const again = await cli('backup', '--data-dir', server.dataDir, '--to', target);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');
    expect(rows(path)).toEqual(copied);
  });
});
