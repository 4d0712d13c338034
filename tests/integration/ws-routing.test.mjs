// WebSocket URLs, route selection, MOCK templates, route responses and the $connect handshake
// (SPEC sections 3, 4 and 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startFor,
  echoConfig,
  wsApi,
  mock,
  WHOAMI,
  openWs,
  handshakeStatus,
  nextMessage,
  nextText,
  nextJson,
  noMessageWithin,
  connectionIdOf,
} from './lib/portico.mjs';

const T = { timeout: 20000 };
const REQUEST_ID = /^[A-Za-z0-9_+/-]{15}=$/;

test('$default echoes a text message through MOCK $request.body', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('hello portico');
  assert.equal(await nextText(ws), 'hello portico');
  ws.send('{"no":"action here"}');
  assert.equal(await nextText(ws), '{"no":"action here"}');
  ws.close();
});

test('a custom route is chosen by $request.body.action', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { greet: mock('hello from sendmessage', 200) },
        routes: { sendmessage: { integration: 'greet', routeResponse: true } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(JSON.stringify({ action: 'sendmessage', data: 'x' }));
  assert.equal(await nextText(ws), 'hello from sendmessage');
  // Matching is exact and case-sensitive: anything else falls to $default.
  const other = JSON.stringify({ action: 'SendMessage' });
  ws.send(other);
  assert.equal(await nextText(ws), other);
  ws.close();
});

test('the route selection expression defaults to $request.body.action', T, async (t) => {
  const api = wsApi({
    integrations: { greet: mock('routed by default expression', 200) },
    routes: { sendmessage: { integration: 'greet', routeResponse: true } },
  });
  delete api.routeSelectionExpression;
  const p = await startFor(t, { apis: [api] });
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(JSON.stringify({ action: 'sendmessage' }));
  assert.equal(await nextText(ws), 'routed by default expression');
  ws.close();
});

