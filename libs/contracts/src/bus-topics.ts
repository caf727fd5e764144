import type { ErrorCode } from './errors.js';
import type { KernelMessageEventData, LoggedEvent } from './events.js';

/** Every bus topic with its payload type: the one typed map all gateways meet on. */
export interface BusTopics {
  /** Events just committed to the log, in global order, published once per commit. */
  'log.committed': { events: readonly LoggedEvent[] };
  /** A node appended to the log; other nodes' tails wake up and read it from the store. */
  'log.appended': { node: string; position: number };
  /** A notebook's document changed outside the live room (REST, kernels); rooms apply it. */
  'notebook.updated': { notebook_id: string; update: Uint8Array; origin: string; position: number };
  /** A kernel asked for input and waits for an answer. */
  'kernel.input_requested': { notebook_id: string; kernel_id: string; prompt: string; password: boolean; msg_id: string };
  /** A kernel's execution state changed. */
  'kernel.status': { kernel_id: string; notebook_id: string | null; execution_state: string };
  /** A message went to or came from a kernel (published as it passes, before its event commits: the live tap). */
  'kernel.message': { kernel_id: string; notebook_id: string | null; data: KernelMessageEventData };
  /** A cell execution progressed: its outputs (nbformat) and count so far; the notebook projects it into the cell. */
  'kernel.execution': KernelExecutionProgress;
  /** A node asks the node that runs a kernel to act on it (the caller has authorized the actor). */
  'kernel.call': KernelCall;
  /** The answer to a `kernel.call`, for the node that asked. */
  'kernel.call.reply': KernelCallReply;
}

/** What one node can ask of a notebook's kernel that runs on another. */
export type NotebookKernelRequest =
  | { op: 'describe' }
  | { op: 'execute_cell'; cell_id: string; code: string }
  | { op: 'execute_code'; code: string }
  | { op: 'interrupt' | 'restart' | 'shutdown' }
  | { op: 'input'; value: string }
  | { op: 'request'; msg_type: string; content: Record<string, unknown> };

/** What one node can ask of a kernel, named by its id, that runs on another (Jupyter Server's `/api/kernels/:id`). */
export type KernelByIdRequest = { op: 'model' } | { op: 'interrupt' | 'restart' | 'shutdown' };

/** Which kernel a `kernel.call` is for, with what may be asked of it: a notebook's kernel, or any kernel by its id. */
export type KernelCallTarget = { notebook_id: string; request: NotebookKernelRequest } | { kernel_id: string; request: KernelByIdRequest };

/** A request every node answers: the kernels it runs (Jupyter Server's `GET /api/kernels` across nodes). */
export interface EveryNodeRequest {
  every_node: true;
  request: { op: 'list' };
}

/** A request for a kernel, sent to every node; the one that runs the kernel answers (each node, for `every_node`). */
export type KernelCall = { call_id: string; actor: string } & (KernelCallTarget | EveryNodeRequest);

/** The outcome of a `kernel.call`: the operation's JSON result, or the contract error it failed with. */
export type KernelCallReply = { call_id: string; ok: true; result: unknown } | { call_id: string; ok: false; error: { code: ErrorCode; message: string } };

/** Where one execution is, as the notebook needs it to update the cell. */
export interface KernelExecutionProgress {
  notebook_id: string;
  /** The executed cell. */
  cell_id: string;
  kernel_id: string;
  /** The execute_request's msg_id. */
  execution_id: string;
  status: 'queued' | 'running' | 'ok' | 'error' | 'aborted';
  execution_count: number | null;
  /** The cell's outputs in nbformat v4 form (no transient display ids). */
  outputs: Array<Record<string, unknown>>;
  /**
   * Set when a display is updated after its execution ended: the outputs the cell must still hold for
   * `outputs` to be written; a cell cleared or run again since keeps what it has.
   */
  replaces?: Array<Record<string, unknown>>;
}

/** A bus topic name. */
export type BusTopic = keyof BusTopics;

/**
 * Topics a distributed bus carries to every node. Every other topic stays on the node that
 * published it: each node follows the log itself (`log.committed`), and projections that write
 * (kernel outputs into notebooks) must run once, on the node that owns the kernel. Kernel calls go to
 * every node so that the one running the kernel can answer.
 */
export const CLUSTER_TOPICS: ReadonlySet<BusTopic> = new Set<BusTopic>(['kernel.status', 'kernel.input_requested', 'kernel.call', 'kernel.call.reply']);
