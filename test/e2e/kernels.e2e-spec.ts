import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { socketIoClient, waitForDoc } from '../support/collab-clients.js';
import { connectSocket, nextOn as next, processesMentioning, recordOn } from '../support/kernel-clients.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface ApiEvent {
  position: number;
  stream: string;
  id: string;
  type: string;
  actor: string;
  cell_ids: string[];
  data: Record<string, unknown>;
}

interface RawMessage {
  channel: string;
  msg_type: string;
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  execution_count?: number | null;
}

interface Cell {
  id: string;
  cell_type: string;
  execution_count: number | null;
  outputs: Output[];
}

const FINISHED = new Set(['ok', 'error', 'aborted']);

/** The text of a stream output (nbformat may split it into lines). */
function textOf(output: Output | undefined): string {
  const text = output?.text ?? '';
  return Array.isArray(text) ? text.join('') : text;
}

describe('kernels over REST and Socket.IO (real ipykernel)', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  const sockets: Socket[] = [];

  const api = () => request(server.url);
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  const connect = async (namespace: '/events' | '/kernels', token = alice): Promise<Socket> => {
    const socket = await connectSocket(server.url, namespace, token);
    sockets.push(socket);
    return socket;
  };

  /** A notebook with code cells of these sources; answers its id and the cell ids. */
  const notebookWith = async (...sources: string[]): Promise<{ id: string; cells: string[] }> => {
    const created = await api().post('/api/notebooks').set(as(alice)).send({ name: 'kernels.ipynb' }).expect(201);
    const cells: string[] = [];
    for (const source of sources) {
      const response = await api().post(`/api/notebooks/${created.body.id}/cells`).set(as(alice)).send({ cell_type: 'code', source }).expect(201);
      cells.push(response.body.cell.id);
    }
    return { id: created.body.id, cells };
  };

  /** Subscribes to a notebook's `/events` from a position; `onEvent` listens from before the first event. */
  const watch = async (notebookId: string, after?: number, onEvent?: (event: ApiEvent) => void): Promise<Socket> => {
    const socket = await connect('/events');
    if (onEvent) socket.on('event', onEvent);
    expect(await socket.emitWithAck('subscribe', { notebook_id: notebookId, after })).toEqual({ ok: true });
    return socket;
  };

  /**
   * Whether a notebook event is the projector's last write of this execution of the cell. The execution id
   * matters: a subscription replays the log, where the cell's earlier executions finished too.
   */
  const finishes = (event: ApiEvent, cellId: string, executionId: string) =>
    event.actor.startsWith('kernel:') &&
    event.cell_ids.includes(cellId) &&
    FINISHED.has(String(event.data.execution_status)) &&
    event.data.execution_id === executionId;

  const execute = async (notebookId: string, cellId: string, token = alice): Promise<string> => {
    const response = await api().post(`/api/notebooks/${notebookId}/cells/${cellId}/execute`).set(as(token)).send({}).expect(202);
    return response.body.execution_id as string;
  };

  /** Executes a cell and waits until its final state is in the notebook; answers the cell as GET returns it. */
  const run = async (notebookId: string, cellId: string): Promise<Cell> => {
    const events = await watch(notebookId);
    const seen = recordOn<ApiEvent>(events, 'event');
    const executionId = await execute(notebookId, cellId);
    await seen((event) => finishes(event, cellId, executionId));
    events.disconnect();
    const notebook = await api().get(`/api/notebooks/${notebookId}`).set(as(alice)).expect(200);
    return (notebook.body.content.cells as Cell[]).find((cell) => cell.id === cellId)!;
  };

  /** The notebook as GET returns it now. */
  const notebookNow = async (notebookId: string) =>
    (await api().get(`/api/notebooks/${notebookId}`).set(as(alice)).expect(200)).body as { position: number; content: { cells: Cell[] } };

  /** The text/plain of each output of a cell. */
  const shownAt = (cell: Cell | undefined) => cell?.outputs.map((output) => output.data?.['text/plain']);

  const kernelOf = async (notebookId: string): Promise<string> => {
    const response = await api().post(`/api/notebooks/${notebookId}/kernel`).set(as(alice)).send({ name: 'python3' }).expect(200);
    return response.body.kernel.id as string;
  };

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob] = await Promise.all([server.token('alice'), server.token('bob')]);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    const launched = processesMentioning(server.dataDir);
    await server.stop();
    expect(processesMentioning(server.dataDir), `kernel processes left (before stop: ${launched.join(', ')})`).toEqual([]);
  });

  it('serves the installed kernelspecs in Jupyter Server’s shape', async () => {
    const response = await api().get('/api/kernelspecs').set(as(alice)).expect(200);
    expect(response.body.default).toBe('python3');
    expect(response.body.kernelspecs.python3).toMatchObject({ name: 'python3', spec: { language: 'python' } });
  });

  it('starts a notebook kernel with 201, answers 200 with the same kernel once it runs, and lists it', async () => {
    const { id } = await notebookWith();
    const started = await api().post(`/api/notebooks/${id}/kernel`).set(as(alice)).send({ name: 'python3' }).expect(201);
    expect(started.body.kernel.name).toBe('python3');
    // Start resolves once every readiness probe is answered: the kernel is idle, not busy with them.
    expect(started.body.kernel.execution_state).toBe('idle');
    const again = await api().post(`/api/notebooks/${id}/kernel`).set(as(alice)).send({ name: 'python3' }).expect(200);
    expect(again.body.kernel.id).toBe(started.body.kernel.id);
    const list = await api().get('/api/kernels').set(as(alice)).expect(200);
    const model = (list.body as Array<Record<string, unknown>>).find((kernel) => kernel.id === started.body.kernel.id);
    expect(model).toMatchObject({ name: 'python3', connections: 0 });
    expect(new Date(model!.last_activity as string).toISOString()).toBe(model!.last_activity);
    await api().delete(`/api/notebooks/${id}/kernel`).set(as(alice)).expect(204);
    await api().get(`/api/kernels/${started.body.kernel.id}`).set(as(alice)).expect(404);
  });

  it('executes a print, a rich display and an exception; outputs and counts land in the notebook (kernel started on demand)', async () => {
    const { id, cells } = await notebookWith(
      'print("hello")',
      'from IPython.display import display, HTML\ndisplay(HTML("<b>rich</b>"))\n6 * 7',
      '1 / 0',
      '# markdown below',
    );
    const printed = await run(id, cells[0]);
    expect(printed.execution_count).toBe(1);
    expect(printed.outputs).toHaveLength(1);
    expect(printed.outputs[0]).toMatchObject({ output_type: 'stream', name: 'stdout' });
    expect(textOf(printed.outputs[0])).toBe('hello\n');

    const rich = await run(id, cells[1]);
    expect(rich.execution_count).toBe(2);
    expect(rich.outputs.map((o) => o.output_type)).toEqual(['display_data', 'execute_result']);
    expect(rich.outputs[0].data?.['text/html']).toBe('<b>rich</b>');
    expect(rich.outputs[1]).toMatchObject({ execution_count: 2, data: { 'text/plain': '42' } });

    const failed = await run(id, cells[2]);
    expect(failed.execution_count).toBe(3);
    expect(failed.outputs).toHaveLength(1);
    expect(failed.outputs[0]).toMatchObject({ output_type: 'error', ename: 'ZeroDivisionError' });

    // After an error the next cell is preceded by a silent, empty barrier request; it belongs to no cell.
    const again = await run(id, cells[0]);
    expect(again.execution_count).toBe(4);
    const sent = await api().get(`/api/notebooks/${id}/events?type=kernel.message&limit=1000`).set(as(alice)).expect(200);
    const requests = (sent.body.events as ApiEvent[]).filter((event) => event.data.msg_type === 'execute_request');
    const barriers = requests.filter((event) => (event.data.content as { code: string }).code === '');
    expect(barriers.length).toBeGreaterThan(0);
    for (const barrier of barriers) expect([barrier.cell_ids, barrier.data.execution_id]).toEqual([[], undefined]);
    expect(requests.filter((event) => event.cell_ids.includes(cells[0])).map((event) => (event.data.content as { code: string }).code)).toEqual([
      'print("hello")',
      'print("hello")',
    ]);

    const markdown = await api().post(`/api/notebooks/${id}/cells`).set(as(alice)).send({ cell_type: 'markdown', source: '# title' }).expect(201);
    const refused = await api().post(`/api/notebooks/${id}/cells/${markdown.body.cell.id}/execute`).set(as(alice)).send({}).expect(422);
    expect(refused.body.error).toBe('UNPROCESSABLE');
    await api().post(`/api/notebooks/${id}/cells/no-such-cell/execute`).set(as(alice)).send({}).expect(404);
  });

  it('updates a display from a later cell in the cell that showed it, until an editor clears that cell', async () => {
    const { id, cells } = await notebookWith("from IPython.display import display\nh = display('first', display_id=True)", "h.update('second')", "h.update('third')");
    const cellOf = async (cellId: string) => (await notebookNow(id)).content.cells.find((cell) => cell.id === cellId);
    expect(shownAt(await run(id, cells[0]))).toEqual(["'first'"]);

    // Events from here on only: the first cell's own execution is before.
    const events = await watch(id, (await notebookNow(id)).position);
    const seen = recordOn<ApiEvent>(events, 'event');
    expect((await run(id, cells[1])).outputs).toEqual([]);
    await seen((event) => event.actor.startsWith('kernel:') && event.cell_ids.includes(cells[0]));
    expect(shownAt(await cellOf(cells[0]))).toEqual(["'second'"]);

    // An editor clears the first cell's outputs (as JupyterLab's Clear Outputs does, in the document).
    const yjs = socketIoClient(server.url, id, alice, new Y.Doc());
    try {
      await yjs.synced();
      const first = yjs.doc.getArray<Y.Map<unknown>>('cells').toArray().find((cell) => cell.get('id') === cells[0])!;
      const outputs = first.get('outputs') as Y.Array<unknown>;
      outputs.delete(0, outputs.length);
      await seen((event) => event.actor === 'alice' && event.cell_ids.includes(cells[0]));
    } finally {
      yjs.destroy();
    }
    // Writes to one notebook are applied in order, and the display's would come before the third cell's end.
    await run(id, cells[2]);
    expect((await cellOf(cells[0]))?.outputs).toEqual([]);
    events.disconnect();
  });

  it('forgets the displays of finished cells when the kernel restarts, as JupyterLab does', async () => {
    const { id, cells } = await notebookWith(
      "from IPython.display import display\ndisplay('first', display_id='fixed');",
      "from IPython.display import update_display\nupdate_display('second', display_id='fixed')",
    );
    expect(shownAt(await run(id, cells[0]))).toEqual(["'first'"]);
    await api().post(`/api/notebooks/${id}/kernel/restart`).set(as(alice)).send({}).expect(204);
    await run(id, cells[1]);
    // Writes to one notebook are applied in order, and the display's would come before the second cell's end.
    expect(shownAt((await notebookNow(id)).content.cells.find((cell) => cell.id === cells[0]))).toEqual(["'first'"]);
  });

  it('announces input() as a kernel.message on /events, shows it on the kernel, and takes the answer over REST', async () => {
    const { id, cells } = await notebookWith('name = input("who? ")\nprint("hi", name)');
    await api().post(`/api/notebooks/${id}/input`).set(as(alice)).send({ value: 'nobody asked' }).expect(409);
    expect((await api().get(`/api/notebooks/${id}/kernel`).set(as(alice)).expect(404)).body.error).toBe('NOT_FOUND');
    const events = await watch(id);
    const seen = recordOn<ApiEvent>(events, 'event');
    const executionId = await execute(id, cells[0]);
    // The kernel is started on demand and asks at once: stdin must be connected before start resolves, or the prompt is lost.
    const prompt = await seen((event) => event.type === 'kernel.message' && event.data.msg_type === 'input_request');
    expect(prompt.cell_ids).toEqual([cells[0]]);
    expect(prompt.data.parent_msg_id).toBe(executionId);
    expect((prompt.data.content as { prompt: string }).prompt).toBe('who? ');
    // A client that joins now, after the prompt's event, finds the prompt on the kernel (viewers too, strangers not).
    expect((await api().get(`/api/notebooks/${id}/kernel`).set(as(bob)).expect(403)).body.error).toBe('FORBIDDEN');
    await api().put(`/api/notebooks/${id}/members/bob`).set(as(alice)).send({ role: 'viewer' }).expect(200);
    const waiting = await api().get(`/api/notebooks/${id}/kernel`).set(as(bob)).expect(200);
    expect(waiting.body.kernel.pending_input).toEqual({ prompt: 'who? ', password: false, msg_id: prompt.data.msg_id, execution_id: executionId });
    await api().post(`/api/notebooks/${id}/input`).set(as(alice)).send({ value: 'alice' }).expect(204);
    expect((await seen((event) => finishes(event, cells[0], executionId))).data.execution_status).toBe('ok');
    expect((await api().get(`/api/notebooks/${id}/kernel`).set(as(alice)).expect(200)).body.kernel).toMatchObject({ execution_state: 'idle', pending_input: null });
    const { body } = await api().get(`/api/notebooks/${id}/cells/${cells[0]}`).set(as(alice)).expect(200);
    expect(textOf(body.cell.outputs.at(-1))).toContain('hi alice');
    await api().post(`/api/notebooks/${id}/input`).set(as(alice)).send({ value: 'late' }).expect(409);
  });

  it('interrupts `while True: pass` and restarts the kernel: counts start again at 1, outputs stay', async () => {
    const { id, cells } = await notebookWith('print("looping", flush=True)\nwhile True: pass', 'x = 1\nx');
    const kernelId = (await api().post(`/api/notebooks/${id}/kernel`).set(as(alice)).send({}).expect(201)).body.kernel.id as string;
    const raw = await connect('/kernels');
    // Interrupted once its own output shows it runs: a SIGINT that lands while ipykernel still prepares the
    // cell (right after execute_input) is caught by the kernel, which then goes idle without an execute_reply.
    expect(await raw.emitWithAck('subscribe', { kernel_id: kernelId, msg_types: ['stream'] })).toMatchObject({ ok: true });
    const events = await watch(id);
    const seen = recordOn<ApiEvent>(events, 'event');
    const running = next<RawMessage>(raw, 'message');
    const loop = await execute(id, cells[0]);
    await running;
    await api().post(`/api/notebooks/${id}/kernel/interrupt`).set(as(alice)).expect(204);
    expect((await seen((event) => finishes(event, cells[0], loop))).data.execution_status).toBe('error');
    const interrupted = (await api().get(`/api/notebooks/${id}/cells/${cells[0]}`).set(as(alice)).expect(200)).body.cell as Cell;
    expect(interrupted.outputs.at(-1)).toMatchObject({ output_type: 'error', ename: 'KeyboardInterrupt' });

    expect((await run(id, cells[1])).execution_count).toBe(2);
    const statuses = recordOn<{ execution_state: string }>(raw, 'status');
    await api().post(`/api/notebooks/${id}/kernel/restart`).set(as(alice)).expect(204);
    await statuses((status) => status.execution_state === 'restarting');
    await statuses((status) => status.execution_state === 'idle');
    expect((await api().post(`/api/notebooks/${id}/kernel`).set(as(alice)).send({}).expect(200)).body.kernel).toMatchObject({ id: kernelId, execution_state: 'idle' });
    const after = await run(id, cells[1]);
    expect(after.execution_count).toBe(1);
    const kept = (await api().get(`/api/notebooks/${id}/cells/${cells[0]}`).set(as(alice)).expect(200)).body.cell as Cell;
    expect(kept.outputs.at(-1)).toMatchObject({ ename: 'KeyboardInterrupt' });
    const lifecycle = await api().get(`/api/notebooks/${id}/events?type=kernel.lifecycle`).set(as(alice)).expect(200);
    expect((lifecycle.body.events as ApiEvent[]).map((e) => e.data.state)).toEqual(['started', 'ready', 'interrupted', 'started', 'restarted']);
  });

  it('refuses a viewer every kernel action with 403, and nothing is sent to the kernel', async () => {
    const { id, cells } = await notebookWith('print(1)');
    await api().put(`/api/notebooks/${id}/members/bob`).set(as(alice)).send({ role: 'viewer' }).expect(200);
    await run(id, cells[0]);
    const kernelId = await kernelOf(id);
    const sentBefore = await api().get(`/api/notebooks/${id}/events?type=kernel.message&limit=1000`).set(as(alice)).expect(200);
    const viewer = as(bob);
    await api().post(`/api/notebooks/${id}/cells/${cells[0]}/execute`).set(viewer).send({}).expect(403);
    await api().post(`/api/notebooks/${id}/execute`).set(viewer).send({ code: 'print(2)' }).expect(403);
    await api().post(`/api/notebooks/${id}/kernel`).set(viewer).send({}).expect(403);
    await api().post(`/api/notebooks/${id}/kernel/interrupt`).set(viewer).expect(403);
    await api().post(`/api/notebooks/${id}/kernel/restart`).set(viewer).expect(403);
    await api().post(`/api/notebooks/${id}/kernel/complete`).set(viewer).send({ code: 'pri', cursor_pos: 3 }).expect(403);
    await api().post(`/api/notebooks/${id}/input`).set(viewer).send({ value: 'x' }).expect(403);
    await api().delete(`/api/notebooks/${id}/kernel`).set(viewer).expect(403);
    await api().post(`/api/kernels/${kernelId}/interrupt`).set(viewer).expect(403);
    await api().post(`/api/kernels/${kernelId}/restart`).set(viewer).expect(403);
    await api().delete(`/api/kernels/${kernelId}`).set(viewer).expect(403);
    // The viewer may read: the kernel's model, and its raw stream.
    await api().get(`/api/kernels/${kernelId}`).set(viewer).expect(200);
    // A request that does reach the kernel flushes its log: had a viewer's request been sent, it would be there before it.
    const completion = await api().post(`/api/notebooks/${id}/kernel/complete`).set(as(alice)).send({ code: 'pri', cursor_pos: 3 }).expect(200);
    expect(completion.body.matches).toContain('print');
    const sentAfter = await api().get(`/api/notebooks/${id}/events?type=kernel.message&after=${sentBefore.body.events.at(-1).position}&limit=1000`).set(as(alice)).expect(200);
    const requests = (sentAfter.body.events as ApiEvent[]).filter((event) => event.data.direction === 'to_kernel');
    expect(requests.map((event) => [event.data.msg_type, event.actor])).toEqual([['complete_request', 'alice']]);
  });

  it('executes cells and scratch code over Socket.IO /kernels; bad bodies and viewers are refused and nothing is sent', async () => {
    const { id, cells } = await notebookWith('print("over socket.io")');
    await api().put(`/api/notebooks/${id}/members/bob`).set(as(alice)).send({ role: 'viewer' }).expect(200);
    const kernels = await connect('/kernels');
    const events = await watch(id);
    const seen = recordOn<ApiEvent>(events, 'event');
    // The result (iopub, sent by ipykernel's IOPub thread) and the reply (shell) may be logged in either order.
    const seenReply = recordOn<ApiEvent>(events, 'event');
    const cellRun = (await kernels.emitWithAck('execute', { notebook_id: id, cell_id: cells[0] })) as { ok: boolean; execution_id: string };
    expect(cellRun.ok).toBe(true);
    await seen((event) => finishes(event, cells[0], cellRun.execution_id));
    const { body } = await api().get(`/api/notebooks/${id}/cells/${cells[0]}`).set(as(alice)).expect(200);
    expect(textOf(body.cell.outputs[0])).toBe('over socket.io\n');

    const scratch = (await kernels.emitWithAck('execute', { notebook_id: id, code: '6 * 7' })) as { ok: boolean; execution_id: string };
    const [result, replied] = await Promise.all([
      seen((event) => event.data.msg_type === 'execute_result' && event.data.parent_msg_id === scratch.execution_id),
      seenReply((event) => event.data.msg_type === 'execute_reply' && event.data.parent_msg_id === scratch.execution_id),
    ]);
    expect((result.data.content as { data: Record<string, string> }).data['text/plain']).toBe('42');

    const viewer = await connect('/kernels', bob);
    expect(await viewer.emitWithAck('execute', { notebook_id: id, code: 'print(2)' })).toMatchObject({ ok: false, error: 'FORBIDDEN' });
    expect(await viewer.emitWithAck('execute', { notebook_id: id, cell_id: cells[0] })).toMatchObject({ ok: false, error: 'FORBIDDEN' });
    expect(await kernels.emitWithAck('execute', { notebook_id: id })).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    expect(await kernels.emitWithAck('execute', { notebook_id: id, code: 'x', cell_id: cells[0] })).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    expect(await kernels.emitWithAck('execute', { notebook_id: id, code: 42 })).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    expect(await kernels.emitWithAck('execute', { notebook_id: id, cell_id: 'no-such-cell' })).toMatchObject({ ok: false, error: 'NOT_FOUND' });
    expect(await kernels.emitWithAck('execute', 'not an object')).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    // A request that does reach the kernel flushes its log: a refused one would be logged before it.
    await api().post(`/api/notebooks/${id}/kernel/complete`).set(as(alice)).send({ code: 'pri', cursor_pos: 3 }).expect(200);
    const after = await api().get(`/api/notebooks/${id}/events?type=kernel.message&after=${replied.position}&limit=1000`).set(as(alice)).expect(200);
    const requests = (after.body.events as ApiEvent[]).filter((event) => event.data.direction === 'to_kernel');
    expect(requests.map((event) => event.data.msg_type)).toEqual(['complete_request']);
  });

  it('filters the /kernels stream by msg_type and channel, always sends status, and serves the threaded view from the log', async () => {
    const { id, cells } = await notebookWith('print("threaded")');
    const kernelId = (await api().post(`/api/notebooks/${id}/kernel`).set(as(alice)).send({}).expect(201)).body.kernel.id as string;
    const streams = await connect('/kernels');
    const shell = await connect('/kernels', bob);
    expect(await shell.emitWithAck('subscribe', { kernel_id: kernelId })).toMatchObject({ ok: false, error: 'FORBIDDEN' });
    const shellSocket = await connect('/kernels');
    // Unfiltered: it shares every message with one of the filtered subscribers (one broadcast to both).
    const everything = await connect('/kernels');
    // Connected to /kernels but subscribed to nothing: a broadcast to subscribers must not reach it.
    const bystander = await connect('/kernels');
    // Listening before subscribing: the status sent at subscribe may come in the same read as the ack.
    const seen: { streams: RawMessage[]; shell: RawMessage[]; everything: RawMessage[]; bystander: RawMessage[]; states: string[] } = {
      streams: [],
      shell: [],
      everything: [],
      bystander: [],
      states: [],
    };
    streams.on('message', (m: RawMessage) => seen.streams.push(m));
    shellSocket.on('message', (m: RawMessage) => seen.shell.push(m));
    everything.on('message', (m: RawMessage) => seen.everything.push(m));
    bystander.on('message', (m: RawMessage) => seen.bystander.push(m));
    streams.on('status', (s: { execution_state: string }) => seen.states.push(s.execution_state));
    const statuses = recordOn<{ kernel_id: string; execution_state: string }>(streams, 'status');
    expect(await streams.emitWithAck('subscribe', { kernel_id: kernelId, msg_types: ['stream'] })).toEqual({ ok: true, execution_state: 'idle' });
    expect(await shellSocket.emitWithAck('subscribe', { kernel_id: kernelId, channels: ['shell'] })).toMatchObject({ ok: true });
    expect(await everything.emitWithAck('subscribe', { kernel_id: kernelId })).toMatchObject({ ok: true });
    await statuses();
    const reply = next<RawMessage>(shellSocket, 'message', (m) => m.msg_type === 'execute_reply');
    const everythingDone = [
      next<RawMessage>(everything, 'message', (m) => m.msg_type === 'execute_reply'),
      next<RawMessage>(everything, 'message', (m) => m.msg_type === 'status' && m.content.execution_state === 'idle'),
    ];
    const executionId = await execute(id, cells[0]);
    await statuses((s) => s.execution_state === 'busy');
    await Promise.all([reply, ...everythingDone, statuses((s) => s.execution_state === 'idle')]);
    expect(seen.streams.map((m) => [m.channel, m.msg_type])).toEqual([['iopub', 'stream']]);
    expect(seen.streams[0].content.text).toBe('threaded\n');
    expect(seen.shell.every((m) => m.channel === 'shell')).toBe(true);
    expect(seen.everything.filter((m) => m.msg_type === 'stream')).toEqual(seen.streams);
    expect(seen.everything.filter((m) => m.channel === 'shell')).toEqual(seen.shell);
    expect(seen.bystander).toEqual([]);
    expect(seen.states).toEqual(['idle', 'busy', 'idle']);
    const models = await api().get(`/api/kernels/${kernelId}`).set(as(alice)).expect(200);
    expect(models.body.connections).toBe(3);

    const thread = await api().get(`/api/kernels/${kernelId}/messages?parent=${executionId}`).set(as(alice)).expect(200);
    const messages = thread.body.messages as RawMessage[];
    expect(messages[0]).toMatchObject({ channel: 'shell', msg_type: 'execute_request', header: { msg_id: executionId } });
    expect(messages.slice(1).every((m) => m.parent_header.msg_id === executionId)).toBe(true);
    const types = messages.map((m) => `${m.channel}:${m.msg_type}`);
    expect(types).toEqual(expect.arrayContaining(['iopub:status', 'iopub:execute_input', 'iopub:stream', 'shell:execute_reply']));
    expect(types.indexOf('iopub:execute_input')).toBeLessThan(types.indexOf('iopub:stream'));
    expect(thread.body.next).toBeNull();

    // Read two messages at a time, the same thread, each page's `next` leading to the following one.
    const pages: RawMessage[][] = [];
    for (let after: string | null = ''; after !== null; ) {
      const response = await api().get(`/api/kernels/${kernelId}/messages?parent=${executionId}&limit=2${after}`).set(as(alice)).expect(200);
      const page = response.body as { messages: RawMessage[]; next: number | null };
      pages.push(page.messages);
      after = page.next === null ? null : `&after=${page.next}`;
    }
    expect(pages.flat()).toEqual(messages);
    expect(pages).toHaveLength(Math.ceil(messages.length / 2));
    expect(pages.slice(0, -1).every((page) => page.length === 2)).toBe(true);

    await api().get(`/api/kernels/${kernelId}/messages?parent=${executionId}`).set(as(bob)).expect(403);
    await api().get(`/api/kernels/${kernelId}/messages`).set(as(alice)).expect(400);
    for (const badPage of ['limit=0', 'limit=10001', 'limit=two', 'after=-1']) {
      const refused = await api().get(`/api/kernels/${kernelId}/messages?parent=${executionId}&${badPage}`).set(as(alice)).expect(400);
      expect(refused.body).toMatchObject({ error: 'BAD_REQUEST' });
    }
  });

  it('runs standalone kernels in Jupyter Server’s shapes, visible and usable only by their starter', async () => {
    const started = await api().post('/api/kernels').set(as(bob)).send({ name: 'python3' }).expect(201);
    expect(started.body).toMatchObject({ name: 'python3', execution_state: 'idle', connections: 0 });
    const kernelId = started.body.id as string;
    expect((await api().get('/api/kernels').set(as(bob)).expect(200)).body.map((k: { id: string }) => k.id)).toContain(kernelId);
    expect((await api().get('/api/kernels').set(as(alice)).expect(200)).body.map((k: { id: string }) => k.id)).not.toContain(kernelId);
    await api().get(`/api/kernels/${kernelId}`).set(as(alice)).expect(403);
    await api().delete(`/api/kernels/${kernelId}`).set(as(alice)).expect(403);
    await api().post(`/api/kernels/${kernelId}/interrupt`).set(as(bob)).expect(204);
    const restarted = await api().post(`/api/kernels/${kernelId}/restart`).set(as(bob)).expect(200);
    expect(restarted.body).toMatchObject({ id: kernelId, execution_state: 'idle' });
    await api().delete(`/api/kernels/${kernelId}`).set(as(bob)).expect(204);
    await api().get(`/api/kernels/${kernelId}`).set(as(bob)).expect(404);
    await api().post('/api/kernels').set(as(bob)).send({ name: 'no-such-kernel' }).expect(422);
  });

  it('acceptance: three cells run while the client is away; on its return the notebook (REST and Yjs) holds every output and /events delivers every missed kernel event', async () => {
    const { id, cells } = await notebookWith('print("one")', 'import time\ntime.sleep(0.2)\nprint("two")', 'print("three"); 3');
    const before = await watch(id);
    const head = await api().get(`/api/notebooks/${id}/events?limit=1000`).set(as(alice)).expect(200);
    const lastPosition = (head.body.events as ApiEvent[]).at(-1)!.position;
    const executionIds: string[] = [];
    for (const cellId of cells) executionIds.push(await execute(id, cellId));
    before.disconnect();

    // Later: the client comes back and resumes from the last position it had seen.
    const received: ApiEvent[] = [];
    const allFinished = new Promise<void>((resolve) => {
      const pending = new Set(executionIds);
      const onEvent = (event: ApiEvent) => {
        received.push(event);
        if (event.actor.startsWith('kernel:') && FINISHED.has(String(event.data.execution_status))) pending.delete(String(event.data.execution_id));
        if (pending.size === 0) resolve();
      };
      void watch(id, lastPosition, onEvent);
    });
    await allFinished;

    const notebook = await api().get(`/api/notebooks/${id}`).set(as(alice)).expect(200);
    const stored = notebook.body.content.cells as Cell[];
    expect(stored.map((cell) => cell.execution_count)).toEqual([1, 2, 3]);
    expect(stored.map((cell) => textOf(cell.outputs[0]))).toEqual(['one\n', 'two\n', 'three\n']);
    expect(stored[2].outputs[1]).toMatchObject({ output_type: 'execute_result', data: { 'text/plain': '3' } });

    const yjs = socketIoClient(server.url, id, alice, new Y.Doc());
    try {
      await yjs.synced();
      const outputsIn = (doc: Y.Doc) => doc.getArray<Y.Map<unknown>>('cells').toArray().map((cell) => (cell.get('outputs') as Y.Array<Y.Map<unknown>>).toArray());
      await waitForDoc(yjs.doc, (doc) => outputsIn(doc).every((outputs) => outputs.length > 0));
      const cellsInDoc = yjs.doc.getArray<Y.Map<unknown>>('cells').toArray();
      expect(cellsInDoc.map((cell) => cell.get('execution_count'))).toEqual([1, 2, 3]);
      expect(outputsIn(yjs.doc).map((outputs) => String(outputs[0].get('text')))).toEqual(['one\n', 'two\n', 'three\n']);
    } finally {
      yjs.destroy();
    }

    // Every kernel event after the last position, as the log has them, came over the resumed subscription, in order.
    const kernelEvents = async (): Promise<ApiEvent[]> => {
      const all: ApiEvent[] = [];
      for (let after: number | null = lastPosition; after !== null; ) {
        const page: { body: { events: ApiEvent[]; next: number | null } } = await api()
          .get(`/api/notebooks/${id}/events?after=${after}&limit=1000&type=kernel.message,kernel.lifecycle`)
          .set(as(alice))
          .expect(200);
        all.push(...page.body.events);
        after = page.body.next;
      }
      return all;
    };
    const logged = await kernelEvents();
    const delivered = received.filter((event) => event.stream.startsWith('kernel:') && event.position <= logged.at(-1)!.position);
    expect(delivered.map((event) => event.id)).toEqual(logged.map((event) => event.id));
    for (const executionId of executionIds) {
      const thread = logged.filter((event) => event.data.msg_id === executionId || event.data.parent_msg_id === executionId).map((event) => event.data.msg_type);
      expect(thread).toEqual(expect.arrayContaining(['execute_request', 'execute_input', 'stream', 'execute_reply']));
    }
    expect(new Set(received.map((event) => event.position)).size).toBe(received.length);
  });
});
