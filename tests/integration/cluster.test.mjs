// Cluster mode (SPEC section 8) with a real redis-server and several Portico nodes, each with two
// workers: the management API of any node reaches a connection on any node (AWS SDK), channel
// publishes reach subscribers everywhere in order with the total count, presence and listings
// cover every node, a node that is gone answers 410, and with Redis down each node keeps serving
// its own while calls for other nodes answer 503 at once, until Redis is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  wsApi,
  openWs,
  nextText,
  nextJson,
  nextMessage,
  freePort,
  connectionIdOf,
  closeEvent,
  mgmtClient,
  sdkError,
  signedRequest,
  runPortico,
  writeTempConfig,
  waitFor,
  encId,
  sleep,
  CREDENTIALS,
} from './lib/portico.mjs';
import { redisFor } from './lib/redis.mjs';

const T = { timeout: 60000 };
const FACTOR = Number(process.env.PORTICO_TIME_FACTOR || 1); // sanitizer builds are slower

function nodeConfig(redis, nodeId, over = {}) {
  return {
    workers: 2,
    credentials: CREDENTIALS,
    cluster: { redis: redis.url, nodeId },
    apis: [
      wsApi({
        integrations: { join: { type: 'CHANNEL', action: 'subscribe', channel: '$request.body.room' } },
        routes: { join: { integration: 'join', routeResponse: true } },
      }),
    ],
    ...over,
  };
}

/** Opens a client on node <p> that joined <room>; resolves { ws, id }. */
async function member(p, room) {
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.send(JSON.stringify({ action: 'join', room }));
  assert.deepEqual(await nextJson(ws), { subscribed: room });
  return { ws, id };
}

