import type { ICell, INotebookContent } from '@jupyterlab/nbformat';
import {
  DomainError,
  notebookStream,
  type DocChange,
  type EventMetadata,
  type JsonEventPayloads,
  type NotebookRole,
} from '@palimpsest/contracts';
import type { EventStore, ExpectedVersion, NewEvent } from '@palimpsest/event-store';
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { changedCellIds, eventTypeFor, storedChangeFields } from '../changes/event-type.js';
import { isEmptyUpdate, mergeCollaboratorUpdate, type CollaboratorResult } from '../collab/collaborator-update.js';
import type { CatalogEntry, NotebookCatalog } from '../catalog/notebook-catalog.js';
import { deleteCell, insertCell, moveCell, updateCell, type CellPatch, type NewCell } from '../commands/cell-commands.js';
import { loadNotebook } from '../commands/notebook-commands.js';
import type { CommandResult } from '../commands/run-command.js';
import { settleRunningCells } from '../commands/sync-outputs.js';
import { joinCellLines, joinNotebookLines } from '../ipynb/multiline.js';
import { describeProblems, validateNotebook, type CellIdRename, type GeneratedCellId } from '../ipynb/validate-notebook.js';
import { exportCell, exportNotebook } from '../model/export-notebook.js';
import { findCell } from '../model/notebook-doc.js';
import { cellSource } from '../history/cell-history.js';
import { HistoryDocuments, type HistoryDocumentsOptions } from '../history/history-documents.js';
import { LiveNotebooks, type LiveNotebook, type LiveNotebooksOptions } from './live-notebooks.js';

/** A point in a notebook's history: a stream version, or an ISO-8601 time. */
export type HistoryPoint = { version: number } | { time: number };

/** The notebook an empty `POST /api/notebooks` creates. */
const EMPTY_NOTEBOOK: INotebookContent = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };

/** A notebook as the API returns it. */
export interface NotebookSnapshot {
  id: string;
  name: string;
  version: number;
  /** Global log position of the event at `version`: `/events` `subscribe` with `after: position` follows this snapshot with no gap. */
  position?: number;
  content: INotebookContent;
}

/** Who is acting, and for what correlation (execution ids, client ids). */
export interface Actor {
  actor: string;
  extra?: Record<string, unknown>;
}

/** A live collaborator: the acting user and the id of its connection (`client_id` in event metadata). */
export interface Collaborator extends Actor {
  clientId: string;
}

/** What became of a collaborator's update. */
export interface CollaboratorUpdateResult {
  /** The stream version after it (unchanged when the update brought nothing new). */
  version: number;
  /** False when the document already held everything in it: nothing was appended. */
  appended: boolean;
  /** Cell ids whose duplicate copies the server removed along with it. */
  repaired: string[];
}

/** Options of the notebook service. */
export interface NotebookServiceOptions extends LiveNotebooksOptions {
  /** Largest accepted collaborator update in bytes (PAYLOAD_TOO_LARGE beyond; default 1 MiB). */
  maxUpdateBytes?: number;
  /** The in-memory history documents that serve time travel (their memory budget). */
  history?: HistoryDocumentsOptions;
}

/**
 * Notebook commands and queries: every change becomes an event in `notebook:<id>` (Yjs updates
 * for the document, JSON for the catalog), appended before anyone else sees it.
 */
export class NotebookService {
  readonly live: LiveNotebooks;
  /** Time travel's history documents (read at any past version without a rebuild). */
  readonly history: HistoryDocuments;
  private readonly maxUpdateBytes: number;

  constructor(
    private readonly store: EventStore,
    private readonly catalog: NotebookCatalog,
    options: NotebookServiceOptions = {},
  ) {
    this.live = new LiveNotebooks(store, options);
    this.history = new HistoryDocuments(store, options.history);
    this.maxUpdateBytes = options.maxUpdateBytes ?? 1024 * 1024;
  }

