import type { ExecutionProgress } from './execution-progress.js';
import type { KernelJournal } from './kernel-journal.js';
import type { ExecutionState } from './message.types.js';
import type { ZmqKernel } from './zmq.kernel.js';

/** A kernel the gateway runs, with whom it serves and what records it. */
export interface ManagedKernel {
  kernel: ZmqKernel;
  /** The notebook whose kernel it is; null for a standalone kernel (`POST /api/kernels`). */
  notebookId: string | null;
  /** The user who started it (standalone kernels belong to them). */
  owner: string;
  journal: KernelJournal;
  progress: ExecutionProgress;
  /** Clients subscribed to its raw stream (`connections` in Jupyter Server's model). */
  connections: number;
}

/** Jupyter Server's kernel model (`GET /api/kernels`). */
export interface KernelModel {
  id: string;
  name: string;
  last_activity: string;
  execution_state: ExecutionState;
  connections: number;
}

/** The Jupyter Server model of a managed kernel. */
export function toKernelModel(managed: ManagedKernel): KernelModel {
  return {
    id: managed.kernel.id,
    name: managed.kernel.name,
    last_activity: new Date(managed.journal.lastActivity).toISOString(),
    execution_state: managed.kernel.executionState,
    connections: managed.connections,
  };
}

/** A running kernel as listed across nodes: its model, and whose it is (for the listing's access check). */
export interface ListedKernel {
  model: KernelModel;
  notebookId: string | null;
  owner: string;
}

/** How a node lists one of its kernels for `GET /api/kernels`. */
export function toListedKernel(managed: ManagedKernel): ListedKernel {
  return { model: toKernelModel(managed), notebookId: managed.notebookId, owner: managed.owner };
}

/** A notebook's kernel in the notebook endpoints: its state and the `input()` it waits for, if any. */
export interface NotebookKernelModel {
  id: string;
  name: string;
  execution_state: ExecutionState;
  pending_input: { prompt: string; password: boolean; msg_id: string; execution_id: string | null } | null;
}

/** The notebook endpoints' model of a managed kernel. */
export function toNotebookKernelModel({ kernel }: ManagedKernel): NotebookKernelModel {
  const input = kernel.pendingInput;
  const pendingInput = input && { prompt: input.prompt, password: input.password, msg_id: input.request.header.msg_id, execution_id: input.executionId };
  return { id: kernel.id, name: kernel.name, execution_state: kernel.executionState, pending_input: pendingInput };
}