test('a nested expression $request.body.meta.kind selects the route', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      api: {
        routeSelectionExpression: '$request.body.meta.kind',
        integrations: { join: mock('joined', 200) },
        routes: { join: { integration: 'join', routeResponse: true } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(JSON.stringify({ meta: { kind: 'join' } }));
  assert.equal(await nextText(ws), 'joined');
  // The top-level field with that value does not count.
  const flat = JSON.stringify({ kind: 'join', action: 'join' });
  ws.send(flat);
  assert.equal(await nextText(ws), flat);
  ws.close();
});

test('a non-string value is stringified: {"action":5} goes to route "5"', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { five: mock('five', 200) }, routes: { 5: { integration: 'five', routeResponse: true } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('{"action":5}');
  assert.equal(await nextText(ws), 'five');
  ws.close();
});

test('a mixed expression ${request.body.a}-${request.body.b} selects route "x-y"', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      api: {
        routeSelectionExpression: '${request.body.a}-${request.body.b}',
        integrations: { xy: mock('route x-y', 200) },
        routes: { 'x-y': { integration: 'xy', routeResponse: true } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(JSON.stringify({ a: 'x', b: 'y' }));
  assert.equal(await nextText(ws), 'route x-y');
  // a missing part resolves to "" ("x-"), which names no route
  const partial = JSON.stringify({ a: 'x' });
  ws.send(partial);
  assert.equal(await nextText(ws), partial);
  ws.close();
});

test('a message naming a $-route ($connect, $disconnect) is not routed there', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { hook: mock('lifecycle hook ran', 200) },
        routes: { $connect: { integration: 'hook' }, $disconnect: { integration: 'hook' } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  // (routed to the one-way $connect or $disconnect, a message would get no answer at all)
  for (const action of ['$connect', '$disconnect', '$default']) {
    const msg = JSON.stringify({ action });
    ws.send(msg);
    const answer = await nextText(ws).catch((e) => `(${e.message})`);
    assert.equal(answer, msg, `{"action":"${action}"} should go to $default`);
  }
  ws.close();
});

test('MOCK templates render numbers and booleans as their text and missing paths as ""', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { tmpl: mock('n=$request.body.n b=$request.body.b m=[$request.body.missing] s=$stageVariables.nope.', 200) },
        routes: { tmpl: { integration: 'tmpl', routeResponse: true } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(JSON.stringify({ action: 'tmpl', n: 42, b: true }));
  assert.equal(await nextText(ws), 'n=42 b=true m=[] s=.');
  ws.close();
});

test('a text message that is not JSON goes to $default', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { other: mock('wrong route', 200) }, routes: { other: { integration: 'other', routeResponse: true } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  for (const text of ['not json at all', '{"action":"other"', 'action other', '[1,2,3]', '"other"']) {
    ws.send(text);
    assert.equal(await nextText(ws), text, `message ${JSON.stringify(text)}`);
  }
  ws.close();
});

test('no $default and no match: a Forbidden frame, and the connection stays open', T, async (t) => {
  const p = await startFor(t, {
    apis: [
      {
        name: 'strict',
        protocolType: 'WEBSOCKET',
        basePath: '/',
        routeSelectionExpression: '$request.body.action',
        stages: { dev: {} },
        integrations: { whoami: WHOAMI },
        routes: { whoami: { integration: 'whoami', routeResponse: true } },
      },
    ],
  });
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.send(JSON.stringify({ action: 'nosuchroute' }));
  const frame = await nextJson(ws);
  assert.deepEqual(Object.keys(frame).sort(), ['connectionId', 'message', 'requestId']);
  assert.equal(frame.message, 'Forbidden');
  assert.equal(frame.connectionId, id);
  assert.match(frame.requestId, REQUEST_ID);
  // Non-JSON also has no route here.
  ws.send('plain text');
  const frame2 = await nextJson(ws);
  assert.equal(frame2.message, 'Forbidden');
  assert.notEqual(frame2.requestId, frame.requestId, 'each message has its own requestId');
  // Still open and routing.
  assert.equal(await connectionIdOf(ws), id);
  ws.close();
});

test('a route without routeResponse sends nothing back', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { quiet: mock('you should not see this', 200) }, routes: { quiet: { integration: 'quiet' } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(JSON.stringify({ action: 'quiet' }));
  const id = await connectionIdOf(ws); // the next thing received is the whoami answer
  assert.ok(id);
  assert.ok(await noMessageWithin(ws, 300), 'a one-way route answered');
  ws.close();
});

test('MOCK templates: $context.routeKey, $stageVariables.X, $request.body.a.b, ids', T, async (t) => {
  const body =
    '{"route":"$context.routeKey","color":"$stageVariables.color","ab":"$request.body.a.b",' +
    '"cid":"$context.connectionId","rid":"$context.requestId"}';
  const p = await startFor(
    t,
    echoConfig({
      api: {
        stages: { dev: { variables: { color: 'blue' } } },
        integrations: { tmpl: mock(body, 200) },
        routes: { tmpl: { integration: 'tmpl', routeResponse: true } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.send(JSON.stringify({ action: 'tmpl', a: { b: 'deep' } }));
  const r1 = await nextJson(ws);
  assert.equal(r1.route, 'tmpl');
  assert.equal(r1.color, 'blue');
  assert.equal(r1.ab, 'deep');
  assert.equal(r1.cid, id);
  assert.ok(r1.rid.length > 0, 'requestId is empty');
  ws.send(JSON.stringify({ action: 'tmpl', a: { b: 'other' } }));
  const r2 = await nextJson(ws);
  assert.equal(r2.ab, 'other');
  assert.notEqual(r2.rid, r1.rid, 'two messages share a requestId');
  ws.close();
});

test('$context.routeKey is "$default" on the default route and variables differ per stage', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      api: {
        stages: { dev: { variables: { color: 'blue' } }, prod: { variables: { color: 'red' } } },
        integrations: { echo: mock('$context.routeKey:$stageVariables.color', 200) },
      },
    }),
  );
  const dev = await openWs(`${p.wsUrl}/dev`);
  const prod = await openWs(`${p.wsUrl}/prod`);
  dev.send('x');
  prod.send('x');
  assert.equal(await nextText(dev), '$default:blue');
  assert.equal(await nextText(prod), '$default:red');
  dev.close();
  prod.close();
});

test('a binary frame reaches $default and MOCK $request.body sends the same bytes back as binary', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0x61, 0x0a, 0xc3, 0x28, 0x01, 0x02]);
  ws.send(bytes, { binary: true });
  const m = await nextMessage(ws);
  assert.equal(m.isBinary, true, 'the answer to a binary message should be a binary message');
  assert.deepEqual(m.data, bytes);
  // A binary frame that looks like JSON naming a route is still not routed by its content.
  const jsonish = Buffer.from('{"action":"whoami"}');
  ws.send(jsonish, { binary: true });
  const m2 = await nextMessage(ws);
  assert.deepEqual(m2.data, jsonish);
  assert.equal(ws.readyState, ws.OPEN, 'binary frames must not close the connection (AWS would, Portico must not)');
  ws.close();
});

