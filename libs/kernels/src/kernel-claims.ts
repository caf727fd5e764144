import { createHash } from 'node:crypto';
import { Client } from 'pg';

/**
 * Which node runs a kernel. A claim's subject is a stream name: `notebook:<id>` for a notebook's kernel (a
 * gateway keeps one kernel per notebook among its own; with several nodes on one database it must also run
 * on one node only, or two kernels would write into the same cells) and `kernel:<id>` for every kernel, so
 * that any node can tell whether a live node runs a kernel it is asked about by id.
 */
export abstract class KernelClaims {
  /** Claims the subject for this node; false when another node holds it. */
  abstract claim(subject: string): Promise<boolean>;
  /** Gives up this node's claim (its kernel stopped); a claim it does not hold is ignored. */
  abstract release(subject: string): Promise<void>;
  /** True when another node holds the subject. */
  abstract heldElsewhere(subject: string): Promise<boolean>;
  /** Gives up every claim. */
  abstract close(): Promise<void>;
}

/** A server alone on its store (SQLite): its gateway's own bookkeeping is all there is to it. */
export class SingleNodeClaims extends KernelClaims {
  claim(): Promise<boolean> {
    return Promise.resolve(true);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  heldElsewhere(): Promise<boolean> {
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The first key of our advisory locks ("PlKn"), so that they meet no one else's two-key locks. */
const LOCK_NAMESPACE = 0x506c4b6e;

/**
 * The two keys of the advisory lock that claims a subject (`notebook:<id>`, `kernel:<id>`): in `pg_locks`
 * (`locktype` advisory, `objsubid` 2) `classid` is the first and `objid` the second, read as unsigned; its
 * `pid` is the holder.
 */
export function kernelClaimKeys(schema: string, subject: string): [number, number] {
  return [LOCK_NAMESPACE, createHash('sha256').update(`${schema}/${subject}`).digest().readInt32BE(0)];
}

/** The `application_name` of a node's claims connection in `pg_stat_activity`. */
export function claimsConnectionName(schema: string): string {
  return `palimpsest kernel claims ${schema}`.slice(0, 63);
}

/**
 * Claims as PostgreSQL session-level advisory locks, held on one connection of this node for as long as the
 * kernel runs. A node that dies loses its connection, and the database frees its claims at once: no lease
 * to expire, no clock. Claims are keyed by schema and subject, so deployments sharing a database do not
 * meet. Should the connection drop while the node lives, a new one takes the claims again at once; a claim
 * it cannot take back (another node took it meanwhile, or the database is away) is reported to `onLost`.
 */
export class PostgresKernelClaims extends KernelClaims {
  private live: Client | null = null;
  private opening: Promise<Client> | null = null;
  private closing = false;
  private readonly claimed = new Set<string>();
  /** The operations in flight, in order: closing waits for them (ending a connection aborts its queued queries). */
  private operations: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly databaseUrl: string,
    private readonly schema: string,
    private readonly onLost: (subject: string, error?: unknown) => void,
  ) {
    super();
  }

  claim(subject: string): Promise<boolean> {
    return this.serialize(async () => {
      if (this.claimed.has(subject)) return true;
      if (!(await this.tryLock(await this.connection(), subject))) return false;
      this.claimed.add(subject);
      return true;
    });
  }

  release(subject: string): Promise<void> {
    return this.serialize(async () => {
      if (this.claimed.delete(subject)) await this.unlock(await this.connection(), subject);
    });
  }

  heldElsewhere(subject: string): Promise<boolean> {
    return this.serialize(async () => {
      if (this.claimed.has(subject)) return false;
      // One round trip: free means this connection could take the lock, which it gives back at once.
      const probe = 'SELECT CASE WHEN pg_try_advisory_lock($1, $2) THEN NOT pg_advisory_unlock($1, $2) ELSE true END AS held';
      const result = await (await this.connection()).query<{ held: boolean }>(probe, this.keys(subject));
      return result.rows[0].held;
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.operations;
    this.claimed.clear();
    const client = this.live ?? (await this.opening?.catch(() => null));
    this.live = null;
    await client?.end().catch(() => undefined);
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('the kernel claims of this node are closed'));
    const run = this.operations.then(operation, operation);
    this.operations = run.catch(() => undefined);
    return run;
  }

  private async tryLock(client: Client, subject: string): Promise<boolean> {
    const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', this.keys(subject));
    return result.rows[0].locked;
  }

  private async unlock(client: Client, subject: string): Promise<void> {
    await client.query('SELECT pg_advisory_unlock($1, $2)', this.keys(subject));
  }

  // A claim this node no longer holds: forgotten (a later claim asks the database again) and reported.
  private lost(subject: string, error?: unknown): void {
    this.claimed.delete(subject);
    this.onLost(subject, error);
  }

  private keys(subject: string): [number, number] {
    return kernelClaimKeys(this.schema, subject);
  }

  private connection(): Promise<Client> {
    if (this.live) return Promise.resolve(this.live);
    this.opening ??= this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  // Opens the connection that holds the claims, and takes back those a dropped one held.
  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: claimsConnectionName(this.schema) });
    client.on('error', (error) => {
      if (this.live !== client) return;
      this.live = null;
      if (this.closing) return;
      void this.connection().catch((reconnect: unknown) => {
        for (const subject of [...this.claimed]) this.lost(subject, reconnect ?? error);
      });
    });
    await client.connect();
    for (const subject of [...this.claimed]) {
      if (!(await this.tryLock(client, subject))) this.lost(subject);
    }
    this.live = client;
    return client;
  }
}
