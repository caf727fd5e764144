import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { mintToken, ServerClient, serverUrl, type ApiEvent, type ServerOptions } from './server-client.js';

/** Where an online command writes its results. */
export type Out = (line: string) => void;

/** `palimpsest token`: mints a token for a user (read-only with `read`) and prints it. */
export async function runToken(options: ServerOptions & { read?: boolean }, out: Out): Promise<void> {
  if (!options.user) throw new Error('give --user');
  out(await mintToken(serverUrl(options), options.user, options.secret, options.read ? 'read' : undefined));
}

/** `palimpsest notebooks`: one line per notebook the user may read: id, role, version, name (tab-separated). */
export async function runNotebooks(options: ServerOptions, out: Out): Promise<void> {
  const client = await ServerClient.connect(options);
  const { notebooks } = await client.json<{ notebooks: Array<{ id: string; name: string; version: number; role: string }> }>('GET', '/api/notebooks');
  for (const notebook of notebooks) out([notebook.id, notebook.role, notebook.version, notebook.name].join('\t'));
}

/** `palimpsest export`: the notebook as an `.ipynb` file, now or `at` a version or ISO time, to a file or stdout. */
export async function runExport(notebookId: string, options: ServerOptions & { at?: string; output?: string }, out: Out): Promise<void> {
  const client = await ServerClient.connect(options);
  const query = options.at === undefined ? '' : `?at=${encodeURIComponent(options.at)}`;
  const file = await (await client.request('GET', `/api/notebooks/${encodeURIComponent(notebookId)}/ipynb${query}`)).text();
  if (options.output) writeFileSync(options.output, file);
  else out(file.trimEnd());
}

/** `palimpsest import`: creates a notebook from an `.ipynb` file (validated by the server) and prints its id and version. */
export async function runImport(path: string, options: ServerOptions & { name?: string }, out: Out): Promise<void> {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not a JSON notebook: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const client = await ServerClient.connect(options);
  const created = await client.json<{ id: string; version: number }>('POST', '/api/notebooks', { name: options.name ?? basename(path), content });
  out(`${created.id}\t${created.version}`);
}

/**
 * `palimpsest events`: the notebook's events after a position as NDJSON, page by page; with `follow`,
 * through the `/events` subscription instead, which goes on with live events (no gap, no duplicate)
 * until `stop` resolves (Ctrl-C).
 */
export async function runEvents(
  notebookId: string,
  options: ServerOptions & { after?: string; follow?: boolean },
  out: Out,
  stop: Promise<void>,
): Promise<void> {
  const after = options.after === undefined ? 0 : Number(options.after);
  if (!Number.isSafeInteger(after) || after < 0) throw new Error('--after must be a position (an integer ≥ 0)');
  const client = await ServerClient.connect(options);
  if (!options.follow) {
    const path = `/api/notebooks/${encodeURIComponent(notebookId)}/events?limit=1000`;
    for (let next: number | null = after; next !== null; ) {
      const page: { events: ApiEvent[]; next: number | null } = await client.json('GET', `${path}&after=${next}`);
      for (const event of page.events) out(JSON.stringify(event));
      next = page.next;
    }
    return;
  }
  const socket = await client.socket('/events');
  try {
    let last = after;
    socket.on('event', (event: ApiEvent) => {
      last = event.position;
      out(JSON.stringify(event));
    });
    // A dropped connection resubscribes after the last event printed, so nothing is missed or repeated.
    const subscribe = async () => {
      const ack = (await socket.emitWithAck('subscribe', { notebook_id: notebookId, after: last })) as { ok: boolean; error?: string; message?: string };
      if (!ack.ok) throw new Error(`${ack.error}: ${ack.message}`);
    };
    socket.io.on('reconnect', () => void subscribe().catch((error: Error) => process.stderr.write(`palimpsest: ${error.message}\n`)));
    await subscribe();
    await stop;
  } finally {
    socket.disconnect();
  }
}
