import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamSealing } from '../../apps/server/src/seal.providers.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);

interface ApiEvent {
  position: number;
  version: number;
}

describe('tamper evidence: a row edited in SQLite and a truncated log, over REST and the offline CLI', () => {
  let server: TestServer;
  let alice: string;
  const api = () => request(server.url);
  const as = { authorization: '' };

  /** A notebook with `edits` source edits, sealing after every change when `seal` is set; answers its id and its events. */
  const notebookWithEdits = async (edits: number, seal: boolean): Promise<{ id: string; events: ApiEvent[] }> => {
    const sealer = server.app.get(StreamSealing).sealer;
    const { id } = (await api().post('/api/notebooks').set(as).send({ name: 'tamper.ipynb' }).expect(201)).body as { id: string };
    const cell = await api().post(`/api/notebooks/${id}/cells`).set(as).send({ cell_type: 'code', source: '' }).expect(201);
    for (let n = 1; n <= edits; n++) {
      await api().patch(`/api/notebooks/${id}/cells/${cell.body.cell.id}`).set(as).send({ source: `x = ${n}` }).expect(200);
      if (seal) await sealer.sealNow();
    }
    await sealer.sealNow();
    const events = (await api().get(`/api/notebooks/${id}/events?limit=1000`).set(as).expect(200)).body.events as ApiEvent[];
    return { id, events };
  };

  /** Runs raw SQL on the server's SQLite file, behind its back. */
  const rawSql = (sql: string) => {
    const db = new Database(join(server.dataDir, 'palimpsest.sqlite'));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };

  /** Runs `palimpsest verify` (the CLI) on the server's data directory; answers the exit code and output. */
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const argv = ['--import', './test/support/register-swc.mjs', 'apps/cli/src/main.ts', 'verify', '--data-dir', server.dataDir, '--secret', TEST_SECRET, ...args];
    try {
      const { stdout, stderr } = await run(process.execPath, argv, { cwd: process.cwd(), env: { ...process.env, PALIMPSEST_SECRET: '', DATABASE_URL: '' } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  let edited: { id: string; events: ApiEvent[] };
  let truncated: { id: string; events: ApiEvent[] };
  let intact: { id: string; events: ApiEvent[] };

  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.token('alice');
    as.authorization = `Bearer ${alice}`;
    edited = await notebookWithEdits(4, false);
    truncated = await notebookWithEdits(5, true);
    intact = await notebookWithEdits(2, false);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('verifies intact notebooks over REST and with the CLI (exit 0)', async () => {
    expect((await api().get(`/api/notebooks/${truncated.id}/verify`).set(as).expect(200)).body).toMatchObject({ ok: true, first_bad_position: null });
    const result = await cli();
    expect(result.stdout).toMatch(/intact: \d+ streams, 0 bad/);
    expect(result.stderr).toMatch(/verifying \[#+\] 100%/);
    expect(result.code).toBe(0);
  });

  it('detects a row edited directly in SQLite at its position', async () => {
    const target = edited.events.find((e) => e.version === 5)!;
    rawSql(`DROP TRIGGER events_no_update; UPDATE events SET actor = 'mallory' WHERE position = ${target.position};`);
    const result = (await api().get(`/api/notebooks/${edited.id}/verify`).set(as).expect(200)).body;
    expect(result).toMatchObject({ ok: false, first_bad_position: target.position });
    expect(result.checked).toBe(4);
  });

  it('detects a truncated log (last events deleted with the trigger dropped) at the first missing position', async () => {
    const last = truncated.events.at(-1)!;
    const firstGone = truncated.events.at(-2)!;
    rawSql(`DROP TRIGGER events_no_delete; DROP TRIGGER event_cells_no_delete;
      DELETE FROM event_cells WHERE position >= ${firstGone.position} AND position <= ${last.position};
      DELETE FROM events WHERE stream_id = 'notebook:${truncated.id}' AND position >= ${firstGone.position};`);
    const result = (await api().get(`/api/notebooks/${truncated.id}/verify`).set(as).expect(200)).body;
    expect(result).toMatchObject({ ok: false, first_bad_position: firstGone.position, first_missing_version: firstGone.version });
  });

  it('the offline CLI prints the first bad position of each bad stream and exits 1', async () => {
    const result = await cli();
    expect(result.code).toBe(1);
    const edit = edited.events.find((e) => e.version === 5)!;
    const gone = truncated.events.at(-2)!;
    expect(result.stdout).toContain(`BAD  notebook:${edited.id} first bad position ${edit.position}:`);
    expect(result.stdout).toContain(`BAD  notebook:${truncated.id} first bad position ${gone.position}:`);
    expect(result.stdout).toMatch(/TAMPERED: \d+ streams, 2 bad/);
    const one = await cli('--stream', `notebook:${intact.id}`, '--verbose');
    expect(one.stdout).toContain(`ok   notebook:${intact.id} (${intact.events.length} events)`);
    expect(one.code).toBe(0);
  });
});
