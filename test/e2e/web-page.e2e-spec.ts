import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
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

  it('shows a cell’s input() prompt and sends the answer to the kernel', async () => {
    await page.locator('#new-cell-form textarea').fill("name = input('Name? ')\nprint('hi', name)");
    await page.getByRole('button', { name: 'Add cell' }).click();
    const cell = page.locator('.cell').nth(1);
    await cell.locator('textarea').waitFor();
    await cell.getByRole('button', { name: 'Run' }).click();
    await page.locator('#input-form', { hasText: 'Name?' }).waitFor();
    await page.locator('#input-form input').fill('Ada');
    await page.getByRole('button', { name: 'Send' }).click();
    await cell.locator('.outputs pre.stdout', { hasText: 'hi Ada' }).waitFor();
    await page.locator('#input-form').waitFor({ state: 'hidden' });
  });

  it('shows another editor’s REST change live, without a reload', async () => {
    const id = decodeURIComponent(/#\/notebooks\/(.+)$/.exec(page.url())![1]);
    const bob = await server.token('bob');
    const alice = await server.token('alice');
    await request(server.url).put(`/api/notebooks/${id}/members/bob`).set('authorization', `Bearer ${alice}`).send({ role: 'editor' }).expect(200);
    await request(server.url).post(`/api/notebooks/${id}/cells`).set('authorization', `Bearer ${bob}`).send({ cell_type: 'markdown', source: '# Written by bob' }).expect(201);

    await expect.poll(() => page.locator('.cell textarea').evaluateAll((areas) => areas.map((area) => (area as unknown as { value: string }).value))).toEqual(['print(6 * 7)', "name = input('Name? ')\nprint('hi', name)", '# Written by bob']);
    const served = await request(server.url).get(`/api/notebooks/${id}`).set('authorization', `Bearer ${alice}`).expect(200);
    expect(await page.locator('#notebook-version').textContent()).toBe(String(served.body.version));
    expect(pageErrors).toEqual([]);
  });

  it('shows a viewer the server’s refusal when it runs a cell, and nothing runs', async () => {
    const id = decodeURIComponent(/#\/notebooks\/(.+)$/.exec(page.url())![1]);
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
