import type { NotebookRole } from './roles.js';

/** One change a Yjs update made to a notebook document, derived by observing the update. */
export type DocChange =
  | { kind: 'inserted'; cell_id: string; index: number }
  | { kind: 'deleted'; cell_id: string }
  | { kind: 'moved'; cell_id: string; index: number }
  | { kind: 'source_edited'; cell_id: string }
  | { kind: 'metadata_changed'; cell_id: string }
  | { kind: 'type_changed'; cell_id: string; cell_type: string }
  | { kind: 'outputs_changed'; cell_id: string }
  | { kind: 'execution_changed'; cell_id: string }
  | { kind: 'notebook_metadata_changed' };

/** Where a forked notebook came from: the source notebook and the version it was forked at. */
export interface ForkOrigin {
  notebook_id: string;
  version: number;
}

/** Payloads of the JSON-encoded event types, by type name. */
export interface JsonEventPayloads {
  'notebook.created': { name: string; owner: string; forked_from?: ForkOrigin };
  'notebook.deleted': Record<string, never>;
  'notebook.member.granted': { user: string; role: Exclude<NotebookRole, 'owner'> };
  'notebook.member.revoked': { user: string };
  'notebook.client.joined': { client_id: string; transport: 'socket.io' | 'websocket' };
  'notebook.client.left': { client_id: string; transport: 'socket.io' | 'websocket' };
  'kernel.message': KernelMessageEventData;
  'kernel.lifecycle': KernelLifecycleEventData;
}

/** Data of a `kernel.message` event: one Jupyter message to or from a kernel. */
export interface KernelMessageEventData {
  channel: 'shell' | 'iopub' | 'stdin' | 'control' | 'hb';
  direction: 'to_kernel' | 'from_kernel';
  msg_type: string;
  msg_id: string;
  parent_msg_id: string | null;
  header: Record<string, unknown>;
  parent_header: Record<string, unknown>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  /** Binary buffers, base64-encoded. */
  buffers: string[];
}

/** Data of a `kernel.lifecycle` event. */
export interface KernelLifecycleEventData {
  state: 'started' | 'ready' | 'interrupted' | 'restarted' | 'died' | 'shutdown' | 'culled';
  kernel_name: string;
  exit_code?: number | null;
  signal?: string | null;
  reason?: string;
}

/** Event types whose payload is a Yjs update to the notebook document. */
export const YJS_EVENT_TYPES = [
  'notebook.content.imported',
  'notebook.cell.inserted',
  'notebook.cell.deleted',
  'notebook.cell.moved',
  'notebook.cell.source_edited',
  'notebook.cell.metadata_changed',
  'notebook.cell.type_changed',
  'notebook.cell.outputs_changed',
  'notebook.cell.execution_changed',
  'notebook.metadata_changed',
  'notebook.doc.updated',
  'notebook.restored',
] as const;

/** A Yjs-encoded event type. */
export type YjsEventType = (typeof YJS_EVENT_TYPES)[number];

/** A JSON-encoded event type. */
export type JsonEventType = keyof JsonEventPayloads;

/** Every event type the log knows: a closed union. */
export type EventType = JsonEventType | YjsEventType;

/** The payload of an event as it is stored: JSON, or the raw bytes of a Yjs update. */
export type EventPayload = { encoding: 'json'; json: unknown } | { encoding: 'yjs'; bytes: Uint8Array };

/** Metadata stored with every event (canonical JSON, hashed with the payload). */
export interface EventMetadata {
  actor: string;
  cell_ids: string[];
  /** The notebook the event belongs to, for notebook-scoped audit of kernel and other streams. */
  notebook_id: string | null;
  /** What a Yjs update changed, when the payload is one. */
  changes?: DocChange[];
  /** A one-line human description (`cell 3f2a source edited`). */
  description?: string;
  /** Free-form correlation data: execution ids, client ids. */
  [key: string]: unknown;
}

/** An event as it is read back from the log. */
export interface LoggedEvent {
  /** Global position: strictly increasing across the whole log. */
  position: number;
  stream: string;
  /** Position within the stream, gap-free from 1. */
  version: number;
  id: string;
  type: EventType;
  recordedAt: number;
  metadata: EventMetadata;
  payload: EventPayload;
}

/** The contract's JSON shape of an event (REST audit and Socket.IO `/events`). */
export interface ApiEvent {
  position: number;
  stream: string;
  version: number;
  id: string;
  type: EventType;
  actor: string;
  at: string;
  cell_ids: string[];
  data: unknown;
}

const EVENT_TYPE_PATTERN = /^[a-z]+(\.[a-z_]+)+$/;

/** True when a string is shaped like an event type name (dotted, lowercase). */
export function isEventTypeName(value: string): boolean {
  return EVENT_TYPE_PATTERN.test(value);
}

/** True when events of this type carry a Yjs update. */
export function isYjsEventType(type: string): type is YjsEventType {
  return (YJS_EVENT_TYPES as readonly string[]).includes(type);
}
