// Integrations run on the event loop without blocking it (issue #3): a slow, hanging or dead
// backend delays only the connection whose call it is; every other connection keeps getting
// answers in milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFor, echoConfig, openWs, nextText, nextJson, connectionIdOf, sleep } from './lib/portico.mjs';
import { backendProcessFor, deadPort } from './lib/backends.mjs';

const T = { timeout: 30000 };
// Each round trip of the other connections must take less than this; sanitizer builds run
// slower, so `make asan` scales it with PORTICO_TIME_FACTOR (still far below the slow calls).
const FAST_MS = 200 * Number(process.env.PORTICO_TIME_FACTOR || 1);
const CLIENTS = 20;
const ROUNDS = 20;

/**
 * `CLIENTS` connections each do `ROUNDS` sequential round trips; `send(ws, c, i)` sends one
 * message and `expect(c, i)` is the answer. Returns the latencies; fails on any slow or wrong one.
 */
async function roundTrips(clients, send, expect) {
  const latencies = [];
  await Promise.all(
    clients.map(async (ws, c) => {
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now();
        send(ws, c, i);
        const text = await nextText(ws, 2000);
        const ms = performance.now() - t0;
        latencies.push(ms);
        assert.equal(text, expect(c, i), `client ${c} round ${i}`);
        assert.ok(ms < FAST_MS, `client ${c} round ${i} took ${ms.toFixed(1)} ms (limit ${FAST_MS})`);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

test('one connection whose HTTP_PROXY and AWS_PROXY calls hang does not slow 20 others', T, async (t) => {
  const SLOW_MS = 4000;
  // The backends run in their own process: the clients here measure, they must not also serve.
  const be = await backendProcessFor(t);
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: {
          connect: { type: 'HTTP_PROXY', uri: `${be.httpUrl}/connect` },
          slowhttp: { type: 'HTTP_PROXY', uri: `${be.httpUrl}/slow?delay=${SLOW_MS}` },
          hang: { type: 'HTTP_PROXY', uri: `${be.httpUrl}/hang?hang=1`, timeoutMs: 29000 },
          slowfn: { type: 'AWS_PROXY', uri: be.fnUri(`sleep${SLOW_MS}`) },
          fasthttp: { type: 'HTTP_PROXY', uri: `${be.httpUrl}/fast` },
          fastfn: { type: 'AWS_PROXY', uri: be.fnUri('fast') },
        },
        routes: {
          $connect: { integration: 'connect' },
          slowhttp: { integration: 'slowhttp', routeResponse: true },
          hang: { integration: 'hang', routeResponse: true },
          slowfn: { integration: 'slowfn', routeResponse: true },
          fasthttp: { integration: 'fasthttp', routeResponse: true },
          fastfn: { integration: 'fastfn', routeResponse: true },
        },
      },
    }),
  );
  const slow = await openWs(`${p.wsUrl}/dev`);
  const started = Date.now();
  slow.send('{"action":"slowhttp"}');
  slow.send('{"action":"slowfn"}');
  slow.send('{"action":"hang"}');
  await be.waitFor((r) => r.path === '/slow');
  await be.waitFor((r) => r.path === '/hang');
  await be.waitFor((r) => r.name === `sleep${SLOW_MS}`);
  // A handshake whose $connect is slow too (the client's query string goes to the backend).
  const slowConnect = openWs(`${p.wsUrl}/dev?delay=${SLOW_MS}`, { timeoutMs: 10000 });
  await be.waitFor((r) => r.eventType === 'CONNECT' && r.query.delay);

  // Meanwhile: 20 new connections (their $connect calls the same backend) ...
  const t0 = performance.now();
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => openWs(`${p.wsUrl}/dev`)));
  const connectMs = performance.now() - t0;
  assert.ok(connectMs < 1500, `20 handshakes took ${connectMs.toFixed(0)} ms while other calls hang`);
  // A first exchange each, not timed to the millisecond: it opens the upstream connections the
  // pool keeps and warms up this process, which plays the backends and the clients at once.
  const w0 = performance.now();
  await Promise.all(
    clients.map(async (ws) => {
      for (const action of ['fasthttp', 'fastfn']) {
        ws.send(JSON.stringify({ action }));
        assert.equal(await nextText(ws, 2000), `${action === 'fastfn' ? 'fn' : 'http'}:${JSON.stringify({ action })}`);
      }
    }),
  );
  const warmMs = performance.now() - w0;
  assert.ok(warmMs < 1500, `the first exchanges took ${warmMs.toFixed(0)} ms while other calls hang`);
  // ... then each does 20 round trips, through HTTP_PROXY and AWS_PROXY alternately.
  const lat = await roundTrips(
    clients,
    (ws, c, i) => ws.send(JSON.stringify({ action: i % 2 ? 'fastfn' : 'fasthttp', c, i })),
    (c, i) => `${i % 2 ? 'fn' : 'http'}:${JSON.stringify({ action: i % 2 ? 'fastfn' : 'fasthttp', c, i })}`,
  );
  const elapsed = Date.now() - started;
  assert.equal(lat.length, CLIENTS * ROUNDS);
  assert.ok(elapsed < SLOW_MS, `the fast traffic took until ${elapsed} ms, past the slow calls' ${SLOW_MS} ms: the test proves nothing`);
  t.diagnostic(`round trips: median ${lat[lat.length >> 1].toFixed(1)} ms, max ${lat.at(-1).toFixed(1)} ms; handshakes ${connectMs.toFixed(0)} ms, first exchanges ${warmMs.toFixed(0)} ms`);

  // The slow calls still finish, for their own connection.
  const answers = [await nextText(slow, SLOW_MS + 3000), await nextText(slow, 3000)].sort();
  assert.deepEqual(answers, ['http:{"action":"slowhttp"}', 'slow fn done']);
  const late = await slowConnect;
  late.send('{"action":"fasthttp"}');
  assert.equal(await nextText(late), 'http:{"action":"fasthttp"}');
  late.close();
  slow.close();
  for (const ws of clients) ws.close();
});