  /** Creates a notebook (empty, or from nbformat v4 content); 422 names what is wrong with invalid content. */
  async create(
    owner: string,
    name: string,
    content?: unknown,
  ): Promise<{ id: string; name: string; version: number; renamed: CellIdRename[]; generated_ids: GeneratedCellId[] }> {
    const validation = validateNotebook(content ?? EMPTY_NOTEBOOK);
    if (!validation.ok) {
      throw new DomainError('INVALID_NOTEBOOK', describeProblems(validation.problems), { problems: validation.problems });
    }
    const id = randomUUID();
    const doc = new Y.Doc();
    const loaded = loadNotebook(doc, validation.notebook);
    doc.destroy();
    const base: EventMetadata = { actor: owner, cell_ids: [], notebook_id: id };
    const result = await this.store.append({
      stream: notebookStream(id),
      expectedVersion: 'no_stream',
      events: [
        { type: 'notebook.created', payload: { encoding: 'json', json: { name, owner } }, metadata: base },
        {
          type: 'notebook.content.imported',
          payload: { encoding: 'yjs', bytes: loaded.update },
          metadata: { ...base, cell_ids: changedCellIds(loaded.changes), changes: loaded.changes, description: `imported ${name}` },
        },
      ],
    });
    await this.store.settled();
    return { id, name, version: result.version, renamed: validation.renamed, generated_ids: validation.generatedIds };
  }

  /** The notebooks a user holds a role in. */
  list(user: string): Array<{ id: string; name: string; version: number; role: NotebookRole }> {
    return this.catalog.visibleTo(user).map(({ entry, role }) => ({ id: entry.id, name: entry.name, version: entry.version, role }));
  }

  /** The catalog entry of a live notebook (404 for unknown or deleted). */
  entry(notebookId: string): CatalogEntry {
    return this.catalog.get(notebookId);
  }

  /** The notebook now or at a past point, in the API form (multiline strings joined, as jupyter_server returns them). */
  async get(notebookId: string, at?: HistoryPoint): Promise<NotebookSnapshot> {
    const snapshot = await this.exportFile(notebookId, at);
    return { ...snapshot, content: joinNotebookLines(snapshot.content) };
  }

  /** The notebook now, or as it was at a past point (its history document, else nearest checkpoint plus the events after it), in the `.ipynb` file form. */
  async exportFile(notebookId: string, at?: HistoryPoint): Promise<NotebookSnapshot> {
    const { name } = this.catalog.get(notebookId);
    if (at === undefined) {
      return this.live.readNotebook(notebookId, (notebook) => ({
        id: notebookId,
        name,
        version: notebook.version,
        ...(notebook.position > 0 ? { position: notebook.position } : {}),
        content: exportNotebook(notebook.doc),
      }));
    }
    const version = await this.resolvePoint(notebookId, at);
    const [event] = await this.store.readStream(notebookStream(notebookId), version, version);
    return { id: notebookId, name, version, ...(event ? { position: event.position } : {}), content: await this.history.read(notebookId, version) };
  }

  /** One cell of the current notebook. */
  getCell(notebookId: string, cellId: string): Promise<{ cell: ICell; version: number }> {
    this.catalog.get(notebookId);
    return this.live.readNotebook(notebookId, (notebook) => ({ cell: joinCellLines(exportCell(notebook.doc, cellId)), version: notebook.version }));
  }

  /**
   * A cell's type and source as the live document holds them now, for an execution: what the editors
   * see, including edits whose commit is still in flight (the execute_request logs the code it ran).
   */
  cellToExecute(notebookId: string, cellId: string): Promise<{ cellType: unknown; source: string }> {
    this.catalog.get(notebookId);
    return this.live.withNotebook(notebookId, ({ doc }) => {
      const { cell } = findCell(doc, cellId);
      return { cellType: cell.get('cell_type'), source: cellSource(doc, cellId) ?? '' };
    });
  }

  /** Inserts a cell. */
  insertCell(notebookId: string, who: Actor, input: NewCell, expected?: number): Promise<{ cell: ICell; version: number }> {
    return this.change(notebookId, who, expected, (doc) => {
      const result = insertCell(doc, input);
      return { ...result, reply: (version: number) => ({ cell: joinCellLines(result.cell), version }) };
    });
  }

  /** Changes a cell's source, metadata or type. */
  updateCell(notebookId: string, who: Actor, cellId: string, patch: CellPatch, expected?: number): Promise<{ cell: ICell; version: number }> {
    return this.change(notebookId, who, expected, (doc) => {
      const result = updateCell(doc, cellId, patch);
      return { ...result, reply: (version: number) => ({ cell: joinCellLines(result.cell), version }) };
    });
  }

