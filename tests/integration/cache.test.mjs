// Response caching (SPEC section 6), against a real backend that counts its calls: GET 2xx
// answers kept per route for ttlSeconds, keyed by stage, method, path and keyParameters only;
// X-Cache Hit/Miss; Cache-Control: max-age=0 with and without the right to invalidate, under each
// unauthorizedCacheControlHeaderStrategy; LRU within capacityMB; large answers and errors never
// cached; /admin/cache/flush; the metrics; one cache shared by two workers and kept on reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFor, freePort, httpRequest, signedRequest, sleep, waitFor, runPortico, writeTempConfig, CREDENTIALS } from './lib/portico.mjs';
import { backendFor } from './lib/backends.mjs';

const T = { timeout: 60000 };
const KEY = 'cache-key-0123456789abcdef';

/** A backend that answers "call N for PATH?QUERY" so each answer shows which call made it. */
async function counter(t, over = () => ({})) {
  let n = 0;
  return backendFor(t, (rec) => ({ status: 200, headers: { 'X-Upstream': 'yes' }, body: `call ${++n} for ${rec.url}`, ...over(rec) }));
}

function config(b, { stageCache = {}, routes, workers = 1, adminPort, extra = {} } = {}) {
  return {
    workers,
    credentials: CREDENTIALS,
    ...(adminPort ? { admin: { host: '127.0.0.1', port: adminPort } } : {}),
    ...extra,
    apis: [
      {
        name: 'shop',
        protocolType: 'HTTP',
        basePath: '/shop',
        stages: { prod: { cache: { enabled: true, ...stageCache } }, dev: {} },
        cors: { allowOrigins: ['https://app.example'], allowMethods: ['GET'] },
        integrations: {
          up: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${b.port}/{proxy}` },
          pets: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${b.port}/pets/{id}` },
        },
        routes: routes ?? {
          'GET /pets/{id}': { integration: 'pets', cache: { ttlSeconds: 60, keyParameters: ['$request.path.id', '$request.querystring.lang', '$request.header.Accept-Language'] } },
          'GET /short/{proxy+}': { integration: 'up', cache: { ttlSeconds: 1 } },
          'GET /never/{proxy+}': { integration: 'up', cache: { ttlSeconds: 0 } },
          'GET /{proxy+}': { integration: 'up' },
          'POST /{proxy+}': { integration: 'up' },
        },
      },
    ],
  };
}

const get = (p, path, headers = {}) => httpRequest({ port: p.port, path, headers });

test('a GET answer is kept for its route\'s ttl, keyed by path and keyParameters alone, with X-Cache', T, async (t) => {
  const b = await counter(t);
  const p = await startFor(t, config(b));
  const first = await get(p, '/shop/prod/pets/1');
  assert.deepEqual([first.status, first.text, first.headers['x-cache'], first.headers['x-upstream']], [200, 'call 1 for /pets/1', 'Miss', 'yes']);
  const again = await get(p, '/shop/prod/pets/1?page=7'); // page is not a key parameter
  assert.deepEqual([again.text, again.headers['x-cache'], again.headers['x-upstream']], ['call 1 for /pets/1', 'Hit', 'yes']);
  assert.notEqual(again.headers['apigw-requestid'], first.headers['apigw-requestid']);
  assert.equal((await get(p, '/shop/prod/pets/1?lang=fr')).headers['x-cache'], 'Miss'); // a key parameter
  assert.equal((await get(p, '/shop/prod/pets/1', { 'accept-language': 'de' })).headers['x-cache'], 'Miss');
  assert.equal((await get(p, '/shop/prod/pets/2')).headers['x-cache'], 'Miss'); // another path
  assert.equal((await get(p, '/shop/prod/pets/1')).text, 'call 1 for /pets/1');
  assert.equal(b.requests.length, 4);
  // The default route has the default ttl (300 s); ttlSeconds 0 turns a route off.
  assert.equal((await get(p, '/shop/prod/other')).headers['x-cache'], 'Miss');
  assert.equal((await get(p, '/shop/prod/other')).headers['x-cache'], 'Hit');
  const never = [await get(p, '/shop/prod/never/x'), await get(p, '/shop/prod/never/x')];
  assert.deepEqual(never.map((r) => [r.text, r.headers['x-cache']]), [['call 6 for /x', undefined], ['call 7 for /x', undefined]]);
  // A stage without a cache, and POSTs, go to the backend every time.
  await get(p, '/shop/dev/pets/1');
  assert.equal((await get(p, '/shop/dev/pets/1')).headers['x-cache'], undefined);
  await httpRequest({ port: p.port, method: 'POST', path: '/shop/prod/pets', body: 'x' });
  assert.equal(b.requests.length, 10);
  // The ttl runs out.
  await get(p, '/shop/prod/short/a');
  assert.equal((await get(p, '/shop/prod/short/a')).headers['x-cache'], 'Hit');
  await sleep(1100);
  assert.equal((await get(p, '/shop/prod/short/a')).headers['x-cache'], 'Miss');
});

