import { DomainError, kernelStream, type EventMetadata, type KernelLifecycleEventData } from '@palimpsest/contracts';
import type { MessageBus } from '@palimpsest/bus';
import type { EventStore, NewEvent } from '@palimpsest/event-store';
import { toKernelMessageEventData } from './kernel-message.event.js';
import type { Direction, ExecutionState, JupyterMessage } from './message.types.js';
import type { ZmqKernel } from './zmq.kernel.js';

/** Who asked for a request and what it belongs to: the attribution of the messages it causes. */
export interface Correlation {
  actor: string;
  cellId: string | null;
  /** The execute_request's msg_id, for the messages of an execution. */
  executionId: string | null;
}

/** Where the journal reports appends that failed (they are never retried: the store is down). */
export type JournalErrorHandler = (error: unknown) => void;

/** The store's refusals of an event itself (too large, not encodable), which must not take the events beside it down too. */
const REFUSED_EVENT = new Set(['BAD_REQUEST', 'PAYLOAD_TOO_LARGE']);

/**
 * Records everything one kernel says and hears as events of `kernel:<id>` (every message both ways
 * as `kernel.message`, lifecycle as `kernel.lifecycle`) and publishes messages and status on the bus.
 * The events of one turn of the event loop are appended together, once it has run: a burst of
 * output is one append, and encoding it waits until every message of the burst was relayed live.
 */
export class KernelJournal {
  /** The actor of requests nobody in particular asked for (readiness probes, barriers): whoever last operated the kernel. */
  operator: string;
  /** Unix ms of the last message either way. */
  lastActivity = Date.now();
  private readonly correlations = new Map<string, Correlation>();
  private context: Correlation | null = null;
  private lastAppend: Promise<void> = Promise.resolve();
  /** Events recorded in this turn of the event loop, appended at its end. */
  private turn: NewEvent[] | null = null;
  private readonly detach: Array<() => void>;
  private readonly stream: string;
  private readonly kernelActor: string;

  constructor(
    private readonly kernel: ZmqKernel,
    /** The notebook the kernel serves; null for a standalone kernel. */
    readonly notebookId: string | null,
    private readonly store: EventStore,
    private readonly bus: MessageBus,
    operator: string,
    private readonly onError: JournalErrorHandler,
  ) {
    this.operator = operator;
    this.stream = kernelStream(kernel.id);
    this.kernelActor = `kernel:${kernel.id}`;
    this.detach = [
      kernel.onMessage((message, direction) => this.recordMessage(message, direction)),
      kernel.onLifecycle((event) => this.recordLifecycle(event)),
      kernel.onStatus((state) => this.publishStatus(state)),
    ];
  }

  /** Runs `send` with `correlation` as the attribution of the requests it sends synchronously. */
  within<T>(correlation: Correlation, send: () => T): T {
    const previous = this.context;
    this.context = correlation;
    try {
      return send();
    } finally {
      this.context = previous;
    }
  }

  /** Attributes a request sent later (a queued execution) and every message answering it. */
  correlate(msgId: string, correlation: Correlation): void {
    this.correlations.set(msgId, correlation);
  }

  /** The attribution of a request, if it has one. */
  correlationOf(msgId: string): Correlation | undefined {
    return this.correlations.get(msgId);
  }

  /** Drops the attribution of a finished request and of the input requests it caused. */
  forget(msgId: string): void {
    for (const [id, correlation] of this.correlations) if (id === msgId || correlation.executionId === msgId) this.correlations.delete(id);
  }

  /** Appends a lifecycle event the kernel itself does not emit (`culled`). */
  recordLifecycle(event: KernelLifecycleEventData, actor = event.state === 'died' ? this.kernelActor : this.operator): void {
    this.append({ type: 'kernel.lifecycle', payload: { encoding: 'json', json: event }, metadata: this.metadata(actor, null) });
  }

  /** Resolves once every event queued so far is committed (or failed). */
  flushed(): Promise<void> {
    return this.lastAppend;
  }

  /** Stops listening to the kernel. */
  close(): void {
    for (const off of this.detach) off();
    this.correlations.clear();
  }

  private recordMessage(message: JupyterMessage, direction: Direction): void {
    this.lastActivity = Date.now();
    const data = toKernelMessageEventData(message, direction);
    const correlation = this.attribution(data.msg_id, data.parent_msg_id, direction);
    if (direction === 'from_kernel' && data.msg_type === 'input_request' && correlation) this.correlations.set(data.msg_id, correlation);
    const actor = direction === 'from_kernel' ? this.kernelActor : (correlation?.actor ?? this.operator);
    const executionId = correlation?.executionId ?? (direction === 'to_kernel' && data.msg_type === 'execute_request' && correlation ? data.msg_id : null);
    // The live tap first: raw subscribers are not kept waiting for the append's encoding and hashing.
    this.bus.publish('kernel.message', { kernel_id: this.kernel.id, notebook_id: this.notebookId, data });
    this.append({ type: 'kernel.message', payload: { encoding: 'json', json: data }, metadata: this.metadata(actor, correlation ?? null, executionId) });
  }

  private attribution(msgId: string, parentId: string | null, direction: Direction): Correlation | undefined {
    if (direction === 'to_kernel') return this.correlations.get(msgId) ?? this.context ?? undefined;
    return parentId === null ? undefined : this.correlations.get(parentId);
  }

  private metadata(actor: string, correlation: Correlation | null, executionId: string | null = null): EventMetadata {
    return {
      actor,
      notebook_id: this.notebookId,
      cell_ids: correlation?.cellId ? [correlation.cellId] : [],
      ...(executionId ? { execution_id: executionId } : {}),
    };
  }

  private publishStatus(state: ExecutionState): void {
    this.bus.publish('kernel.status', { kernel_id: this.kernel.id, notebook_id: this.notebookId, execution_state: state });
  }

  private append(event: NewEvent): void {
    if (this.turn) {
      this.turn.push(event);
      return;
    }
    const events = (this.turn = [event]);
    this.lastAppend = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.turn = null;
        resolve(this.appendAll(events));
      }),
    );
  }

  private async appendAll(events: NewEvent[]): Promise<void> {
    try {
      await this.store.append({ stream: this.stream, events });
    } catch (error) {
      if (events.length === 1 || !(error instanceof DomainError && REFUSED_EVENT.has(error.code))) return this.onError(error);
      // One event the store refuses: append the others, and report only that one.
      await Promise.all(events.map((event) => this.store.append({ stream: this.stream, events: [event] }).catch(this.onError)));
    }
  }
}