test('the management API of any node reaches a connection on another node (AWS SDK)', T, async (t) => {
  const redis = await redisFor(t);
  const a = await startFor(t, nodeConfig(redis, 'node-a'));
  const b = await startFor(t, nodeConfig(redis, 'node-b'));
  const ws = await openWs(`${a.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const viaB = mgmtClient(b.port, '/dev');
  await viaB.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('from node b') }));
  assert.equal(await nextText(ws), 'from node b');
  const info = await viaB.send(new GetConnectionCommand({ ConnectionId: id }));
  assert.ok(info.ConnectedAt instanceof Date);
  assert.equal(info.Identity.SourceIp, '127.0.0.1');
  // Binary bodies cross as they are.
  await viaB.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from([0, 1, 2, 255]) }));
  const bin = await nextMessage(ws);
  assert.deepEqual([bin.isBinary, [...bin.data]], [true, [0, 1, 2, 255]]);
  await viaB.send(new DeleteConnectionCommand({ ConnectionId: id }));
  assert.equal((await closeEvent(ws)).code, 1000);
  const gone = await sdkError(viaB, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assert.equal(gone.name, 'GoneException');
  // An id of an unknown node (no worker listens for it) is gone too, at once.
  const forged = id.slice(0, 1) + (id[1] === 'A' ? 'B' : 'A') + id.slice(2);
  const err = await sdkError(viaB, new GetConnectionCommand({ ConnectionId: forged }));
  assert.match(err.name, /GoneException|BadRequestException/);
});

test('a publish on any node reaches subscribers on every node, in order, with the total count; presence and listings cover every node', T, async (t) => {
  const redis = await redisFor(t);
  const a = await startFor(t, nodeConfig(redis, 'node-a'));
  const b = await startFor(t, nodeConfig(redis, 'node-b'));
  const members = [];
  for (let i = 0; i < 3; i++) members.push(await member(a, 'lobby'));
  for (let i = 0; i < 2; i++) members.push(await member(b, 'lobby'));
  const got = members.map(() => []);
  members.forEach((m, i) => m.ws.on('message', (d) => got[i].push(String(d))));

  const N = 40;
  for (let i = 0; i < N; i++) {
    const via = i % 2 === 0 ? a : b;
    const r = await signedRequest(via.port, 'POST', '/dev/@channels/lobby', `m${i}`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { delivered: 5 });
  }
  await waitFor(() => got.every((g) => g.length === N), { timeoutMs: 5000 * FACTOR, what: 'every message on every node' });
  const want = Array.from({ length: N }, (_, i) => `m${i}`);
  got.forEach((g) => assert.deepEqual(g, want)); // nothing lost, one order everywhere

  const ids = members.map((m) => m.id).sort();
  for (const via of [a, b]) {
    const pres = JSON.parse((await signedRequest(via.port, 'GET', '/dev/@channels/lobby')).text);
    assert.equal(pres.count, 5);
    assert.deepEqual([...pres.connections].sort(), ids);
  }
  // The stage's connections, page by page, from node b.
  const seen = new Set();
  let next;
  for (let pages = 0; pages < 20; pages++) {
    const q = `?limit=2${next ? `&next=${encodeURIComponent(next)}` : ''}`;
    const page = JSON.parse((await signedRequest(b.port, 'GET', `/dev/@connections${q}`)).text);
    page.connections.forEach((c) => seen.add(c));
    next = page.next;
    if (!next) break;
  }
  assert.deepEqual([...seen].sort(), ids);

  // Leaving (a close on node a) leaves the presence everywhere.
  members[0].ws.close();
  await waitFor(async () => JSON.parse((await signedRequest(b.port, 'GET', '/dev/@channels/lobby')).text).count === 4, { what: 'presence without the closed one' });
  for (const m of members.slice(1)) m.ws.close();
});

test('a node that is gone: posts to its connections answer 410 from the others', T, async (t) => {
  const redis = await redisFor(t);
  const a = await startFor(t, nodeConfig(redis, 'node-a'));
  const b = await startFor(t, nodeConfig(redis, 'node-b'));
  const ws = await openWs(`${a.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.on('error', () => {});
  await a.stop('SIGKILL');
  const started = Date.now();
  const r = await signedRequest(b.port, 'POST', `/dev/@connections/${encId(id)}`, 'anyone there?');
  assert.equal(r.status, 410);
  assert.ok(Date.now() - started < 1000 * FACTOR, 'the 410 took more than a second');
});

test('Redis down: each node serves its own, calls for other nodes get 503 at once; Redis back: all flows again', T, async (t) => {
  const redis = await redisFor(t);
  const aAdmin = await freePort();
  const a = await startFor(t, nodeConfig(redis, 'node-a', { admin: { host: '127.0.0.1', port: aAdmin } }));
  const b = await startFor(t, nodeConfig(redis, 'node-b'));
  const metric = async () => {
    const text = await (await fetch(`http://127.0.0.1:${aAdmin}/metrics`)).text();
    return Number(text.match(/^portico_cluster_up (\d)/m)?.[1]);
  };
  await waitFor(async () => (await metric().catch(() => NaN)) === 1, { what: 'portico_cluster_up 1' });
  const { ws, id } = await member(a, 'news');
  await redis.stop();
  await waitFor(async () => (await metric()) === 0, { what: 'portico_cluster_up 0' });

  const started = Date.now();
  const remote = await signedRequest(b.port, 'POST', `/dev/@connections/${encId(id)}`, 'x');
  assert.equal(remote.status, 503);
  assert.equal(remote.headers['x-amzn-errortype'], 'ServiceUnavailableException');
  assert.deepEqual(JSON.parse(remote.text), { message: 'Service Unavailable' });
  const pub = await signedRequest(a.port, 'POST', '/dev/@channels/news', 'x');
  assert.equal(pub.status, 503);
  assert.ok(Date.now() - started < 1000 * FACTOR, 'a 503 took more than a second');
  // Its own connections: node a still posts to them and runs their routes.
  assert.equal((await signedRequest(a.port, 'POST', `/dev/@connections/${encId(id)}`, 'still here')).status, 200);
  assert.equal(await nextText(ws), 'still here');
  ws.send('echo');
  assert.equal(await nextText(ws), 'echo');

  await redis.start(); // empty: the nodes put back what they hold
  await waitFor(async () => (await metric()) === 1, { timeoutMs: 10000 * FACTOR, what: 'portico_cluster_up 1 again' });
  await waitFor(async () => (await signedRequest(b.port, 'POST', `/dev/@connections/${encId(id)}`, 'back')).status === 200, { timeoutMs: 5000 * FACTOR, what: 'a post through node b' });
  assert.equal(await nextText(ws), 'back');
  const pres = JSON.parse((await signedRequest(b.port, 'GET', '/dev/@channels/news')).text);
  assert.deepEqual(pres, { count: 1, connections: [id] });
  const again = await signedRequest(b.port, 'POST', '/dev/@channels/news', 'news');
  assert.deepEqual(JSON.parse(again.text), { delivered: 1 });
  assert.equal(await nextText(ws), 'news');
  ws.close();
});

test('--check: the cluster block; a reload cannot change it', T, async (t) => {
  const bad = await writeTempConfig({
    cluster: { redis: ['redis://127.0.0.1:1/0', 'redis://127.0.0.1:2/0'], nodeId: '' },
    apis: [wsApi()],
  });
  t.after(bad.cleanup);
  let r = await runPortico(['--check', bad.file]);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /cluster\.redis: a list of several Redis servers is not supported yet/);
  const url = await writeTempConfig({ cluster: { redis: 'http://127.0.0.1:6379', extra: 1 }, apis: [wsApi()] });
  t.after(url.cleanup);
  r = await runPortico(['--check', url.file]);
  assert.match(r.output, /cluster\.extra: unknown key/);
  const url2 = await writeTempConfig({ cluster: { redis: 'http://127.0.0.1:6379' }, apis: [wsApi()] });
  t.after(url2.cleanup);
  r = await runPortico(['--check', url2.file]);
  assert.match(r.output, /cluster\.redis: expected redis:\/\/\[:password@\]host\[:port\]\[\/db\], got "http:\/\/127\.0\.0\.1:6379"/);
  const lease = await writeTempConfig({ cluster: { redis: 'redis://127.0.0.1:6379/16', nodeId: 7 }, apis: [wsApi()] });
  t.after(lease.cleanup);
  r = await runPortico(['--check', lease.file]);
  assert.match(r.output, /cluster\.redis: expected redis:.*got "redis:\/\/127\.0\.0\.1:6379\/16"/); // db 0..15
  assert.match(r.output, /cluster\.nodeId: expected a name of 1 to 128 characters, got 7/);
  const lease2 = await writeTempConfig({ cluster: { redis: 'redis://127.0.0.1:6379/0', leaseSeconds: 2 }, apis: [wsApi()] });
  t.after(lease2.cleanup);
  r = await runPortico(['--check', lease2.file]);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /cluster\.leaseSeconds: expected whole seconds, 3 to 300, got 2/);

  const redis = await redisFor(t);
  const p = await startFor(t, nodeConfig(redis, 'node-a'));
  await p.writeConfig(nodeConfig(redis, 'node-z'));
  p.signal('SIGHUP');
  await waitFor(() => p.logs().some((l) => l.includes('cannot change on a reload')), { what: 'the refused reload' });
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('still serving');
  assert.equal(await nextText(ws), 'still serving');
  ws.close();
});