  /** Moves a cell to a new index, keeping its id. */
  moveCell(notebookId: string, who: Actor, cellId: string, index: number, expected?: number): Promise<{ cell: ICell; version: number }> {
    return this.change(notebookId, who, expected, (doc) => {
      const result = moveCell(doc, cellId, index);
      return { ...result, reply: (version: number) => ({ cell: joinCellLines(exportCell(doc, cellId)), version }) };
    });
  }

  /** Deletes a cell. */
  deleteCell(notebookId: string, who: Actor, cellId: string, expected?: number): Promise<{ version: number }> {
    return this.change(notebookId, who, expected, (doc) => ({ ...deleteCell(doc, cellId), reply: (version: number) => ({ version }) }));
  }

  /** Marks these cells, where still shown as running, as idle, for when their kernel is gone (its server crashed); answers the version. */
  settleRunningCells(notebookId: string, cellIds: readonly string[], actor: string): Promise<number> {
    return this.change(notebookId, { actor }, undefined, (doc) => ({ ...settleRunningCells(doc, actor, new Set(cellIds)), reply: (version: number) => version }));
  }

  /**
   * Runs a document command and appends its update: the generic write path that REST, kernels and
   * collaborators share. `command` must validate before it mutates (a Yjs change cannot be undone);
   * if the append then fails, the live document is dropped and reloaded from the log.
   */
  async change<T>(
    notebookId: string,
    who: Actor,
    expected: number | undefined,
    command: (doc: Y.Doc) => CommandResult & { reply(version: number): T },
  ): Promise<T> {
    this.catalog.get(notebookId);
    const staged = await this.live.withNotebook(notebookId, async (notebook) => {
      if (expected !== undefined && expected !== notebook.version) {
        throw new DomainError('VERSION_CONFLICT', `notebook ${notebookId} is at version ${notebook.version}, expected ${expected}`, {
          expected_version: expected,
          current_version: notebook.version,
        });
      }
      const result = command(notebook.doc);
      // An update can change the doc without a visible change (typing into a concurrently deleted cell):
      // it is still logged, or the live doc would hold structs the log lacks.
      if (result.changes.length === 0 && isEmptyUpdate(result.update)) return { result, version: Promise.resolve(notebook.version) };
      const version = this.appendUpdate(notebook, who, result.update, result.changes, expected ?? 'any');
      // A write with an expected version holds the queue until it commits, so the next check sees its version.
      if (expected !== undefined) await version;
      return { result, version };
    });
    return staged.result.reply(await staged.version);
  }

