// Throttling, usage plans and quotas (SPEC section 6): token buckets for the server, a stage, a
// plan's key and a plan's route, each request taking one token from every level; quotas per
// key per period; plan membership of keys; the 429 bodies and error types on HTTP, on the
// management API and on WebSocket messages; one bucket shared exactly by two workers; counts
// that survive a reload; /admin/usage as AWS's GetUsage answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startFor,
  freePort,
  wsApi,
  mock,
  openWs,
  nextJson,
  nextText,
  httpRequest,
  signedRequest,
  runPortico,
  writeTempConfig,
  waitFor,
  sleep,
  CREDENTIALS,
} from './lib/portico.mjs';

const T = { timeout: 60000 };
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const CAROL = 'carol-key-0123456789abcdef';
const KEYS = [
  { id: 'k1', name: 'alice', value: ALICE, enabled: true },
  { id: 'k2', name: 'bob', value: BOB, enabled: true },
  { id: 'k3', name: 'carol', value: CAROL, enabled: true },
];
const NEVER = 0.001; // a refill every 1000 s: no token comes back during a test

function shop(stageOver = {}) {
  return {
    name: 'shop',
    protocolType: 'HTTP',
    basePath: '/shop',
    stages: { prod: { ...stageOver }, beta: {} },
    integrations: { ok: mock('ok', 200) },
    routes: {
      'GET /free': { integration: 'ok' },
      'GET /pets/{id}': { integration: 'ok', apiKeyRequired: true },
      'GET /keyed': { integration: 'ok', apiKeyRequired: true },
    },
  };
}

/** Sends `n` requests one after the other; resolves the statuses. */
async function statuses(port, path, n, headers = {}) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await httpRequest({ port, path, headers })).status);
  return out;
}

const count = (list, v) => list.filter((s) => s === v).length;

test('a stage throttle lets the burst through, then answers 429 Too Many Requests until tokens come back', T, async (t) => {
  const p = await startFor(t, { apis: [shop({ throttle: { rateLimit: 4, burstLimit: 3 } })] });
  const first = await statuses(p.port, '/shop/prod/free', 5);
  assert.deepEqual(first, [200, 200, 200, 429, 429]);
  const r = await httpRequest({ port: p.port, path: '/shop/prod/free' });
  assert.equal(r.status, 429);
  assert.equal(r.headers['x-amzn-errortype'], 'TooManyRequestsException');
  assert.deepEqual(JSON.parse(r.text), { message: 'Too Many Requests' });
  assert.ok(r.headers['apigw-requestid']);
  // Another stage of the same API has no throttle.
  assert.deepEqual(await statuses(p.port, '/shop/beta/free', 5), [200, 200, 200, 200, 200]);
  await sleep(1000); // 4 per second: four tokens back, but the bucket holds three
  assert.deepEqual(await statuses(p.port, '/shop/prod/free', 4), [200, 200, 200, 429]);
});

