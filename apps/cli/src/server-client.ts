import { io, type Socket } from 'socket.io-client';

/** How the online commands reach a server: its URL and either a token or a user and the secret to mint one. */
export interface ServerOptions {
  url?: string;
  token?: string;
  user?: string;
  secret?: string;
}

/** An error answer of the server, in the contract's shape. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** An event as the REST audit and `/events` deliver it. */
export interface ApiEvent {
  position: number;
  stream: string;
  version: number;
  type: string;
  actor: string;
  at: string;
  cell_ids: string[];
  data: unknown;
}

/** The server an online command talks to: `--url`, else PALIMPSEST_URL, else the local default port. */
export function serverUrl(options: ServerOptions): string {
  return (options.url ?? process.env.PALIMPSEST_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
}

/** A client of one server's public API (REST and Socket.IO), for the CLI's online commands. */
export class ServerClient {
  private constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /** Connects with `--token` (or PALIMPSEST_TOKEN), else mints a token for `--user` with the secret. */
  static async connect(options: ServerOptions): Promise<ServerClient> {
    const url = serverUrl(options);
    const token = options.token ?? process.env.PALIMPSEST_TOKEN;
    if (token) return new ServerClient(url, token);
    if (!options.user) throw new Error('give --token (or PALIMPSEST_TOKEN), or --user with the secret');
    return new ServerClient(url, await mintToken(url, options.user, options.secret));
  }

  /** Sends a request; an error answer becomes a ServerError. */
  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw await serverError(response);
    return response;
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }

  /** A Socket.IO connection to a namespace, authenticated; rejects when the handshake is refused. */
  socket(namespace: string): Promise<Socket> {
    const socket = io(`${this.url}${namespace}`, { auth: { token: this.token }, transports: ['websocket'] });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (error) => {
        socket.disconnect();
        reject(error);
      });
    });
  }
}

/** Mints a token through `POST /api/auth/token` on a server URL (as `serverUrl` gives it) with the secret (`--secret`, else PALIMPSEST_SECRET). */
export async function mintToken(url: string, user: string, secret = process.env.PALIMPSEST_SECRET, scope?: 'read'): Promise<string> {
  if (!secret) throw new Error('give the server secret with --secret or PALIMPSEST_SECRET');
  const response = await fetch(`${url}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, secret, ...(scope ? { scope } : {}) }),
  });
  if (!response.ok) throw await serverError(response);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function serverError(response: Response): Promise<ServerError> {
  const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
  return new ServerError(response.status, body.error ?? `HTTP_${response.status}`, body.message ?? response.statusText);
}