  /**
   * Applies a collaborator's Yjs update (the caller checked the edit right): BAD_REQUEST when malformed,
   * PAYLOAD_TOO_LARGE beyond the limit; then appends what it changed as one event with the client id,
   * before it reaches anyone else (rooms broadcast the committed log).
   */
  applyCollaboratorUpdate(notebookId: string, who: Collaborator, update: Uint8Array): Promise<CollaboratorUpdateResult> {
    if (update.byteLength > this.maxUpdateBytes) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `a Yjs update may have at most ${this.maxUpdateBytes} bytes, this one has ${update.byteLength}`);
    }
    const extra: Record<string, unknown> = { ...who.extra, client_id: who.clientId };
    return this.change(notebookId, { actor: who.actor, extra }, undefined, (doc) => {
      const result = this.mergeOrEvict(notebookId, doc, update, who.clientId);
      if (result.repaired.length > 0) extra.repaired_cell_ids = result.repaired;
      const appended = result.changes.length > 0 || !isEmptyUpdate(result.update);
      return { ...result, reply: (version: number) => ({ version, appended, repaired: result.repaired }) };
    });
  }

  /** Logs that a collaborator joined or left the notebook's live room (awareness itself is never logged). */
  async recordClient(notebookId: string, who: Collaborator, presence: 'joined' | 'left', transport: JsonEventPayloads['notebook.client.joined']['transport']): Promise<void> {
    await this.appendCatalogEvent(notebookId, {
      type: `notebook.client.${presence}`,
      payload: { encoding: 'json', json: { client_id: who.clientId, transport } },
      metadata: { actor: who.actor, cell_ids: [], notebook_id: notebookId, client_id: who.clientId },
    });
  }

  /** Merges an update; one that fails halfway (it decoded, yet Yjs threw) leaves the doc unknown, so it is reloaded. */
  private mergeOrEvict(notebookId: string, doc: Y.Doc, update: Uint8Array, origin: string): CollaboratorResult {
    try {
      return mergeCollaboratorUpdate(doc, update, origin);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      this.live.evict(notebookId);
      throw new DomainError('BAD_REQUEST', `the Yjs update could not be applied: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Sync step 1 answered from the live document: what the peer lacks, and the server's state vector. */
  syncState(notebookId: string, stateVector: Uint8Array): Promise<{ update: Uint8Array; stateVector: Uint8Array }> {
    this.catalog.get(notebookId);
    return this.live.readNotebook(notebookId, ({ doc }) => {
      try {
        return { update: Y.encodeStateAsUpdate(doc, stateVector), stateVector: Y.encodeStateVector(doc) };
      } catch {
        throw new DomainError('BAD_REQUEST', 'malformed Yjs state vector');
      }
    });
  }

  /** Deletes a notebook (owner only, checked by the caller); its history stays in the log. */
  async delete(notebookId: string, actor: string): Promise<void> {
    this.catalog.get(notebookId);
    await this.appendCatalogEvent(notebookId, { type: 'notebook.deleted', payload: { encoding: 'json', json: {} }, metadata: { actor, cell_ids: [], notebook_id: notebookId } });
    this.live.evict(notebookId);
  }

  /** Grants a user the editor or viewer role (the owner's own role cannot change). */
  async setMember(notebookId: string, actor: string, user: string, role: 'editor' | 'viewer'): Promise<{ user: string; role: string; version: number }> {
    const entry = this.catalog.get(notebookId);
    if (entry.owner === user) throw new DomainError('UNPROCESSABLE', `${user} owns notebook ${notebookId}; the owner's role cannot change`);
    const version = await this.appendCatalogEvent(notebookId, {
      type: 'notebook.member.granted',
      payload: { encoding: 'json', json: { user, role } },
      metadata: { actor, cell_ids: [], notebook_id: notebookId },
    });
    return { user, role, version };
  }

  /** Revokes a user's role. */
  async removeMember(notebookId: string, actor: string, user: string): Promise<{ version: number }> {
    const entry = this.catalog.get(notebookId);
    if (!entry.members.has(user)) throw new DomainError('NOT_FOUND', `${user} is not a member of notebook ${notebookId}`);
    const version = await this.appendCatalogEvent(notebookId, {
      type: 'notebook.member.revoked',
      payload: { encoding: 'json', json: { user } },
      metadata: { actor, cell_ids: [], notebook_id: notebookId },
    });
    return { version };
  }

  /** The stream version a history point names; 404 before the notebook existed, 422 past its end. */
  async resolvePoint(notebookId: string, at: HistoryPoint): Promise<number> {
    const stream = notebookStream(notebookId);
    const current = await this.store.streamVersion(stream);
    const version = 'version' in at ? at.version : await this.store.versionAt(stream, at.time);
    if (version < 1) throw new DomainError('NOT_FOUND', `notebook ${notebookId} did not exist at that point`);
    if (version > current) throw new DomainError('UNPROCESSABLE', `notebook ${notebookId} has no version ${version} yet (current ${current})`);
    return version;
  }

  private async appendUpdate(notebook: LiveNotebook, who: Actor, update: Uint8Array, changes: DocChange[], expected: ExpectedVersion): Promise<number> {
    const type = eventTypeFor(changes);
    const cellIds = changedCellIds(changes);
    const result = await this.live.appendApplied(notebook, () =>
      this.store.append({
        stream: notebookStream(notebook.id),
        expectedVersion: expected,
        events: [
          {
            type,
            payload: { encoding: 'yjs', bytes: update },
            metadata: { actor: who.actor, cell_ids: cellIds, notebook_id: notebook.id, ...storedChangeFields(type, cellIds, changes), ...who.extra },
          },
        ],
      }),
    );
    return result.version;
  }

  private async appendCatalogEvent(notebookId: string, event: NewEvent): Promise<number> {
    const result = await this.store.append({ stream: notebookStream(notebookId), events: [event] });
    await this.store.settled();
    return result.version;
  }
}