test('a node that dies: its connections leave presence and listings, and a survivor runs each $disconnect once (1006)', T, async (t) => {
  const { backendFor } = await import('./lib/backends.mjs');
  const redis = await redisFor(t);
  const backend = await backendFor(t, { status: 200 });
  const over = (nodeId) => {
    const cfg = nodeConfig(redis, nodeId);
    cfg.cluster.leaseSeconds = 3;
    cfg.apis[0].integrations.bye = { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${backend.port}/bye` };
    cfg.apis[0].routes.$disconnect = { integration: 'bye' };
    return cfg;
  };
  const a = await startFor(t, over('node-a'));
  const b = await startFor(t, over('node-b'));
  const doomed = [await member(a, 'room'), await member(a, 'room')];
  const survivor = await member(b, 'room');
  doomed.forEach((m) => m.ws.on('error', () => {}));
  const count = async () => JSON.parse((await signedRequest(b.port, 'GET', '/dev/@channels/room')).text).count;
  assert.equal(await count(), 3);

  await a.stop('SIGKILL');
  const died = Date.now();
  await waitFor(async () => (await count()) === 1, { timeoutMs: 15000 * FACTOR, intervalMs: 200, what: 'presence without the dead node' });
  assert.ok(Date.now() - died < 10000 * FACTOR, `reaped after ${Date.now() - died} ms`);
  const listed = JSON.parse((await signedRequest(b.port, 'GET', '/dev/@connections')).text);
  assert.deepEqual(listed.connections, [survivor.id]);
  await waitFor(() => backend.count((r) => r.eventType === 'DISCONNECT') >= 2, { timeoutMs: 5000 * FACTOR, what: 'two $disconnect calls' });
  const calls = backend.requests.filter((r) => r.eventType === 'DISCONNECT');
  assert.deepEqual(calls.map((r) => r.connectionId).sort(), doomed.map((m) => m.id).sort());
  assert.ok(calls.every((r) => r.headers.disconnectstatuscode === '1006'), JSON.stringify(calls.map((r) => r.headers)));
  // Exactly once, and never for the living.
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(backend.count((r) => r.eventType === 'DISCONNECT'), 2);
  survivor.ws.send('alive');
  assert.equal(await nextText(survivor.ws), 'alive');
  survivor.ws.close();
});

test('usage plans count every node: a quota spent across two nodes stops both, and /admin/usage adds them up', T, async (t) => {
  const redis = await redisFor(t);
  const KEY = 'cluster-key-0123456789abcdef';
  const plans = (adminPort) => ({
    admin: { host: '127.0.0.1', port: adminPort },
    apiKeys: [{ id: 'k1', value: KEY }],
    usagePlans: [{ name: 'gold', apiKeys: ['k1'], quota: { limit: 6, period: 'DAY' }, apiStages: [{ api: 'shop', stage: '$default' }] }],
  });
  const shop = { name: 'shop', protocolType: 'HTTP', basePath: '/shop', stages: { $default: {} }, integrations: { ok: { type: 'MOCK', response: { body: 'ok' } } }, routes: { 'GET /x': { integration: 'ok', apiKeyRequired: true } } };
  const aAdmin = await freePort();
  const cfg = (nodeId, adminPort) => ({ ...nodeConfig(redis, nodeId), ...plans(adminPort), apis: [shop] });
  const a = await startFor(t, cfg('node-a', aAdmin));
  const b = await startFor(t, cfg('node-b', await freePort()));
  const get = async (p) => (await fetch(`${p.baseUrl}/shop/x`, { headers: { 'x-api-key': KEY } })).status;
  for (let i = 0; i < 3; i++) assert.equal(await get(a), 200);
  for (let i = 0; i < 3; i++) assert.equal(await get(b), 200);
  // Within a sync (a second), each node knows the other's three.
  await waitFor(async () => (await get(a)) === 429 && (await get(b)) === 429, { timeoutMs: 5000 * FACTOR, intervalMs: 300, what: 'the quota spent on both nodes' });
  const today = new Date().toISOString().slice(0, 10);
  const usage = await (await fetch(`http://127.0.0.1:${aAdmin}/admin/usage?plan=gold&start=${today}&end=${today}`)).json();
  assert.deepEqual(usage.values, { k1: [[6, 0]] });
});

test('the response cache is shared: what one node cached, another serves; a flush on any node empties it; Redis down is a miss', T, async (t) => {
  const { backendFor } = await import('./lib/backends.mjs');
  const redis = await redisFor(t);
  let n = 0;
  const backend = await backendFor(t, (rec) => ({ status: 200, body: `call ${++n} for ${rec.url}` }));
  const shop = {
    name: 'shop', protocolType: 'HTTP', basePath: '/shop',
    stages: { $default: { cache: { enabled: true } } },
    integrations: { up: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${backend.port}/{proxy}` } },
    routes: { 'GET /{proxy+}': { integration: 'up', cache: { ttlSeconds: 60 } } },
  };
  const bAdmin = await freePort();
  const a = await startFor(t, { ...nodeConfig(redis, 'node-a'), apis: [shop] });
  const b = await startFor(t, { ...nodeConfig(redis, 'node-b'), admin: { host: '127.0.0.1', port: bAdmin }, apis: [shop] });
  const get = async (p) => {
    const r = await fetch(`${p.baseUrl}/shop/pets/1`);
    return [await r.text(), r.headers.get('x-cache')];
  };
  assert.deepEqual(await get(a), ['call 1 for /pets/1', 'Miss']);
  await waitFor(async () => (await get(b))[1] === 'Hit', { what: 'a hit on node b' });
  assert.deepEqual(await get(b), ['call 1 for /pets/1', 'Hit']);
  assert.equal(backend.requests.length, 1);
  const flushed = await fetch(`http://127.0.0.1:${bAdmin}/admin/cache/flush?api=shop&stage=$default`, { method: 'POST' });
  assert.equal(flushed.status, 202);
  assert.deepEqual(await flushed.json(), { flushed: 1 });
  assert.deepEqual(await get(a), ['call 2 for /pets/1', 'Miss']);
  await redis.stop();
  const down = await get(a); // still served, straight from the integration
  assert.equal(down[1], 'Miss');
  assert.match(down[0], /^call \d+ for \/pets\/1$/);
});

test('REQUEST authorizer results are shared: an identity one node checked is not checked again on another', T, async (t) => {
  const { backendFor } = await import('./lib/backends.mjs');
  const redis = await redisFor(t);
  const auth = await backendFor(t, (rec) => ({ status: 200, body: { isAuthorized: JSON.parse(rec.text).headers['x-user'] === 'ada', context: { user: 'ada' } } }));
  const shop = {
    name: 'shop', protocolType: 'HTTP', basePath: '/shop', stages: { $default: {} },
    authorizers: { gate: { type: 'REQUEST', integration: 'authfn', identitySource: ['$request.header.x-user'], resultTtlSeconds: 300, simpleResponses: true } },
    integrations: {
      authfn: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${auth.port}/auth` },
      hello: { type: 'MOCK', response: { body: 'hello $context.authorizer.user' } },
    },
    routes: { 'GET /hello': { integration: 'hello', authorizer: 'gate' } },
  };
  const a = await startFor(t, { ...nodeConfig(redis, 'node-a'), apis: [shop] });
  const b = await startFor(t, { ...nodeConfig(redis, 'node-b'), apis: [shop] });
  const get = async (p, user) => {
    const r = await fetch(`${p.baseUrl}/shop/hello`, { headers: { 'x-user': user } });
    return [r.status, await r.text()];
  };
  assert.deepEqual(await get(a, 'ada'), [200, 'hello ada']);
  assert.equal(auth.requests.length, 1);
  const results = async () => Number(await redis.command('EVAL', "return #redis.call('KEYS', ARGV[1])", '0', 'portico:authz:*'));
  await waitFor(async () => (await results()) === 1, { what: 'the result in Redis' });
  // Every worker of node b: fresh connections, none of which may call the authorizer again.
  for (let i = 0; i < 6; i++) assert.deepEqual(await get(b, 'ada'), [200, 'hello ada']);
  assert.equal(auth.requests.length, 1);
  // A refusal is shared too.
  assert.equal((await get(b, 'eve'))[0], 403);
  await waitFor(async () => (await results()) === 2, { what: 'both results in Redis' });
  assert.equal((await get(a, 'eve'))[0], 403);
  assert.equal(auth.requests.length, 2);
});

test('a Redis password: the right one joins the cluster, a wrong one leaves the node alone and says so', T, async (t) => {
  const redis = await redisFor(t, { password: 'cluster-secret' });
  const a = await startFor(t, nodeConfig(redis, 'node-a'));
  const bAdmin = await freePort();
  const b = await startFor(t, { ...nodeConfig(redis, 'node-b'), admin: { host: '127.0.0.1', port: bAdmin } });
  const ws = await openWs(`${a.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  // A subscription made through another node, then a publish through a third party's view.
  assert.equal((await signedRequest(b.port, 'PUT', `/dev/@connections/${encId(id)}/channels/news`)).status, 204);
  assert.deepEqual(JSON.parse((await signedRequest(b.port, 'POST', '/dev/@channels/news', 'hello')).text), { delivered: 1 });
  assert.equal(await nextText(ws), 'hello');

  const wrong = await startFor(t, nodeConfig({ url: redis.url.replace('cluster-secret', 'nope') }, 'node-c'));
  await waitFor(() => wrong.logs().some((l) => l.includes('Redis refused the password')), { what: 'the refusal in the log' });
  assert.ok(!wrong.logs().join('\n').includes('nope'), 'the password was logged');
  // Retried with backoff (0.1 s doubling to 2 s), not in a tight loop that floods the log.
  await sleep(2000);
  const refusals = wrong.logs().filter((l) => l.includes('Redis refused the password')).length;
  assert.ok(refusals <= 8, `${refusals} refusals logged in about 2 s`);
  const started = Date.now();
  const r = await signedRequest(wrong.port, 'POST', `/dev/@connections/${encId(id)}`, 'x');
  assert.equal(r.status, 503);
  assert.ok(Date.now() - started < 1000 * FACTOR, 'the 503 waited: the link passed for up');
  ws.close();
});
