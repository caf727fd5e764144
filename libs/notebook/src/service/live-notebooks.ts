import { notebookStream } from '@palimpsest/contracts';
import type { EventStore } from '@palimpsest/event-store';
import * as Y from 'yjs';
import { encodeCheckpoint, REPLAY_ORIGIN } from '../replay/rebuild-doc.js';

/** A notebook's live document and the stream version it reflects. */
export interface LiveNotebook {
  id: string;
  doc: Y.Doc;
  /** Every event of the stream up to this version has been applied to `doc`. */
  version: number;
  /** Version of the newest checkpoint stored for this stream. */
  checkpointVersion: number;
  /** Global position of the event at `version` (0 when unknown). */
  position: number;
  /** Appends of local updates already applied to `doc` that have not resolved yet. */
  inFlight: Set<Promise<unknown>>;
}

/** Options of the live document registry. */
export interface LiveNotebooksOptions {
  /** Store a checkpoint once this many events have accumulated since the last one (default 500). */
  checkpointEvery?: number;
  /** Unload a document this many ms after its last use while nothing retains it (default 30 s). */
  unloadDelayMs?: number;
}

/** Reads a notebook stream's Yjs updates between two versions (inclusive) and applies them to a doc. */
async function applyStream(store: EventStore, stream: string, doc: Y.Doc, from: number, to?: number): Promise<{ version: number; position: number } | null> {
  const events = await store.readStream(stream, from, to);
  for (const event of events) {
    if (event.payload.encoding === 'yjs') Y.applyUpdate(doc, event.payload.bytes, REPLAY_ORIGIN);
  }
  const last = events.at(-1);
  return last ? { version: last.version, position: last.position } : null;
}

/** Rebuilds a notebook document as of a stream version: the nearest checkpoint, then the events after it. */
export async function documentAt(store: EventStore, notebookId: string, version: number): Promise<Y.Doc> {
  const stream = notebookStream(notebookId);
  const checkpoint = await store.latestCheckpoint(stream, version);
  const doc = new Y.Doc();
  if (checkpoint) Y.applyUpdate(doc, checkpoint.state, REPLAY_ORIGIN);
  await applyStream(store, stream, doc, (checkpoint?.version ?? 0) + 1, version);
  return doc;
}

/**
 * The live documents of notebooks in use, each serialized behind its own queue. Every operation
 * first catches its document up with the stream (so it reflects writes from kernels and other
 * nodes), runs, and may store a checkpoint so that loading stays fast however long the history.
 */
