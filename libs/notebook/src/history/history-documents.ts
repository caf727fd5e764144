import type { INotebookContent } from '@jupyterlab/nbformat';
import { notebookStream } from '@palimpsest/contracts';
import { readStreamPages, type EventStore } from '@palimpsest/event-store';
import { exportNotebook } from '../model/export-notebook.js';
import { documentAt } from '../service/live-notebooks.js';
import { HistoryDocument } from './history-document.js';

/** Options of the history documents kept in memory. */
export interface HistoryDocumentsOptions {
  /** Estimated heap bytes all history documents may hold together; the least recently read go first (default 256 MiB). */
  maxBytes?: number;
  /** Most events a read waits to have applied; past that, a checkpoint rebuild serves it while the document catches up in the background (default 2,000). */
  maxWaitEvents?: number;
  /** Events read per page while building or catching up (default 500: short enough not to hold the event loop long). */
  pageSize?: number;
}

/** One notebook's history document and the catch-up running on it, if any. */
interface Entry {
  history: HistoryDocument;
  catchUp: { target: number; done: Promise<void> } | null;
}

/**
 * Per-notebook history documents, in a small LRU bounded by estimated bytes: built from the log on
 * the first time-travel read of a notebook, caught up with new events on later reads. A read that
 * would wait for many events (a cold build of a long history) is left to the checkpoint rebuild
 * while the document is built in the background.
 */
export class HistoryDocuments {
  private readonly entries = new Map<string, Entry>();
  /** Notebooks whose history does not fit the budget or could not be applied: always rebuilt from checkpoints. */
  private readonly excluded = new Set<string>();
  private readonly maxBytes: number;
  private readonly maxWaitEvents: number;
  private readonly pageSize: number;

  constructor(
    private readonly store: EventStore,
    options: HistoryDocumentsOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxWaitEvents = options.maxWaitEvents ?? 2000;
    this.pageSize = options.pageSize ?? 500;
  }

  /** The notebook at a stream version (which must exist), from its history document; null when that would wait too long or is not possible. */
  async contentAt(notebookId: string, version: number): Promise<INotebookContent | null> {
    if (this.excluded.has(notebookId)) return null;
    let entry = this.entries.get(notebookId);
    if (!entry) this.entries.set(notebookId, (entry = { history: new HistoryDocument(), catchUp: null }));
    while (entry.history.version < version) {
      const running = entry.catchUp;
      if (running) {
        if (running.target - entry.history.version > this.maxWaitEvents) return null;
        await running.done.catch(() => undefined);
      } else if (version - entry.history.version > this.maxWaitEvents) {
        void this.catchUp(notebookId, entry, 'head').catch(() => undefined);
        return null;
      } else {
        await this.catchUp(notebookId, entry, version).catch(() => undefined);
        if (entry.history.version < version) return null;
      }
      if (this.entries.get(notebookId) !== entry) return null;
    }
    // Most recently read last: the eviction order.
    this.entries.delete(notebookId);
    this.entries.set(notebookId, entry);
    return entry.history.contentAt(version);
  }

  /**
   * A notebook's content at a stream version: from its history document when that is ready (or
   * nearly), otherwise rebuilt from the nearest checkpoint and the events after it (`documentAt`).
   */
  async read(notebookId: string, version: number): Promise<INotebookContent> {
    try {
      const content = await this.contentAt(notebookId, version);
      if (content) return content;
    } catch {
      // Content the snapshot export does not read (or a failed read): the rebuild below is authoritative.
    }
    const doc = await documentAt(this.store, notebookId, version);
    try {
      return exportNotebook(doc);
    } finally {
      doc.destroy();
    }
  }

  /** Builds or catches up the notebook's history document to the stream's head and waits for it; false when it cannot be kept. */
  async warm(notebookId: string): Promise<boolean> {
    if (this.excluded.has(notebookId)) return false;
    let entry = this.entries.get(notebookId);
    if (!entry) this.entries.set(notebookId, (entry = { history: new HistoryDocument(), catchUp: null }));
    await entry.catchUp?.done.catch(() => undefined);
    if (this.entries.get(notebookId) !== entry) return false;
    await this.catchUp(notebookId, entry, 'head').catch(() => undefined);
    return this.entries.get(notebookId) === entry;
  }

  /** Estimated heap bytes held by all history documents. */
  get estimatedBytes(): number {
    let bytes = 0;
    for (const { history } of this.entries.values()) bytes += history.estimatedBytes();
    return bytes;
  }

  /** How many notebooks have a history document. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every history document. */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.drop(id);
    this.excluded.clear();
  }

  /** Applies the stream's events after the document's version up to `target` (the head when asked), page by page. */
  private catchUp(notebookId: string, entry: Entry, target: number | 'head'): Promise<void> {
    const run = async (): Promise<void> => {
      const stream = notebookStream(notebookId);
      const to = target === 'head' ? await this.store.streamVersion(stream) : target;
      if (entry.catchUp) entry.catchUp.target = to;
      for await (const page of readStreamPages(this.store, stream, entry.history.version + 1, to, this.pageSize)) {
        if (this.entries.get(notebookId) !== entry) return;
        try {
          for (const event of page) entry.history.apply(event);
        } catch (error) {
          // An update the document cannot take: this notebook is rebuilt from checkpoints from now on.
          this.excluded.add(notebookId);
          throw error;
        }
        this.enforceBudget(notebookId);
      }
    };
    const done = run()
      .catch((error: unknown) => {
        if (this.entries.get(notebookId) === entry) this.drop(notebookId);
        throw error;
      })
      .finally(() => {
        entry.catchUp = null;
      });
    entry.catchUp = { target: target === 'head' ? Number.MAX_SAFE_INTEGER : target, done };
    return done;
  }

  /** Evicts the least recently read documents until the total fits; a document that alone does not fit is excluded. */
  private enforceBudget(current: string): void {
    let total = this.estimatedBytes;
    for (const [id, { history }] of this.entries) {
      if (total <= this.maxBytes) return;
      if (id === current) continue;
      total -= history.estimatedBytes();
      this.drop(id);
    }
    if (total > this.maxBytes) {
      this.drop(current);
      this.excluded.add(current);
    }
  }

  private drop(notebookId: string): void {
    this.entries.get(notebookId)?.history.destroy();
    this.entries.delete(notebookId);
  }
}
