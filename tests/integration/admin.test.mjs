// The admin listener (SPEC sections 3 and 7): /healthz, /metrics in the Prometheus text format
// with the AWS metric set per api, stage and route, summed over the workers, /admin/reload,
// and the bearer token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFor, echoConfig, freePort, openWs, nextText, sleep } from './lib/portico.mjs';

const T = { timeout: 30000 };
const TOKEN = 'admin-token-for-tests';

async function setup(t, { workers = 1, token = TOKEN } = {}) {
  const adminPort = await freePort();
  const cfg = echoConfig({ workers, admin: { host: '127.0.0.1', port: adminPort, token } });
  const p = await startFor(t, cfg);
  const admin = `http://127.0.0.1:${adminPort}`;
  const get = (path, auth = token) =>
    fetch(admin + path, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
  // The admin listener opens with the others; wait until it answers.
  for (let i = 0; i < 50; i++) {
    try {
      await get('/healthz');
      break;
    } catch {
      await sleep(50);
    }
  }
  return { p, admin, get };
}

/** The value of one sample line of the Prometheus text, or undefined. */
function sample(text, name, labels) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${want}}`) || l.startsWith(`${name}{${want},`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('healthz answers 200 {"status":"serving"} and needs the token when one is set', T, async (t) => {
  const { get } = await setup(t);
  const ok = await get('/healthz');
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: 'serving' });
  assert.equal((await get('/healthz', null)).status, 401);
  assert.equal((await get('/healthz', 'wrong-token')).status, 401);
  assert.equal((await get('/nope')).status, 404);
});

test('without a token the admin listener is open (it is on loopback)', T, async (t) => {
  const { get } = await setup(t, { token: null });
  assert.equal((await get('/healthz', null)).status, 200);
});

test('metrics count connects, messages and integration latency per route, over two workers', T, async (t) => {
  const { p, get } = await setup(t, { workers: 2 });
  const clients = [];
  for (let i = 0; i < 6; i++) clients.push(await openWs(`${p.wsUrl}/dev`));
  for (const ws of clients) {
    ws.send('hello');
    assert.equal(await nextText(ws), 'hello');
  }
  const res = await get('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  const text = await res.text();
  assert.match(text, /# TYPE portico_messages_total counter/);
  assert.match(text, /# TYPE portico_latency_seconds histogram/);
  const labels = { api: 'chat', stage: 'dev', route: '$default' };
  // Six messages in and six answers out, whatever worker each connection landed on.
  assert.equal(sample(text, 'portico_messages_total', labels), 12, text);
  assert.equal(sample(text, 'portico_integration_latency_seconds_count', labels), 6, text);
  assert.equal(sample(text, 'portico_connections', {}) ?? Number(text.match(/^portico_connections (\d+)/m)[1]), 6);
  for (const ws of clients) ws.close();
});

test('POST /admin/reload reloads the config like SIGHUP', T, async (t) => {
  const { p, admin } = await setup(t);
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('before');
  assert.equal(await nextText(ws), 'before');
  const cfg = JSON.parse(await (await import('node:fs/promises')).readFile(p.configPath, 'utf8'));
  cfg.apis[0].integrations.echo.response.body = 'reloaded: $request.body';
  await p.writeConfig(cfg);
  const r = await fetch(`${admin}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 202);
  let answer = '';
  for (let i = 0; i < 40 && !answer.startsWith('reloaded'); i++) {
    await sleep(50);
    ws.send('after');
    answer = await nextText(ws);
  }
  assert.equal(answer, 'reloaded: after');
  ws.close();
});

test('while draining, healthz answers 503 {"status":"draining"} and the API listeners are closed', T, async (t) => {
  const http = await import('node:http');
  const slow = http.createServer((q, r) => setTimeout(() => r.end('slow'), 1500));
  await new Promise((r) => slow.listen(0, '127.0.0.1', r));
  t.after(() => slow.close());
  const adminPort = await freePort();
  const p = await startFor(t, {
    admin: { host: '127.0.0.1', port: adminPort, token: null },
    apis: [{
      name: 'h', protocolType: 'HTTP', stages: { $default: {} },
      integrations: { s: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${slow.address().port}/` } },
      routes: { 'GET /slow': { integration: 's' } },
    }],
  });
  const inflight = fetch(`${p.baseUrl}/slow`).then((r) => r.text());
  await sleep(300);
  p.signal('SIGTERM');
  await sleep(200);
  const h = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
  assert.equal(h.status, 503);
  assert.deepEqual(await h.json(), { status: 'draining' });
  await assert.rejects(fetch(`${p.baseUrl}/slow`), 'the API listener is closed while draining');
  assert.equal(await inflight, 'slow', 'the request in flight is answered first');
  const exit = await p.exited;
  assert.equal(exit.code, 0);
});