export class LiveNotebooks {
  private readonly live = new Map<string, LiveNotebook>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly checkpointEvery: number;
  private readonly unloadDelayMs: number;
  /** How many holders (live rooms) keep each document loaded. */
  private readonly holders = new Map<string, number>();
  private readonly unloadTimers = new Map<string, NodeJS.Timeout>();
  private readonly unloadWaiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly store: EventStore,
    options: LiveNotebooksOptions = {},
  ) {
    this.checkpointEvery = options.checkpointEvery ?? 500;
    this.unloadDelayMs = options.unloadDelayMs ?? 30_000;
  }

  /** Runs `operation` on the caught-up live notebook, after every operation queued before it. */
  withNotebook<T>(notebookId: string, operation: (notebook: LiveNotebook) => Promise<T> | T): Promise<T> {
    return this.enqueue(notebookId, async () => operation(await this.catchUp(notebookId)));
  }

  /**
   * Like withNotebook, for reads that show the document to someone: it first waits for the appends
   * still in flight, so what is read is durable and `version` names exactly that content.
   */
  readNotebook<T>(notebookId: string, operation: (notebook: LiveNotebook) => Promise<T> | T): Promise<T> {
    return this.enqueue(notebookId, async () => {
      let notebook = await this.catchUp(notebookId);
      while (notebook.inFlight.size > 0) {
        await Promise.allSettled([...notebook.inFlight]);
        notebook = await this.catchUp(notebookId);
      }
      return operation(notebook);
    });
  }

  /** Keeps a document loaded (a room with connected clients) until the matching `release`. */
  retain(notebookId: string): void {
    this.holders.set(notebookId, (this.holders.get(notebookId) ?? 0) + 1);
    clearTimeout(this.unloadTimers.get(notebookId));
    this.unloadTimers.delete(notebookId);
  }

  /** Drops one hold; with none left, the document unloads after the delay unless used again. */
  release(notebookId: string): void {
    const left = (this.holders.get(notebookId) ?? 1) - 1;
    if (left > 0) return void this.holders.set(notebookId, left);
    this.holders.delete(notebookId);
    this.scheduleUnload(notebookId);
  }

  /** True while the notebook's document is in memory. */
  isLoaded(notebookId: string): boolean {
    return this.live.has(notebookId);
  }

  /** How many documents are in memory. */
  get loadedCount(): number {
    return this.live.size;
  }

  /** Resolves the next time the notebook's document is unloaded for idleness. */
  unloaded(notebookId: string): Promise<void> {
    return new Promise((resolve) => this.unloadWaiters.set(notebookId, [...(this.unloadWaiters.get(notebookId) ?? []), resolve]));
  }

  /** Runs `task` after every operation queued on the notebook before it. */
  private enqueue<T>(notebookId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(notebookId) ?? Promise.resolve();
    const run = previous.then(task);
    const settled = run.catch(() => undefined);
    this.queues.set(notebookId, settled);
    void settled.then(() => {
      if (this.queues.get(notebookId) === settled) this.queues.delete(notebookId);
      this.scheduleUnload(notebookId);
    });
    return run;
  }

  /** (Re)arms the idle timer of a loaded document nothing retains. */
  private scheduleUnload(notebookId: string): void {
    if (this.holders.has(notebookId) || !this.live.has(notebookId)) return;
    clearTimeout(this.unloadTimers.get(notebookId));
    const timer = setTimeout(() => {
      this.unloadTimers.delete(notebookId);
      void this.enqueue(notebookId, () => Promise.resolve(this.unloadIdle(notebookId)));
    }, this.unloadDelayMs);
    timer.unref();
    this.unloadTimers.set(notebookId, timer);
  }

  /** Frees an idle document, unless it was retained or used again meanwhile. */
  private unloadIdle(notebookId: string): void {
    if (this.holders.has(notebookId) || this.unloadTimers.has(notebookId)) return;
    this.evict(notebookId);
    for (const resolve of this.unloadWaiters.get(notebookId) ?? []) resolve();
    this.unloadWaiters.delete(notebookId);
  }

  /** Drops a live document (after a failed append left it ahead of the log); the next use reloads it. */
  evict(notebookId: string): void {
    this.live.get(notebookId)?.doc.destroy();
    this.live.delete(notebookId);
  }

  /** Records that the stream reached `version` with this process's own update already in the doc. */
  advance(notebook: LiveNotebook, version: number, position: number): void {
    if (version !== notebook.version + 1) return;
    notebook.version = version;
    notebook.position = position;
  }

  /**
   * Appends a local update already applied to the doc, without holding the notebook's queue: the
   * next operation may apply and append its own update meanwhile, so one notebook's updates share
   * group commits. The store keeps their order. A failed append drops the doc (reloaded from the log).
   */
  async appendApplied<T extends { version: number; positions: number[] }>(notebook: LiveNotebook, append: () => Promise<T>): Promise<T> {
    const appended = append();
    notebook.inFlight.add(appended);
    try {
      const result = await appended;
      this.advance(notebook, result.version, result.positions[result.positions.length - 1]);
      return result;
    } catch (error) {
      this.evict(notebook.id);
      throw error;
    } finally {
      notebook.inFlight.delete(appended);
    }
  }

  /**
   * Stores a checkpoint when enough events have accumulated since the last one. Only called right
   * after a catch-up with no local append in flight: then the doc is exactly the stream up to `version`.
   */
  private async maybeCheckpoint(notebook: LiveNotebook): Promise<void> {
    if (notebook.inFlight.size > 0 || notebook.version - notebook.checkpointVersion < this.checkpointEvery) return;
    await this.store.saveCheckpoint({
      stream: notebookStream(notebook.id),
      version: notebook.version,
      position: notebook.position,
      state: encodeCheckpoint(notebook.doc),
    });
    notebook.checkpointVersion = notebook.version;
  }

  private async catchUp(notebookId: string): Promise<LiveNotebook> {
    let notebook = this.live.get(notebookId);
    if (!notebook) {
      const stream = notebookStream(notebookId);
      const checkpoint = await this.store.latestCheckpoint(stream);
      const doc = new Y.Doc();
      if (checkpoint) Y.applyUpdate(doc, checkpoint.state, REPLAY_ORIGIN);
      const at = checkpoint?.version ?? 0;
      notebook = { id: notebookId, doc, version: at, checkpointVersion: at, position: checkpoint?.position ?? 0, inFlight: new Set() };
      this.live.set(notebookId, notebook);
    }
    const reached = await applyStream(this.store, notebookStream(notebookId), notebook.doc, notebook.version + 1);
    if (reached && reached.version > notebook.version) {
      notebook.version = reached.version;
      notebook.position = reached.position;
    }
    await this.maybeCheckpoint(notebook);
    return notebook;
  }

  /** Releases every live document and stops the idle timers. */
  clear(): void {
    for (const timer of this.unloadTimers.values()) clearTimeout(timer);
    this.unloadTimers.clear();
    for (const id of [...this.live.keys()]) this.evict(id);
  }
}
