import {
  DomainError,
  parseStreamId,
  type ForkOrigin,
  type JsonEventPayloads,
  type LoggedEvent,
  type NotebookRole,
} from '@palimpsest/contracts';

/** What the catalog knows of one notebook. */
export interface CatalogEntry {
  id: string;
  name: string;
  owner: string;
  members: Map<string, Exclude<NotebookRole, 'owner'>>;
  deleted: boolean;
  /** The notebook stream's version: the position of its latest event within the stream. */
  version: number;
  createdAt: number;
  /** Global position of the last event applied, so replays are idempotent. */
  position: number;
  /** The notebook and version this one was forked from, when it is a fork. */
  forkedFrom?: ForkOrigin;
}

function payload<T extends keyof JsonEventPayloads>(event: LoggedEvent): JsonEventPayloads[T] {
  return (event.payload.encoding === 'json' ? event.payload.json : {}) as JsonEventPayloads[T];
}

/**
 * Pure projection step: the catalog entry after one event of a notebook stream. Events of other
 * streams, and events already applied (by position), leave it unchanged.
 */
export function evolveCatalogEntry(entry: CatalogEntry | undefined, event: LoggedEvent): CatalogEntry | undefined {
  const stream = parseStreamId(event.stream);
  if (stream?.kind !== 'notebook') return entry;
  if (entry && event.position <= entry.position) return entry;
  if (event.type === 'notebook.created') {
    const { name, owner, forked_from: forkedFrom } = payload<'notebook.created'>(event);
    const created: CatalogEntry = { id: stream.id, name, owner, members: new Map(), deleted: false, version: event.version, createdAt: event.recordedAt, position: event.position };
    return forkedFrom ? { ...created, forkedFrom } : created;
  }
  if (!entry) return entry;
  const next: CatalogEntry = { ...entry, version: event.version, position: event.position };
  if (event.type === 'notebook.member.granted') {
    const { user, role } = payload<'notebook.member.granted'>(event);
    next.members = new Map(entry.members).set(user, role);
  } else if (event.type === 'notebook.member.revoked') {
    next.members = new Map(entry.members);
    next.members.delete(payload<'notebook.member.revoked'>(event).user);
  } else if (event.type === 'notebook.deleted') {
    next.deleted = true;
  }
  return next;
}

/** The in-memory catalog of notebooks, their members and versions: a projection of the log. */
export class NotebookCatalog {
  private readonly entries = new Map<string, CatalogEntry>();

  /** Applies committed events (any streams, in global order). */
  apply(events: readonly LoggedEvent[]): void {
    for (const event of events) {
      const stream = parseStreamId(event.stream);
      if (stream?.kind !== 'notebook') continue;
      const next = evolveCatalogEntry(this.entries.get(stream.id), event);
      if (next) this.entries.set(stream.id, next);
    }
  }

  /** The entry of a live notebook; NOT_FOUND for unknown or deleted ids. */
  get(notebookId: string): CatalogEntry {
    const entry = this.entries.get(notebookId);
    if (!entry || entry.deleted) throw new DomainError('NOT_FOUND', `no notebook ${notebookId}`);
    return entry;
  }

  /** The entry whatever its state (deleted included), or undefined. */
  find(notebookId: string): CatalogEntry | undefined {
    return this.entries.get(notebookId);
  }

  /** The user's role in a live notebook, or null; NOT_FOUND for unknown or deleted ids. */
  roleOf(notebookId: string, user: string): NotebookRole | null {
    const entry = this.get(notebookId);
    if (entry.owner === user) return 'owner';
    return entry.members.get(user) ?? null;
  }

  /** Sets every notebook's version from the store (at boot, when only catalog events were replayed). */
  async refreshVersions(streamVersion: (stream: string) => Promise<number>): Promise<void> {
    for (const [id, entry] of this.entries) {
      this.entries.set(id, { ...entry, version: Math.max(entry.version, await streamVersion(`notebook:${id}`)) });
    }
  }

  /** Live notebooks the user holds a role in, with that role. */
  visibleTo(user: string): Array<{ entry: CatalogEntry; role: NotebookRole }> {
    const result: Array<{ entry: CatalogEntry; role: NotebookRole }> = [];
    for (const entry of this.entries.values()) {
      if (entry.deleted) continue;
      const role = entry.owner === user ? 'owner' : entry.members.get(user);
      if (role) result.push({ entry, role });
    }
    return result.sort((a, b) => a.entry.createdAt - b.entry.createdAt);
  }
}
