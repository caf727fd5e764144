import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/test-server.js';

describe('service endpoints and auth', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers GET /health with status ok and no token', async () => {
    const response = await request(server.url).get('/health').expect(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.info.event_store.status).toBe('up');
  });

  it('serves the OpenAPI document at /docs-json and Swagger UI at /docs', async () => {
    const json = await request(server.url).get('/docs-json').expect(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toContain('/api/auth/token');
    const ui = await request(server.url).get('/docs').redirects(1).expect(200);
    expect(ui.text).toContain('swagger');
  });

  it('serves the web page’s files at the top level; other paths get the routes’ 404 in the contract shape', async () => {
    const page = await request(server.url).get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('app.js');
    expect((await request(server.url).get('/app.js').expect(200)).headers['content-type']).toMatch(/javascript/);
    expect((await request(server.url).get('/style.css').expect(200)).headers['content-type']).toMatch(/^text\/css/);
    for (const path of ['/api/app.js', '/public/app.js']) {
      expect((await request(server.url).get(path).expect(404)).body).toMatchObject({ error: 'NOT_FOUND' });
    }
  });

  it('mints a bearer token for the right secret', async () => {
    const response = await request(server.url).post('/api/auth/token').send({ secret: TEST_SECRET, user: 'alice' }).expect(200);
    expect(response.body).toMatchObject({ token_type: 'bearer', expires_in: expect.any(Number), access_token: expect.any(String) });
  });

  it('refuses a wrong secret with 401 in the contract shape', async () => {
    const response = await request(server.url).post('/api/auth/token').send({ secret: 'wrong', user: 'alice' }).expect(401);
    expect(response.body).toEqual({ error: 'UNAUTHORIZED', message: expect.any(String) });
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await request(server.url).post('/api/auth/token').set('content-type', 'application/json').send('{"secret": ').expect(400);
    expect(response.body).toEqual({ error: 'BAD_REQUEST', message: 'the request body is not valid JSON' });
  });

  it('refuses wrong types with 400 naming the field', async () => {
    const response = await request(server.url).post('/api/auth/token').send({ secret: 1, user: 'alice' }).expect(400);
    expect(response.body.error).toBe('BAD_REQUEST');
    expect(response.body.message).toContain('secret');
  });

  it('refuses /api without a token, and with a forged one, with 401', async () => {
    const missing = await request(server.url).get('/api/notebooks/x/events').expect(401);
    expect(missing.body.error).toBe('UNAUTHORIZED');
    const forged = await request(server.url).get('/api/notebooks/x/events').set('authorization', 'Bearer abc.def.ghi').expect(401);
    expect(forged.body).toEqual({ error: 'UNAUTHORIZED', message: 'the token is invalid' });
  });
});
