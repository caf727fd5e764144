// The Palimpsest web page: sign in, list and create notebooks, and follow one live. It speaks only
// the public API: REST for reads and writes, the Socket.IO `/events` namespace to learn of changes
// (from this page, other editors, or a kernel running with nobody watching). Kernel output is shown
// as text and images only; HTML and JavaScript outputs are never rendered into the page.
/* global io */

const TOKEN_KEY = 'palimpsest.token';
const USER_KEY = 'palimpsest.user';
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY);
/** The open notebook: its id, its `/events` socket and the pending refresh. */
let view = null;

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function show(section) {
  for (const id of ['sign-in', 'notebooks', 'notebook']) $(id).hidden = id !== section;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  closeNotebook();
  route();
}

/** Calls the REST API; an error answer becomes an Error with the contract's code and message. */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    signOut();
    throw new Error('Your session has ended: sign in again.');
  }
  if (!response.ok) {
    const error = await response.json().catch(() => ({}));
    throw new Error(`${error.error ?? response.status}: ${error.message ?? response.statusText}`);
  }
  return response.status === 204 ? null : response.json();
}

/** Runs an action, showing its error instead of throwing it. */
async function attempt(action) {
  try {
    showError('');
    await action();
  } catch (error) {
    showError(error instanceof Error ? error.message : String(error));
  }
}

async function showNotebookList() {
  show('notebooks');
  const { notebooks } = await api('GET', '/api/notebooks');
  const list = $('notebook-list');
  list.replaceChildren(
    ...notebooks.map((notebook) => {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = `#/notebooks/${encodeURIComponent(notebook.id)}`;
      link.textContent = notebook.name;
      item.append(link, ` (${notebook.role}, version ${notebook.version})`);
      return item;
    }),
  );
}

function closeNotebook() {
  if (!view) return;
  view.socket?.disconnect();
  clearTimeout(view.timer);
  hideInput();
  view = null;
}

/**
 * Opens a notebook: shows it and an input() its kernel already waits for, then follows `/events` from the
 * snapshot's position and re-reads it on every change.
 */
async function openNotebook(id) {
  closeNotebook();
  const current = { id, socket: null, timer: null, reading: null, again: false };
  view = current;
  show('notebook');
  $('live-status').textContent = 'connecting…';
  const path = `/api/notebooks/${encodeURIComponent(id)}`;
  // No kernel running (404) means no prompt either.
  const [snapshot, kernel] = await Promise.all([api('GET', path), api('GET', `${path}/kernel`).catch(() => null)]);
  if (view !== current) return;
  renderNotebook(snapshot);
  const waiting = kernel?.kernel.pending_input;
  if (waiting) showInput(waiting.prompt, waiting.password, waiting.execution_id ?? '');
  let after = snapshot.position;
  const socket = io('/events', { auth: { token } });
  current.socket = socket;
  socket.on('connect_error', (error) => ($('live-status').textContent = `not live: ${error.message}`));
  socket.on('connect', async () => {
    const ack = await socket.emitWithAck('subscribe', { notebook_id: id, ...(after === undefined ? {} : { after }) });
    $('live-status').textContent = ack.ok ? 'live' : `not live: ${ack.message}`;
  });
  socket.on('disconnect', () => ($('live-status').textContent = 'reconnecting…'));
  socket.on('event', (event) => {
    // A reconnect resumes after the last event seen: nothing is missed, nothing repeated.
    after = event.position;
    if (event.stream.startsWith('notebook:')) scheduleRead(current);
    else if (event.type === 'kernel.message') followInput(event.data);
  });
}

/** Shows a kernel's `input()` prompt (any editor may answer it) for the execution that asked. */
function showInput(prompt, password, executionId) {
  const form = $('input-form');
  form.dataset.execution = executionId;
  $('input-prompt').textContent = prompt;
  form.elements.value.type = password ? 'password' : 'text';
  form.hidden = false;
  form.elements.value.focus();
}

/** Hides the input() prompt and forgets what was typed. */
function hideInput() {
  const form = $('input-form');
  form.hidden = true;
  form.reset();
}

/** Follows a kernel's `input()` prompt on `/events`: shown while it waits, hidden once answered or its execution ends. */
function followInput(message) {
  const form = $('input-form');
  if (message.msg_type === 'input_request' && message.direction === 'from_kernel') {
    showInput(message.content.prompt ?? '', Boolean(message.content.password), message.parent_msg_id ?? '');
  } else if (!form.hidden && (message.msg_type === 'input_reply' || (message.msg_type === 'execute_reply' && message.parent_msg_id === form.dataset.execution))) {
    hideInput();
  }
}

/** Re-reads the notebook soon; a burst of events (a kernel printing) becomes one read, one at a time. */
function scheduleRead(current) {
  if (current.timer) return;
  current.timer = setTimeout(async () => {
    current.timer = null;
    if (current.reading) return void (current.again = true);
    // Not through `attempt`: a background re-read must not clear the error of what the user just did.
    current.reading = api('GET', `/api/notebooks/${encodeURIComponent(current.id)}`)
      .then((snapshot) => view === current && renderNotebook(snapshot))
      .catch((error) => showError(error.message));
    await current.reading;
    current.reading = null;
    if (current.again) {
      current.again = false;
      scheduleRead(current);
    }
  }, 50);
}

/** The served form (JSON) each cell element was rendered from: an unchanged cell keeps its element. */
const renderedFrom = new WeakMap();

/**
 * Shows a snapshot. Only cells that changed are rebuilt, and elements already in place are never moved, so
 * a cell being edited keeps its focus, caret and unsaved text while other cells change around it.
 */