test('$connect MOCK with statusCode 403 refuses the handshake with HTTP 403', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { deny: mock('denied', 403) }, routes: { $connect: { integration: 'deny' } } } }),
  );
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 403);
  // The server is still fine afterwards.
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 403);
});

test('$connect MOCK with another non-2xx status (400) refuses with that status', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { bad: mock('bad', 400) }, routes: { $connect: { integration: 'bad' } } } }),
  );
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 400);
});

test('$connect MOCK with statusCode 200 accepts, and its body does not reach the client', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { ok: mock('connect body', 200) }, routes: { $connect: { integration: 'ok' } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('after connect');
  assert.equal(await nextText(ws), 'after connect', 'the $connect answer leaked into the socket');
  ws.close();
});

test('a query string on the connect URL is allowed', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev?token=abc&x=1`);
  ws.send('q');
  assert.equal(await nextText(ws), 'q');
  ws.close();
});

test('unknown stage or unknown path refuses the handshake with 404', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { basePath: '/chat' } }));
  assert.equal(await handshakeStatus(`${p.wsUrl}/chat/prod`), 404, 'unknown stage');
  assert.equal(await handshakeStatus(`${p.wsUrl}/other/dev`), 404, 'unknown base path');
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 404, 'stage without its base path');
  assert.equal(await handshakeStatus(`${p.wsUrl}/chat`), 404, 'base path without a stage');
  assert.equal(await handshakeStatus(`${p.wsUrl}/chat/dev/extra`), 404, 'a path below the stage');
  const ws = await openWs(`${p.wsUrl}/chat/dev`);
  ws.close();
});

test('base paths: APIs at "/" and "/v2", the longest base path whose stage matches wins', T, async (t) => {
  const root = wsApi({
    name: 'root',
    basePath: '/',
    stages: { dev: {}, v2: {} },
    integrations: { echo: mock('root:$context.routeKey', 200) },
  });
  const v2 = wsApi({ name: 'v2', basePath: '/v2', stages: { dev: {} }, integrations: { echo: mock('v2:$context.routeKey', 200) } });
  const p = await startFor(t, { apis: [root, v2] });
  const a = await openWs(`${p.wsUrl}/dev`);
  const b = await openWs(`${p.wsUrl}/v2/dev`);
  const c = await openWs(`${p.wsUrl}/v2`); // the root API's stage "v2": /v2 has no stage named ""
  a.send('x');
  b.send('x');
  c.send('x');
  assert.equal(await nextText(a), 'root:$default');
  assert.equal(await nextText(b), 'v2:$default');
  assert.equal(await nextText(c), 'root:$default');
  assert.equal(await handshakeStatus(`${p.wsUrl}/v2/prod`), 404);
  a.close();
  b.close();
  c.close();
});

test('the order of APIs in the config does not change which base path wins', T, async (t) => {
  const root = wsApi({ name: 'root', basePath: '/', stages: { dev: {} }, integrations: { echo: mock('root', 200) } });
  const v2 = wsApi({ name: 'v2', basePath: '/v2', stages: { dev: {} }, integrations: { echo: mock('v2', 200) } });
  const p = await startFor(t, { apis: [v2, root] });
  const b = await openWs(`${p.wsUrl}/v2/dev`);
  const a = await openWs(`${p.wsUrl}/dev`);
  a.send('x');
  b.send('x');
  assert.equal(await nextText(a), 'root');
  assert.equal(await nextText(b), 'v2');
  a.close();
  b.close();
});

test('the $default stage has no URL segment', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({ api: { stages: { $default: { variables: { s: 'default-stage' } } }, integrations: { echo: mock('$stageVariables.s', 200) } } }),
  );
  const ws = await openWs(`${p.wsUrl}/`);
  ws.send('x');
  assert.equal(await nextText(ws), 'default-stage');
  ws.close();
  assert.equal(await handshakeStatus(`${p.wsUrl}/$default`), 404, 'the $default stage must not be reachable as a segment');
});

test('the $default stage under a base path: ws://host/chat', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { basePath: '/chat', stages: { $default: {} } } }));
  const ws = await openWs(`${p.wsUrl}/chat`);
  ws.send('in chat');
  assert.equal(await nextText(ws), 'in chat');
  ws.close();
});

test('a connection id is URL-safe, at most 32 characters, and unique per connection', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ids = new Set();
  for (let i = 0; i < 5; i++) {
    const ws = await openWs(`${p.wsUrl}/dev`);
    const id = await connectionIdOf(ws);
    assert.ok(id.length <= 32, `id too long: ${id}`);
    assert.match(id, /^[A-Za-z0-9._~=-]+$/, `id not URL-safe: ${id}`);
    ids.add(id);
    ws.close();
  }
  assert.equal(ids.size, 5);
});

test('messages on one connection are answered in order', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  for (let i = 0; i < 50; i++) ws.send(`m${i}`);
  for (let i = 0; i < 50; i++) assert.equal(await nextText(ws), `m${i}`);
  ws.close();
});

test('a large text message (100 KB) is echoed intact', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const big = 'é'.repeat(1000) + 'x'.repeat(100 * 1024 - 2000);
  ws.send(big);
  assert.equal(await nextText(ws, 5000), big);
  ws.close();
});

test('a client offering permessage-deflate can still exchange messages', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`, { perMessageDeflate: true });
  const text = 'compress me '.repeat(500);
  ws.send(text);
  assert.equal(await nextText(ws), text);
  ws.close();
});

