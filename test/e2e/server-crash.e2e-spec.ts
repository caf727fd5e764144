import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { TEST_SECRET } from '../support/test-server.js';

const WRITERS = 16;
const ACKS_BEFORE_KILL = 150;

describe('a server killed with SIGKILL while clients write', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'palimpsest-crash-'));
  let server: ChildServer | undefined;
  afterAll(async () => {
    await server?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write after restart, and verify is ok', async () => {
    server = await startChildServer(dataDir);
    const first = server;
    const token = (await request(first.url).post('/api/auth/token').send({ secret: TEST_SECRET, user: 'alice' }).expect(200)).body.access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const { id } = (await request(first.url).post('/api/notebooks').set(auth).send({ name: 'crash.ipynb' }).expect(201)).body as { id: string };

    const acknowledged: Array<{ cellId: string; source: string }> = [];
    let stopped = false;
    let killRequested!: () => void;
    const enoughAcks = new Promise<void>((resolve) => (killRequested = resolve));
    const writer = async (w: number) => {
      for (let n = 0; !stopped; n++) {
        const source = `w${w}n${n}`;
        try {
          const response = await request(first.url).post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source });
          if (response.status !== 201) continue;
          acknowledged.push({ cellId: response.body.cell.id, source });
          if (acknowledged.length >= ACKS_BEFORE_KILL) killRequested();
        } catch {
          return; // the server died mid-request: that write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await enoughAcks;
    await first.kill();
    stopped = true;
    await Promise.all(writers);

    server = await startChildServer(dataDir);
    const restarted = server;
    const notebook = await request(restarted.url).get(`/api/notebooks/${id}`).set(auth).expect(200);
    const sources = new Map((notebook.body.content.cells as Array<{ id: string; source: string }>).map((c) => [c.id, c.source]));
    for (const ack of acknowledged) expect(sources.get(ack.cellId)).toBe(ack.source);
    expect(new Set(sources.keys()).size).toBe(sources.size);
    const verify = await request(restarted.url).get(`/api/notebooks/${id}/verify`).set(auth).expect(200);
    expect(verify.body).toMatchObject({ ok: true, first_bad_position: null });
    expect(verify.body.checked).toBeGreaterThanOrEqual(acknowledged.length + 2);
  });
});