function renderNotebook(snapshot) {
  $('notebook-name').textContent = snapshot.name;
  $('notebook-version').textContent = String(snapshot.version);
  const list = $('cells');
  const existing = new Map([...list.children].map((item) => [item.dataset.cellId, item]));
  const items = snapshot.content.cells.map((cell) => {
    const previous = existing.get(cell.id);
    const served = JSON.stringify(cell);
    if (previous && renderedFrom.get(previous) === served) return previous;
    const item = renderCell(cell, previous);
    renderedFrom.set(item, served);
    return item;
  });
  // Stale elements go first, so that placing the others moves only what really moved.
  const kept = new Set(items);
  for (const child of [...list.children]) if (!kept.has(child)) child.remove();
  items.forEach((item, index) => {
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  });
}

/** One cell: its source (kept as typed while it has unsaved edits), its buttons and its outputs. */
function renderCell(cell, previous) {
  const item = document.createElement('li');
  item.className = 'cell';
  item.dataset.cellId = cell.id;
  const head = document.createElement('div');
  head.className = 'cell-head';
  const prompt = document.createElement('span');
  prompt.className = 'prompt';
  prompt.textContent = cell.cell_type === 'code' ? `[${cell.execution_count ?? ' '}]` : cell.cell_type;
  head.append(prompt);

  const source = document.createElement('textarea');
  source.rows = Math.max(1, cell.source.split('\n').length);
  const editing = previous?.querySelector('textarea');
  const unsaved = editing && editing.value !== editing.dataset.saved;
  source.value = unsaved ? editing.value : cell.source;
  source.dataset.saved = cell.source;
  const cellPath = () => `/api/notebooks/${encodeURIComponent(view.id)}/cells/${encodeURIComponent(cell.id)}`;
  const save = () => api('PATCH', cellPath(), { source: source.value });

  head.append(button('Save', () => save()));
  if (cell.cell_type === 'code') {
    head.append(
      button('Run', async () => {
        if (source.value !== source.dataset.saved) await save();
        await api('POST', `${cellPath()}/execute`);
      }),
    );
  }
  head.append(button('Delete', () => api('DELETE', cellPath())));
  item.append(head, source);
  if (cell.cell_type === 'code') item.append(renderOutputs(cell.outputs ?? []));
  if (editing && document.activeElement === editing) {
    const { selectionStart, selectionEnd } = editing;
    queueMicrotask(() => {
      source.focus();
      source.setSelectionRange(selectionStart, selectionEnd);
    });
  }
  return item;
}

function button(label, action) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.addEventListener('click', () => void attempt(action));
  return element;
}

const ANSI_ESCAPES = /\u001b\[[0-9;]*[A-Za-z]/g;

function renderOutputs(outputs) {
  const container = document.createElement('div');
  container.className = 'outputs';
  for (const output of outputs) {
    if (output.output_type === 'stream') {
      container.append(pre(output.text, output.name));
    } else if (output.output_type === 'error') {
      container.append(pre([`${output.ename}: ${output.evalue}`, ...output.traceback].join('\n').replace(ANSI_ESCAPES, ''), 'error'));
    } else if (output.data?.['image/png']) {
      const image = document.createElement('img');
      image.src = `data:image/png;base64,${output.data['image/png']}`;
      image.alt = output.data['text/plain'] ?? 'image';
      container.append(image);
    } else if (output.data?.['text/plain'] !== undefined) {
      container.append(pre(output.data['text/plain'], 'result'));
    }
  }
  return container;
}

function pre(text, kind) {
  const element = document.createElement('pre');
  element.className = kind;
  element.textContent = text;
  return element;
}

/** Shows the page for the current address: sign-in, the list, or one notebook. */
function route() {
  showError('');
  if (!token) {
    closeNotebook();
    show('sign-in');
    $('who').textContent = '';
    $('sign-out').hidden = true;
    return;
  }
  $('who').textContent = sessionStorage.getItem(USER_KEY) ?? '';
  $('sign-out').hidden = false;
  const match = /^#\/notebooks\/(.+)$/.exec(location.hash);
  if (match) void attempt(() => openNotebook(decodeURIComponent(match[1])));
  else {
    closeNotebook();
    void attempt(showNotebookList);
  }
}

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  void attempt(async () => {
    const response = await fetch('/api/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: form.get('user'), secret: form.get('secret') }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`${body.error}: ${body.message}`);
    token = body.access_token;
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, String(form.get('user')));
    route();
  });
});

$('new-notebook-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = new FormData(event.target).get('name');
  void attempt(async () => {
    const created = await api('POST', '/api/notebooks', { name });
    location.hash = `#/notebooks/${encodeURIComponent(created.id)}`;
  });
});

$('new-cell-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  void attempt(async () => {
    await api('POST', `/api/notebooks/${encodeURIComponent(view.id)}/cells`, { cell_type: form.get('cell_type'), source: form.get('source') });
    event.target.reset();
  });
});

$('input-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = String(new FormData(event.target).get('value'));
  void attempt(async () => {
    try {
      await api('POST', `/api/notebooks/${encodeURIComponent(view.id)}/input`, { value });
      hideInput();
    } catch (error) {
      // CONFLICT: the kernel no longer waits (another editor answered first); the prompt goes, the error shows.
      if (error instanceof Error && error.message.startsWith('CONFLICT')) hideInput();
      throw error;
    }
  });
});

$('interrupt').addEventListener('click', () => void attempt(() => api('POST', `/api/notebooks/${encodeURIComponent(view.id)}/kernel/interrupt`)));

$('sign-out').addEventListener('click', signOut);

window.addEventListener('hashchange', route);
route();