test('two listeners serve the same APIs', T, async (t) => {
  const p = await startFor(
    t,
    echoConfig({
      listen: [
        { host: '127.0.0.1', port: 'auto' },
        { host: '127.0.0.1', port: 'auto' },
      ],
    }),
  );
  for (const l of p.listen) {
    const ws = await openWs(`ws://127.0.0.1:${l.port}/dev`);
    ws.send(`via ${l.port}`);
    assert.equal(await nextText(ws), `via ${l.port}`);
    ws.close();
  }
});

test('a unix socket listener serves WebSocket clients', T, async (t) => {
  const p = await startFor(t, echoConfig({ listen: [{ unixSocket: 'auto' }] }));
  const sock = p.listen[0].unixSocket;
  const ws = await openWs(`ws+unix://${sock}:/dev`);
  ws.send('over unix');
  assert.equal(await nextText(ws), 'over unix');
  ws.close();
});

test('a plain HTTP GET on the WebSocket URL is not answered with 101 or a 5xx', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const res = await fetch(`${p.baseUrl}/dev`);
  await res.arrayBuffer();
  assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  // and the server keeps working
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.close();
});

test('several clients are independent', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const clients = await Promise.all(Array.from({ length: 10 }, () => openWs(`${p.wsUrl}/dev`)));
  clients.forEach((ws, i) => ws.send(`client ${i}`));
  for (let i = 0; i < clients.length; i++) assert.equal(await nextText(clients[i]), `client ${i}`);
  const ids = await Promise.all(clients.map((ws) => connectionIdOf(ws)));
  assert.equal(new Set(ids).size, clients.length);
  for (const ws of clients) ws.close();
});

// The $disconnect call outlives its connection: a MOCK there renders after the connection is
// freed, so it must read its own copies (the sanitizer run catches a read of freed memory).
test('a $disconnect MOCK that reads domainName and the connection runs after the close, and the server carries on', T, async (t) => {
  const p = await startFor(t, echoConfig({
    api: {
      integrations: { bye: mock('bye $context.connectionId from $context.domainName', 200) },
      routes: { $disconnect: { integration: 'bye' } },
    },
  }));
  for (let i = 0; i < 5; i++) {
    const ws = await openWs(`${p.wsUrl}/dev`);
    ws.send('x');
    assert.equal(await nextText(ws), 'x');
    ws.close();
  }
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('still fine');
  assert.equal(await nextText(ws), 'still fine');
  ws.close();
  assert.equal(p.hasExited(), false);
});