test('a dead backend answers "Internal server error" quickly and does not disturb the others', T, async (t) => {
  const port = await deadPort();
  const be = await backendProcessFor(t);
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: {
          deadhttp: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${port}/events` },
          deadfn: { type: 'AWS_PROXY', uri: `http://127.0.0.1:${port}/2015-03-31/functions/x/invocations` },
          fast: { type: 'HTTP_PROXY', uri: `${be.httpUrl}/fast` },
        },
        routes: {
          deadhttp: { integration: 'deadhttp', routeResponse: true },
          deadfn: { integration: 'deadfn' },
          $default: { integration: 'fast', routeResponse: true },
        },
      },
    }),
  );
  const victim = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(victim);
  const others = await Promise.all(Array.from({ length: 10 }, () => openWs(`${p.wsUrl}/dev`)));
  // One untimed exchange each first: it opens the pooled upstream connections.
  await Promise.all(
    others.map(async (ws, c) => {
      ws.send(`warm${c}`);
      assert.equal(await nextText(ws, 2000), `http:warm${c}`);
    }),
  );
  // The victim hammers the dead backend while the others talk to a live one.
  const victimDone = (async () => {
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      victim.send(JSON.stringify({ action: i % 2 ? 'deadfn' : 'deadhttp' }));
      const frame = await nextJson(victim, 2000);
      const ms = performance.now() - t0;
      assert.equal(frame.message, 'Internal server error', `victim round ${i}`);
      assert.equal(frame.connectionId, id);
      assert.ok(ms < 1000, `"Internal server error" took ${ms.toFixed(0)} ms for a refused connection`);
    }
  })();
  const lat = [];
  await Promise.all(
    others.map(async (ws, c) => {
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now();
        ws.send(`m${c}.${i}`);
        assert.equal(await nextText(ws, 2000), `http:m${c}.${i}`);
        const ms = performance.now() - t0;
        lat.push(ms);
        assert.ok(ms < FAST_MS, `client ${c} round ${i} took ${ms.toFixed(1)} ms`);
      }
    }),
  );
  await victimDone;
  assert.equal(await connectionIdOf(victim), id, 'the victim connection stays open');
  lat.sort((a, b2) => a - b2);
  t.diagnostic(`others: median ${lat[lat.length >> 1].toFixed(1)} ms, max ${lat.at(-1).toFixed(1)} ms`);
  victim.close();
  for (const ws of others) ws.close();
});