test('the server throttle covers every API and the management API (429 LimitExceededException there)', T, async (t) => {
  const p = await startFor(t, {
    credentials: CREDENTIALS,
    throttle: { rateLimit: NEVER, burstLimit: 4 },
    apis: [shop(), wsApi()],
  });
  assert.deepEqual(await statuses(p.port, '/shop/prod/free', 2), [200, 200]);
  assert.deepEqual(await statuses(p.port, '/shop/beta/free', 1), [200]);
  const ws = await openWs(`${p.wsUrl}/dev`); // the handshake takes the fourth token
  ws.send('hello');
  const frame = await nextJson(ws);
  assert.equal(frame.message, 'Too Many Requests');
  assert.match(frame.requestId, /^\S+$/);
  assert.ok(frame.connectionId);
  const post = await signedRequest(p.port, 'POST', '/dev/@connections/AQAAAAAAAABoF5QDC9fySg', 'x');
  assert.equal(post.status, 429);
  assert.equal(post.headers['x-amzn-errortype'], 'LimitExceededException');
  const refused = await httpRequest({ port: p.port, path: '/dev', headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
  assert.equal(refused.status, 429);
  ws.close();
});

test('two workers share one bucket exactly', T, async (t) => {
  const p = await startFor(t, { workers: 2, apis: [shop({ throttle: { rateLimit: NEVER, burstLimit: 60 } })] });
  // Separate connections, so the kernel spreads them over both workers.
  const all = await Promise.all(Array.from({ length: 200 }, () => httpRequest({ port: p.port, path: '/shop/prod/free' })));
  const codes = all.map((r) => r.status);
  assert.equal(count(codes, 200), 60, JSON.stringify(codes));
  assert.equal(count(codes, 429), 140);
});

function planConfig(adminPort) {
  return {
    admin: { host: '127.0.0.1', port: adminPort },
    apiKeys: KEYS,
    usagePlans: [
      {
        name: 'gold',
        apiKeys: ['k1'],
        throttle: { rateLimit: NEVER, burstLimit: 100 },
        quota: { limit: 6, period: 'DAY' },
        apiStages: [{ api: 'shop', stage: 'prod', throttle: { 'GET /pets/{id}': { rateLimit: NEVER, burstLimit: 2 } } }],
      },
      { name: 'silver', apiKeys: ['k2'], throttle: { rateLimit: NEVER, burstLimit: 3 }, apiStages: [{ api: 'shop', stage: 'prod' }] },
    ],
    apis: [shop()],
  };
}

test('usage plans: per-key throttles, a route throttle, the quota, and keys outside the stage\'s plans', T, async (t) => {
  const adminPort = await freePort();
  const p = await startFor(t, planConfig(adminPort));
  const alice = { 'x-api-key': ALICE };
  const bob = { 'x-api-key': BOB };
  // The plan's route throttle: two per key on GET /pets/{id}.
  assert.deepEqual(await statuses(p.port, '/shop/prod/pets/1', 3, alice), [200, 200, 429]);
  // Bob's plan has its own bucket: three, whatever Alice did.
  assert.deepEqual(await statuses(p.port, '/shop/prod/keyed', 4, bob), [200, 200, 200, 429]);
  // Alice's quota is 6 a day; 2 are spent (a throttled request is not counted).
  assert.deepEqual(await statuses(p.port, '/shop/prod/keyed', 4, alice), [200, 200, 200, 200]);
  const spent = await httpRequest({ port: p.port, path: '/shop/prod/keyed', headers: alice });
  assert.equal(spent.status, 429);
  assert.equal(spent.headers['x-amzn-errortype'], 'LimitExceededException');
  assert.deepEqual(JSON.parse(spent.text), { message: 'Limit Exceeded' });
  // Carol's key is enabled but in no plan of prod: 403 there; beta has no plan, so it passes.
  assert.equal((await httpRequest({ port: p.port, path: '/shop/prod/keyed', headers: { 'x-api-key': CAROL } })).status, 403);
  assert.equal((await httpRequest({ port: p.port, path: '/shop/beta/keyed', headers: { 'x-api-key': CAROL } })).status, 200);
  // Routes without apiKeyRequired are not counted against any plan.
  assert.deepEqual(await statuses(p.port, '/shop/prod/free', 3, alice), [200, 200, 200]);
});

test('/admin/usage reports used and remaining per key per day, and the counts survive a reload', T, async (t) => {
  const adminPort = await freePort();
  const p = await startFor(t, planConfig(adminPort));
  const admin = (q) => fetch(`http://127.0.0.1:${adminPort}/admin/usage?${q}`);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/healthz`).catch(() => ({}))).status === 200, { what: 'the admin listener' });
  await statuses(p.port, '/shop/prod/keyed', 4, { 'x-api-key': ALICE });
  await statuses(p.port, '/shop/prod/keyed', 2, { 'x-api-key': BOB });
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);

  const gold = await (await admin(`plan=gold&start=${yesterday}&end=${today}`)).json();
  assert.deepEqual(gold, { usagePlanId: 'gold', startDate: yesterday, endDate: today, values: { k1: [[0, 6], [4, 2]] } });
  const silver = await (await admin(`plan=silver&start=${today}&end=${today}&keyId=k2`)).json();
  assert.deepEqual(silver.values, { k2: [[2, null]] }); // no quota: nothing "remaining"

  // A reload keeps the counts: Alice has 2 left today.
  p.signal('SIGHUP');
  await waitFor(() => p.logs().some((l) => l.includes('config reloaded')), { what: 'the reload' });
  assert.deepEqual(await statuses(p.port, '/shop/prod/keyed', 3, { 'x-api-key': ALICE }), [200, 200, 429]);
  const after = await (await admin(`plan=gold&start=${today}&end=${today}`)).json();
  assert.deepEqual(after.values, { k1: [[6, 0]] });

  const bad = await admin(`plan=gold&start=${today}&end=2026-02-31`);
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('x-amzn-errortype'), 'BadRequestException');
  const none = await admin(`plan=platinum&start=${today}&end=${today}`);
  assert.equal(none.status, 404);
  assert.equal(none.headers.get('x-amzn-errortype'), 'NotFoundException');
});

test('WebSocket: a route with apiKeyRequired uses the handshake\'s key, its plan throttles it, and the connection stays', T, async (t) => {
  const api = wsApi({
    integrations: { send: mock('sent', 200) },
    routes: { $connect: { integration: 'echo' }, sendmessage: { integration: 'send', routeResponse: true, apiKeyRequired: true } },
  });
  const p = await startFor(t, {
    apiKeys: KEYS,
    usagePlans: [{ name: 'chat', apiKeys: ['k1'], apiStages: [{ api: 'chat', stage: 'dev', throttle: { sendmessage: { rateLimit: NEVER, burstLimit: 2 } } }] }],
    apis: [api],
  });
  const keyed = await openWs(`${p.wsUrl}/dev`, { headers: { 'x-api-key': ALICE } });
  for (let i = 0; i < 2; i++) {
    keyed.send(JSON.stringify({ action: 'sendmessage' }));
    assert.equal(await nextText(keyed), 'sent');
  }
  keyed.send(JSON.stringify({ action: 'sendmessage' }));
  const throttled = await nextJson(keyed);
  assert.equal(throttled.message, 'Too Many Requests');
  keyed.send('still open'); // $default is not limited
  assert.equal(await nextText(keyed), 'still open');

  // A connection without a key is let in, but routes that need one answer Forbidden.
  const bare = await openWs(`${p.wsUrl}/dev`);
  bare.send(JSON.stringify({ action: 'sendmessage' }));
  assert.equal((await nextJson(bare)).message, 'Forbidden');
  bare.send('hi');
  assert.equal(await nextText(bare), 'hi');
  // A wrong key, or a key outside the stage's plans, refuses the handshake.
  await assert.rejects(openWs(`${p.wsUrl}/dev`, { headers: { 'x-api-key': 'not-a-key-0123456789abc' } }), /403/);
  await assert.rejects(openWs(`${p.wsUrl}/dev`, { headers: { 'x-api-key': BOB } }), /403/);
  keyed.close();
  bare.close();
});

test('--check: throttles and usage plans are checked against the keys, APIs, stages and routes', T, async (t) => {
  const cfg = {
    throttle: { rateLimit: -1, burstLimit: 1.5 },
    apiKeys: KEYS,
    usagePlans: [
      { name: 'a', apiKeys: ['k1', 'nope'], quota: { limit: 5, period: 'YEAR' }, apiStages: [{ api: 'shop', stage: 'prod', throttle: { 'GET /nowhere': { rateLimit: 1, burstLimit: 1 } } }, { api: 'nope', stage: 'x' }] },
      { name: 'b', apiKeys: ['k1'], throttle: { rateLimit: 1 }, apiStages: [{ api: 'shop', stage: 'prod' }, { api: 'shop', stage: 'gamma' }] },
    ],
    apis: [shop({ throttle: { rateLimit: 1, burstLimit: 1, extra: 1 } })],
  };
  const f = await writeTempConfig(cfg);
  t.after(f.cleanup);
  const r = await runPortico(['--check', f.file]);
  assert.equal(r.code, 1, r.output);
  for (const want of [
    /throttle\.rateLimit: expected requests per second, 0 to 1e9, got -1/,
    /throttle\.burstLimit: expected a whole number of requests, 0 to 1000000000, got 1\.5/,
    /usagePlans\[0\]\.apiKeys\[1\]: no API key has the id "nope"/,
    /usagePlans\[0\]\.quota\.period: /,
    /usagePlans\[0\]\.apiStages\[0\]\.throttle\["GET \/nowhere"\]: the API "shop" has no route "GET \/nowhere"/,
    /usagePlans\[0\]\.apiStages\[1\]\.api: no API is named "nope"/,
    /usagePlans\[1\]\.throttle: missing required key "burstLimit"/,
    /usagePlans\[1\]\.apiStages\[1\]\.stage: the API "shop" has no stage "gamma"/,
    /usagePlans\[1\]: the key "k1" is also in usagePlans\[0\] for shop\/prod/,
    /apis\[0\]\.stages\.prod\.throttle\.extra: unknown key/,
  ]) assert.match(r.output, want);
});
