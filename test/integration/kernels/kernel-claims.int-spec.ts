import { claimsConnectionName, kernelClaimKeys, PostgresKernelClaims } from '@palimpsest/kernels';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';

const databaseUrl = process.env.DATABASE_URL;

describe.skipIf(!databaseUrl)(`${PostgresKernelClaims.name} (real PostgreSQL)`, () => {
  const schema = `claims_${process.pid}`;
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((each) => each.close()));
  });

  const node = (onLost: (notebookId: string) => void = () => undefined) => {
    const claims = new PostgresKernelClaims(databaseUrl!, schema, onLost);
    opened.push(claims);
    return claims;
  };
  const admin = async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    opened.push({ close: () => client.end() });
    return client;
  };
  // The backend holding a notebook's claim, from pg_locks (two-key advisory locks have objsubid 2).
  const holderOf = async (client: Client, notebookId: string): Promise<number | undefined> => {
    const [first, second] = kernelClaimKeys(schema, notebookId);
    const result = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted",
      [first, second >>> 0],
    );
    return result.rows[0]?.pid;
  };

  it('lets one node claim a notebook at a time, and another once it is released', async () => {
    const [a, b] = [node(), node()];
    const notebookId = randomUUID();
    expect(await a.claim(notebookId)).toBe(true);
    expect(await a.claim(notebookId)).toBe(true);
    expect(await b.claim(notebookId)).toBe(false);
    expect([await b.heldElsewhere(notebookId), await a.heldElsewhere(notebookId)]).toEqual([true, false]);
    expect(await b.claim(randomUUID())).toBe(true);
    await a.release(notebookId);
    expect(await b.heldElsewhere(notebookId)).toBe(false);
    expect(await b.claim(notebookId)).toBe(true);
    expect(await a.claim(notebookId)).toBe(false);
  });

  it('finishes the releases in flight before it closes, and opens no connection after (a server stopping)', async () => {
    const a = node();
    const notebookId = randomUUID();
    await a.claim(notebookId);
    const [released, checked] = [a.release(notebookId), a.heldElsewhere(randomUUID())];
    await a.close();
    await expect(released).resolves.toBeUndefined();
    await expect(checked).resolves.toBe(false);
    await expect(a.claim(notebookId)).rejects.toThrow(/closed/);
    const client = await admin();
    const open = await client.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [claimsConnectionName(schema)]);
    expect(open.rowCount).toBe(0);
    expect(await node().claim(notebookId)).toBe(true);
  });

  it('takes its claims back on a new connection when the database drops its connection', async () => {
    const a = node();
    const notebookId = randomUUID();
    await a.claim(notebookId);
    const client = await admin();
    const first = await holderOf(client, notebookId);
    // Waits until that backend has exited (its locks gone with it): without the wait, pg_locks could still show it.
    expect((await client.query('SELECT pg_terminate_backend($1, 10000) AS gone', [first])).rows[0].gone).toBe(true);
    await vi.waitFor(async () => expect(await holderOf(client, notebookId)).toEqual(expect.any(Number)), { timeout: 10_000, interval: 20 });
    expect(await holderOf(client, notebookId)).not.toBe(first);
    expect(await node().claim(notebookId)).toBe(false);
  });

  it('reports a claim that another connection took while its own was dropped', async () => {
    const lost: string[] = [];
    const a = node((notebookId) => lost.push(notebookId));
    const notebookId = randomUUID();
    await a.claim(notebookId);
    const client = await admin();
    // In one statement: end a's connection, then wait for its lock and take it before a can reconnect.
    await client.query('SELECT pg_terminate_backend($1), pg_advisory_lock($2, $3)', [await holderOf(client, notebookId), ...kernelClaimKeys(schema, notebookId)]);
    await vi.waitFor(() => expect(lost).toEqual([notebookId]), { timeout: 10_000, interval: 20 });
    // Forgotten, not still believed held: claiming again asks the database, where the other holds it.
    expect(await a.claim(notebookId)).toBe(false);
  });
});
