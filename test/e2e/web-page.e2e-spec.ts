import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/test-server.js';

/** Debian's Chromium (`apt-get install -y chromium`, as the README and `.ci/run` do). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Flags for a closed network: without them Chromium keeps reaching for Google's services.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!existsSync(CHROMIUM))('the web page, in headless Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(30_000);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(user: string, secret: string, on: Page = page): Promise<void> {
    await on.goto(server.url);
    await on.getByLabel('User').fill(user);
    await on.getByLabel('Secret').fill(secret);
    await on.getByRole('button', { name: 'Sign in' }).click();
  }

  /** The id of the notebook the main page has open (from its address). */
  const openNotebookId = () => decodeURIComponent(/#\/notebooks\/(.+)$/.exec(page.url())![1]);

  /** A cell textarea as the user sees it: its text, selection, focus, and the marker a test put on the element. */
  const editorState = (textarea: Locator) =>
    textarea.evaluate((area) => {
      const element = area as unknown as { value: string; selectionStart: number; selectionEnd: number; marker?: string; ownerDocument: { activeElement: unknown } };
      return { value: element.value, selection: [element.selectionStart, element.selectionEnd], marker: element.marker, focused: element.ownerDocument.activeElement === area };
    });

  it('refuses a wrong secret with the contract error and stays on the sign-in form', async () => {
    await signIn('alice', 'not-the-secret');
    await expect.poll(() => page.locator('#error').textContent()).toContain('UNAUTHORIZED');
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
  });

  it('signs in, creates a notebook, runs a cell on a real kernel and shows its output', async () => {
    await signIn('alice', TEST_SECRET);
    await page.getByPlaceholder('analysis.ipynb').fill('page.ipynb');
    await page.getByRole('button', { name: 'New notebook' }).click();
    await page.locator('#live-status', { hasText: 'live' }).waitFor();
    expect(await page.locator('#notebook-name').textContent()).toBe('page.ipynb');

    await page.locator('#new-cell-form textarea').fill('print(6 * 7)');
    await page.getByRole('button', { name: 'Add cell' }).click();
    const cell = page.locator('.cell').first();
    await cell.locator('textarea').waitFor();
    expect(await cell.locator('textarea').inputValue()).toBe('print(6 * 7)');

    await cell.getByRole('button', { name: 'Run' }).click();
    await page.locator('.cell .outputs pre.stdout', { hasText: '42' }).waitFor();
    await page.locator('.cell .prompt', { hasText: '[1]' }).waitFor();
  });

  it('shows a cell’s input() prompt, also on a page opened after it was asked, and sends the answer to the kernel', async () => {
    await page.locator('#new-cell-form textarea').fill("name = input('Name? ')\nprint('hi', name)");
    await page.getByRole('button', { name: 'Add cell' }).click();
    const cell = page.locator('.cell').nth(1);
    await cell.locator('textarea').waitFor();
    await cell.getByRole('button', { name: 'Run' }).click();
    await page.locator('#input-form', { hasText: 'Name?' }).waitFor();

    // A notebook event after the prompt (a role granted), so a page opened now starts after the prompt's event
    // in the log: it finds the prompt on the kernel instead, and answers it.
    const id = openNotebookId();
    const alice = await server.token('alice');
    await request(server.url).put(`/api/notebooks/${id}/members/dave`).set('authorization', `Bearer ${alice}`).send({ role: 'viewer' }).expect(200);
    const late = await browser.newPage();
    try {
      await signIn('alice', TEST_SECRET, late);
      await late.getByRole('link', { name: 'page.ipynb' }).click();
      await late.locator('#input-form', { hasText: 'Name?' }).waitFor();
      await late.locator('#input-form input').fill('Ada');
      await late.getByRole('button', { name: 'Send' }).click();
      await late.locator('#input-form').waitFor({ state: 'hidden' });
    } finally {
      await late.close();
    }
    await cell.locator('.outputs pre.stdout', { hasText: 'hi Ada' }).waitFor();
    await page.locator('#input-form').waitFor({ state: 'hidden' });
  });

  it('shows another editor’s REST change live, without a reload', async () => {
    const id = openNotebookId();
    const bob = await server.token('bob');
    const alice = await server.token('alice');
    await request(server.url).put(`/api/notebooks/${id}/members/bob`).set('authorization', `Bearer ${alice}`).send({ role: 'editor' }).expect(200);
    await request(server.url).post(`/api/notebooks/${id}/cells`).set('authorization', `Bearer ${bob}`).send({ cell_type: 'markdown', source: '# Written by bob' }).expect(201);

    await expect.poll(() => page.locator('.cell textarea').evaluateAll((areas) => areas.map((area) => (area as unknown as { value: string }).value))).toEqual(['print(6 * 7)', "name = input('Name? ')\nprint('hi', name)", '# Written by bob']);
    const served = await request(server.url).get(`/api/notebooks/${id}`).set('authorization', `Bearer ${alice}`).expect(200);
    expect(await page.locator('#notebook-version').textContent()).toBe(String(served.body.version));
    expect(pageErrors).toEqual([]);
  });

  it('keeps the cell being edited (its element, focus, caret and unsaved text) while other cells change', async () => {
    const id = openNotebookId();
    const bob = await server.token('bob');
    const editing = page.locator('.cell textarea').first();
    await editing.click();
    await editing.press('End');
    await editing.pressSequentially('  # draft');
    await editing.evaluate((area) => {
      const textarea = area as unknown as { setSelectionRange(start: number, end: number): void; marker?: string };
      textarea.setSelectionRange(3, 5);
      textarea.marker = 'the same element';
    });

    // Another editor inserts a cell above it, then deletes it again.
    const inserted = await request(server.url).post(`/api/notebooks/${id}/cells`).set('authorization', `Bearer ${bob}`).send({ cell_type: 'code', source: 'above = 1', index: 0 }).expect(201);
    await expect.poll(() => page.locator('.cell textarea').first().inputValue()).toBe('above = 1');
    const kept = { value: 'print(6 * 7)  # draft', selection: [3, 5], marker: 'the same element', focused: true };
    expect(await editorState(page.locator('.cell textarea').nth(1))).toEqual(kept);

    await request(server.url).delete(`/api/notebooks/${id}/cells/${inserted.body.cell.id}`).set('authorization', `Bearer ${bob}`).expect(200);
    await expect.poll(() => page.locator('.cell').count()).toBe(3);
    expect(await editorState(editing)).toEqual(kept);
    expect(pageErrors).toEqual([]);
  });

  it('shows a viewer the server’s refusal when it runs a cell, and nothing runs', async () => {
    const id = openNotebookId();
    const alice = await server.token('alice');
    await request(server.url).put(`/api/notebooks/${id}/members/carol`).set('authorization', `Bearer ${alice}`).send({ role: 'viewer' }).expect(200);
    const eventsBefore = (await request(server.url).get(`/api/notebooks/${id}/events?limit=1000`).set('authorization', `Bearer ${alice}`).expect(200)).body.events.length;

    const viewer = await browser.newPage();
    try {
      await signIn('carol', TEST_SECRET, viewer);
      await viewer.getByRole('link', { name: 'page.ipynb' }).click();
      await viewer.locator('#live-status', { hasText: 'live' }).waitFor();
      await viewer.locator('.cell').first().getByRole('button', { name: 'Run' }).click();
      await viewer.locator('#error', { hasText: 'FORBIDDEN' }).waitFor();
    } finally {
      await viewer.close();
    }
    const eventsAfter = (await request(server.url).get(`/api/notebooks/${id}/events?limit=1000`).set('authorization', `Bearer ${alice}`).expect(200)).body.events.length;
    expect(eventsAfter).toBe(eventsBefore);
  });
});