test('errors and answers over 1 MB are not cached; CORS headers follow each request\'s Origin', T, async (t) => {
  const big = 'x'.repeat(1024 * 1024 + 1);
  const b = await counter(t, (rec) => (rec.url.startsWith('/err') ? { status: 503, body: 'busy' } : rec.url.startsWith('/big') ? { body: big } : {}));
  const p = await startFor(t, config(b));
  for (let i = 0; i < 2; i++) {
    const r = await get(p, '/shop/prod/err');
    assert.deepEqual([r.status, r.headers['x-cache']], [503, 'Miss']);
  }
  for (let i = 0; i < 2; i++) assert.equal((await get(p, '/shop/prod/big')).headers['x-cache'], 'Miss');
  assert.equal(b.requests.length, 4);
  await get(p, '/shop/prod/pets/9');
  const allowed = await get(p, '/shop/prod/pets/9', { origin: 'https://app.example' });
  assert.deepEqual([allowed.headers['x-cache'], allowed.headers['access-control-allow-origin']], ['Hit', 'https://app.example']);
  const other = await get(p, '/shop/prod/pets/9', { origin: 'https://evil.example' });
  assert.deepEqual([other.headers['x-cache'], other.headers['access-control-allow-origin']], ['Hit', undefined]);
});

test('Cache-Control: max-age=0 refetches for a SigV4-signed caller or a plan key, and for others follows the strategy', T, async (t) => {
  const b = await counter(t);
  const plans = {
    apiKeys: [{ id: 'k1', value: KEY }],
    usagePlans: [{ name: 'p', apiKeys: ['k1'], apiStages: [{ api: 'shop', stage: 'prod' }] }],
  };
  const p = await startFor(t, config(b, { extra: plans }));
  const refresh = { 'cache-control': 'max-age=0' };
  await get(p, '/shop/prod/pets/1');
  // Not allowed to invalidate: served from the cache, with a Warning (the default strategy).
  const anon = await get(p, '/shop/prod/pets/1', refresh);
  assert.deepEqual([anon.text, anon.headers['x-cache']], ['call 1 for /pets/1', 'Hit']);
  assert.match(anon.headers.warning, /^199 .*max-age=0 ignored/);
  // A SigV4-signed request refetches and replaces the entry.
  const signed = await signedRequest(p.port, 'GET', '/shop/prod/pets/1', undefined, { headers: refresh });
  assert.deepEqual([signed.text, signed.headers['x-cache']], ['call 2 for /pets/1', 'Miss']);
  assert.equal((await get(p, '/shop/prod/pets/1')).text, 'call 2 for /pets/1');
  // So does a key of a plan of the stage.
  const keyed = await get(p, '/shop/prod/pets/1', { ...refresh, 'x-api-key': KEY });
  assert.equal(keyed.text, 'call 3 for /pets/1');
  // A wrong key is anyone.
  assert.equal((await get(p, '/shop/prod/pets/1', { ...refresh, 'x-api-key': 'not-the-key-0123456789' })).text, 'call 3 for /pets/1');

  const b2 = await counter(t);
  const strict = await startFor(t, config(b2, { stageCache: { unauthorizedCacheControlHeaderStrategy: 'FAIL_WITH_403' } }));
  await get(strict, '/shop/prod/pets/1');
  const refused = await get(strict, '/shop/prod/pets/1', refresh);
  assert.deepEqual([refused.status, JSON.parse(refused.text).message], [403, 'Forbidden']);
  const quiet = await startFor(t, config(await counter(t), { stageCache: { unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITHOUT_RESPONSE_HEADER' } }));
  await get(quiet, '/shop/prod/pets/1');
  const silent = await get(quiet, '/shop/prod/pets/1', refresh);
  assert.deepEqual([silent.headers['x-cache'], silent.headers.warning], ['Hit', undefined]);
  const open = await startFor(t, config(await counter(t), { stageCache: { requireAuthorizationForCacheControl: false } }));
  await get(open, '/shop/prod/pets/1');
  assert.equal((await get(open, '/shop/prod/pets/1', refresh)).headers['x-cache'], 'Miss');
});

test('capacityMB evicts the least recently used first', T, async (t) => {
  const chunk = 'y'.repeat(300 * 1024);
  const b = await counter(t, () => ({ body: chunk }));
  const p = await startFor(t, config(b, { stageCache: { capacityMB: 1 } }));
  for (const id of [1, 2, 3]) await get(p, `/shop/prod/pets/${id}`); // 900 KB
  assert.equal((await get(p, '/shop/prod/pets/1')).headers['x-cache'], 'Hit'); // 1 is now the newest
  await get(p, '/shop/prod/pets/4'); // over 1 MB: 2, the least recently used, goes
  const state = [];
  for (const id of [1, 3, 4, 2]) state.push((await get(p, `/shop/prod/pets/${id}`)).headers['x-cache']);
  assert.deepEqual(state, ['Hit', 'Hit', 'Hit', 'Miss']);
});

test('two workers share one cache; a reload keeps it; /admin/cache/flush empties it; metrics count hits and misses', T, async (t) => {
  const b = await counter(t);
  const adminPort = await freePort();
  const p = await startFor(t, config(b, { workers: 2, adminPort }));
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitFor(async () => (await fetch(`${admin}/healthz`).catch(() => ({}))).status === 200, { what: 'the admin listener' });
  await get(p, '/shop/prod/pets/1');
  // Fresh connections land on both workers: every one is a hit.
  const all = await Promise.all(Array.from({ length: 30 }, () => get(p, '/shop/prod/pets/1')));
  assert.deepEqual([...new Set(all.map((r) => r.headers['x-cache']))], ['Hit']);
  assert.equal(b.requests.length, 1);

  p.signal('SIGHUP');
  await waitFor(() => p.logs().some((l) => l.includes('config reloaded')), { what: 'the reload' });
  assert.equal((await get(p, '/shop/prod/pets/1')).headers['x-cache'], 'Hit');

  const flushed = await fetch(`${admin}/admin/cache/flush?api=shop&stage=prod`, { method: 'POST' });
  assert.equal(flushed.status, 202);
  assert.deepEqual(await flushed.json(), { flushed: 1 });
  assert.equal((await get(p, '/shop/prod/pets/1')).headers['x-cache'], 'Miss');
  assert.equal((await fetch(`${admin}/admin/cache/flush?api=shop&stage=dev`, { method: 'POST' })).status, 409);
  assert.equal((await fetch(`${admin}/admin/cache/flush?api=shop&stage=nope`, { method: 'POST' })).status, 404);

  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const value = (name) => Number(metrics.match(new RegExp(`^${name}\\{api="shop",stage="prod",route="GET /pets/\\{id\\}"\\} (\\d+)`, 'm'))?.[1]);
  assert.equal(value('portico_cache_hits_total'), 31); // 30, then 1 after the reload
  assert.equal(value('portico_cache_misses_total'), 2);
});

test('--check: cache keys are checked (HTTP APIs only, ttl bounds, key parameters, strategies)', T, async (t) => {
  const cfg = config({ port: 9 }, {
    stageCache: { capacityMB: 0, unauthorizedCacheControlHeaderStrategy: 'MAYBE' },
    routes: { 'GET /pets/{id}': { integration: 'pets', cache: { ttlSeconds: 3601, keyParameters: ['$request.path.name', '$request.body.x', 7] } } },
  });
  cfg.apis.push({ name: 'ws', protocolType: 'WEBSOCKET', basePath: '/ws', stages: { dev: { cache: { enabled: true } } }, integrations: {}, routes: {} });
  const f = await writeTempConfig(cfg);
  t.after(f.cleanup);
  const r = await runPortico(['--check', f.file]);
  assert.equal(r.code, 1, r.output);
  for (const want of [
    /stages\.prod\.cache\.capacityMB: /,
    /stages\.prod\.cache\.unauthorizedCacheControlHeaderStrategy: /,
    /\["GET \/pets\/\{id\}"\]\.cache\.ttlSeconds: /,
    /keyParameters\[0\]: the route "GET \/pets\/\{id\}" has no path parameter "name"/,
    /keyParameters\[1\]: expected \$request\.path\.NAME, \$request\.querystring\.NAME or \$request\.header\.NAME, got "\$request\.body\.x"/,
    /keyParameters\[2\]: expected /,
    /apis\[1\]\.stages\.dev\.cache: only HTTP APIs cache responses/,
  ]) assert.match(r.output, want);
});
