// HTTP_PROXY on WebSocket routes (SPEC sections 4 and 5, issue #3): what a real HTTP backend
// receives on $connect, on messages and on $disconnect, and how its answers (or its failures)
// decide the handshake and reach the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  echoConfig,
  openWs,
  handshakeStatus,
  nextMessage,
  nextText,
  nextJson,
  noMessageWithin,
  connectionIdOf,
  closeEvent,
  mgmtClient,
  httpRequest,
  encId,
  sleep,
  track,
  WebSocket,
} from './lib/portico.mjs';
import { backendFor, deadPort } from './lib/backends.mjs';

const T = { timeout: 20000 };
const REQUEST_ID = /^[A-Za-z0-9_+/-]{15}=$/;

/** An HTTP_PROXY integration to the backend b (path defaults to /events). */
const proxy = (b, path = '/events', extra = {}) => ({ type: 'HTTP_PROXY', uri: `${b.url}${path}`, ...extra });

/** Requests of one event type (and route). */
const ofType = (type, routeKey) => (r) => r.eventType === type && (routeKey === undefined || r.routeKey === routeKey);

test('a message is POSTed to the uri with connectionId, routeKey and eventType headers and the exact body', T, async (t) => {
  const b = await backendFor(t, (r) => ({ status: 200, body: `backend got ${r.text}` }));
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { backend: proxy(b) }, routes: { sendmessage: { integration: 'backend', routeResponse: true } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const msg = '{"action":"sendmessage","data":"héllo wörld ✓","n":[1,2,3]}';
  ws.send(msg);
  assert.equal(await nextText(ws), `backend got ${msg}`, 'the route response is the backend body');
  const r = await b.waitFor(ofType('MESSAGE'));
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/events');
  assert.equal(r.headers.connectionid, id, 'connectionId header');
  assert.equal(r.headers.routekey, 'sendmessage', 'routeKey header');
  assert.equal(r.headers.eventtype, 'MESSAGE', 'eventType header');
  assert.deepEqual(r.body, Buffer.from(msg, 'utf8'), 'the body must be the message bytes, unchanged');
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(msg)));
  assert.equal(b.count(ofType('CONNECT')), 0, 'no $connect route, so no CONNECT call');
  ws.close();
});

test('route responses: the backend body comes back on a two-way route, nothing on a one-way route', T, async (t) => {
  const b = await backendFor(t, (r) => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: `${r.routeKey}:${r.text.length}` }));
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { backend: proxy(b) },
        routes: { $default: { integration: 'backend', routeResponse: true }, oneway: { integration: 'backend' } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('plain text to $default');
  assert.equal(await nextText(ws), '$default:22');
  ws.send('{"action":"oneway"}');
  await b.waitFor(ofType('MESSAGE', 'oneway'));
  assert.ok(await noMessageWithin(ws, 300), 'a one-way route sent the backend answer back');
  // A 4xx answer is an answer, not an integration error.
  b.answer = { status: 404, body: 'not here' };
  ws.send('again');
  assert.equal(await nextText(ws), 'not here');
  ws.close();
});

test('a binary message is POSTed as the raw bytes', T, async (t) => {
  const b = await backendFor(t, { status: 200, body: 'ok' });
  const p = await startFor(t, echoConfig({ api: { integrations: { backend: proxy(b) }, routes: { $default: { integration: 'backend', routeResponse: true } } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const bytes = Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x7b, 0x0a, 0x80]);
  ws.send(bytes, { binary: true });
  assert.equal(await nextText(ws), 'ok');
  const r = await b.waitFor(ofType('MESSAGE'));
  assert.deepEqual(r.body, bytes);
  assert.equal(r.routeKey, '$default');
  ws.close();
});

test('$connect forwards the client headers (not Sec-WebSocket-*, not Host) and appends the query string', T, async (t) => {
  const b = await backendFor(t, { status: 200, body: 'welcome (must not reach the client)' });
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { backend: proxy(b, '/connect') }, routes: { $connect: { integration: 'backend' } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev?token=abc&room=r%201&room=two`, {
    headers: { 'X-Test': 'forward me', 'User-Agent': 'portico-it/1.0' },
  });
  const id = await connectionIdOf(ws);
  const r = await b.waitFor(ofType('CONNECT'));
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/connect?token=abc&room=r%201&room=two', 'the query string appended to the uri as sent');
  assert.equal(r.headers.connectionid, id);
  assert.equal(r.headers.routekey, '$connect');
  assert.equal(r.headers.eventtype, 'CONNECT');
  assert.equal(r.headers['x-test'], 'forward me', 'a custom client header');
  assert.equal(r.headers['user-agent'], 'portico-it/1.0');
  for (const h of Object.keys(r.headers)) {
    assert.ok(!h.startsWith('sec-websocket-'), `${h} was forwarded`);
  }
  assert.equal(r.headers.upgrade, undefined, 'Upgrade is hop-by-hop');
  assert.notEqual(r.headers.host, `127.0.0.1:${p.port}`, "Host is the client's");
  assert.equal(r.headers.host, `127.0.0.1:${b.port}`, 'Host should name the backend');
  assert.equal(r.text, '', 'a CONNECT has no body');
  // The backend's body did not leak into the socket.
  ws.send('{"action":"whoami"}');
  assert.deepEqual(await nextJson(ws), { id });
  ws.close();
});

test('${stageVariables.backend} in the uri picks the backend per stage', T, async (t) => {
  const b1 = await backendFor(t, { body: 'one' });
  const b2 = await backendFor(t, { body: 'two' });
  const p = await startFor(
    t,
    echoConfig({
      api: {
        stages: { dev: { variables: { backend: `127.0.0.1:${b1.port}` } }, prod: { variables: { backend: `127.0.0.1:${b2.port}` } } },
        integrations: { backend: { type: 'HTTP_PROXY', uri: 'http://${stageVariables.backend}/sv/events' } },
        routes: { $default: { integration: 'backend', routeResponse: true } },
      },
    }),
  );
  const dev = await openWs(`${p.wsUrl}/dev`);
  const prod = await openWs(`${p.wsUrl}/prod`);
  dev.send('x');
  prod.send('y');
  assert.equal(await nextText(dev), 'one');
  assert.equal(await nextText(prod), 'two');
  assert.equal((await b1.waitFor(ofType('MESSAGE'))).url, '/sv/events');
  assert.equal((await b2.waitFor(ofType('MESSAGE'))).text, 'y');
  dev.close();
  prod.close();
});

test('$connect appends the query string with & to a uri that has one', T, async (t) => {
  const b = await backendFor(t, { status: 200 });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b, '/c?fixed=1') }, routes: { $connect: { integration: 'b' } } } }));
  const ws = await openWs(`${p.wsUrl}/dev?a=b`);
  assert.equal((await b.waitFor(ofType('CONNECT'))).url, '/c?fixed=1&a=b');
  const ws2 = await openWs(`${p.wsUrl}/dev`);
  await b.waitFor((r) => r.eventType === 'CONNECT' && r !== b.requests[0]);
  assert.equal(b.requests.filter(ofType('CONNECT'))[1].url, '/c?fixed=1', 'no query string, uri unchanged');
  ws.close();
  ws2.close();
});

test('upstream connections are kept alive and reused, and a connection the backend closed is not an error', T, async (t) => {
  const b = await backendFor(t, (r) => ({ status: 200, body: `ok ${r.text}` }));
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b) }, routes: { $default: { integration: 'b', routeResponse: true } } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  for (let i = 0; i < 10; i++) {
    ws.send(`m${i}`);
    assert.equal(await nextText(ws), `ok m${i}`);
  }
  const ports = new Set(b.requests.map((r) => r.remotePort));
  assert.equal(ports.size, 1, `10 sequential calls used ${ports.size} upstream connections`);
  // The backend drops idle keep-alive connections quickly; the next call must still succeed.
  b.server.keepAliveTimeout = 50;
  ws.send('prime');
  assert.equal(await nextText(ws), 'ok prime');
  await sleep(300);
  ws.send('after the backend closed it');
  assert.equal(await nextText(ws), 'ok after the backend closed it');
  ws.close();
});

test('$connect answering 401, 403 or 500 refuses the handshake with that status; 2xx accepts', T, async (t) => {
  const b = await backendFor(t, (r) => ({ status: Number(r.query.get('want') ?? 200), body: 'decision' }));
  const p = await startFor(
    t,
    echoConfig({
      api: { integrations: { backend: proxy(b) }, routes: { $connect: { integration: 'backend' }, $disconnect: { integration: 'backend' } } },
    }),
  );
  for (const want of [401, 403, 500, 400]) {
    assert.equal(await handshakeStatus(`${p.wsUrl}/dev?want=${want}`), want, `backend answered ${want}`);
  }
  const ws = await openWs(`${p.wsUrl}/dev?want=204`);
  ws.close();
  await b.waitFor(ofType('DISCONNECT'));
  assert.equal(b.count(ofType('DISCONNECT')), 1, '$disconnect must run only for the accepted connection');
});

test('$connect with an unreachable backend refuses with 502, promptly', T, async (t) => {
  const port = await deadPort();
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { dead: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${port}/x` } }, routes: { $connect: { integration: 'dead' } } } }),
  );
  const t0 = Date.now();
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 502);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});

test('$connect timing out (timeoutMs) refuses with 502', T, async (t) => {
  const b = await backendFor(t, { hang: true });
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { slow: proxy(b, '/events', { timeoutMs: 300 }) }, routes: { $connect: { integration: 'slow' } } } }),
  );
  const t0 = Date.now();
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 502);
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 2500, `the handshake was refused after ${took} ms (timeoutMs 300)`);
});

test('$connect closing the socket without an answer refuses with 502', T, async (t) => {
  const b = await backendFor(t, { destroy: true });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b) }, routes: { $connect: { integration: 'b' } } } }));
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 502);
});

test('$connect answering Sec-WebSocket-Protocol: chat selects that subprotocol', T, async (t) => {
  const b = await backendFor(t, { status: 200, headers: { 'Sec-WebSocket-Protocol': 'chat', 'X-Other': 'not for the client' } });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b) }, routes: { $connect: { integration: 'b' } } } }));
  const ws = new WebSocket(`${p.wsUrl}/dev`, ['chat', 'other'], { perMessageDeflate: false });
  track(ws);
  const upgrade = new Promise((resolve, reject) => {
    ws.once('upgrade', (res) => resolve(res.headers));
    ws.once('error', reject);
  });
  const headers = await upgrade;
  await new Promise((resolve) => (ws.readyState === ws.OPEN ? resolve() : ws.once('open', resolve)));
  assert.equal(ws.protocol, 'chat');
  assert.equal(headers['sec-websocket-protocol'], 'chat');
  assert.equal(headers['x-other'], undefined, 'only Sec-WebSocket-Protocol of the $connect answer reaches the client');
  ws.send('still works');
  assert.equal(await nextText(ws), 'still works');
  ws.close();
});

test('a message timing out gets "Endpoint request timed out" and the connection keeps working', T, async (t) => {
  const b = await backendFor(t, (r) => (r.path === '/slow' ? { hang: true } : { body: 'fast' }));
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { slow: proxy(b, '/slow', { timeoutMs: 300 }), fast: proxy(b, '/fast') },
        routes: { slow: { integration: 'slow', routeResponse: true }, fast: { integration: 'fast', routeResponse: true } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const t0 = Date.now();
  ws.send('{"action":"slow"}');
  const frame = await nextJson(ws, 3000);
  const took = Date.now() - t0;
  assert.deepEqual(Object.keys(frame).sort(), ['connectionId', 'message', 'requestId']);
  assert.equal(frame.message, 'Endpoint request timed out');
  assert.equal(frame.connectionId, id);
  assert.match(frame.requestId, REQUEST_ID);
  assert.ok(took >= 250 && took < 2000, `timed out after ${took} ms (timeoutMs 300)`);
  ws.send('{"action":"fast"}');
  assert.equal(await nextText(ws), 'fast');
  assert.equal(await connectionIdOf(ws), id);
  assert.equal(ws.readyState, ws.OPEN);
  ws.close();
});

test('a 5xx answer or a dropped socket gives "Internal server error", also on a one-way route', T, async (t) => {
  const b = await backendFor(t, (r) => (r.text.includes('drop') ? { destroy: true } : { status: 500, body: 'backend exploded' }));
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { b: proxy(b) },
        routes: { twoway: { integration: 'b', routeResponse: true }, oneway: { integration: 'b' } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  for (const msg of ['{"action":"twoway"}', '{"action":"oneway"}', '{"action":"twoway","x":"drop"}']) {
    ws.send(msg);
    const frame = await nextJson(ws);
    assert.deepEqual(Object.keys(frame).sort(), ['connectionId', 'message', 'requestId'], msg);
    assert.equal(frame.message, 'Internal server error', msg);
    assert.equal(frame.connectionId, id);
    assert.match(frame.requestId, REQUEST_ID);
    assert.ok(!JSON.stringify(frame).includes('exploded'), 'the backend body leaked');
  }
  assert.equal(await connectionIdOf(ws), id, 'the connection stays open');
  ws.close();
});

test('$disconnect is called once with disconnectStatusCode 1000 and the reason when the client closes', T, async (t) => {
  const b = await backendFor(t, { status: 200 });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b, '/bye') }, routes: { $disconnect: { integration: 'b' } } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.close(1000, 'bye');
  const c = await closeEvent(ws);
  assert.equal(c.code, 1000);
  const r = await b.waitFor(ofType('DISCONNECT'));
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/bye');
  assert.equal(r.headers.connectionid, id);
  assert.equal(r.headers.routekey, '$disconnect');
  assert.equal(r.headers.disconnectstatuscode, '1000');
  assert.equal(r.headers.disconnectreason, 'bye');
  await sleep(300);
  assert.equal(b.count(ofType('DISCONNECT')), 1, '$disconnect ran more than once');
});

test('$disconnect gets 1006 when the client vanishes without a close frame', T, async (t) => {
  const b = await backendFor(t, { status: 200 });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b) }, routes: { $disconnect: { integration: 'b' } } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.terminate();
  const r = await b.waitFor(ofType('DISCONNECT'));
  assert.equal(r.headers.connectionid, id);
  assert.equal(r.headers.disconnectstatuscode, '1006');
  await sleep(200);
  assert.equal(b.count(ofType('DISCONNECT')), 1);
});

test('$disconnect runs once with 1001 when the connection is idle past idleTimeoutSeconds', T, async (t) => {
  const b = await backendFor(t, { status: 200 });
  const p = await startFor(
    t,
    echoConfig({
      limits: { idleTimeoutSeconds: 1, pingIntervalSeconds: 0 },
      api: { integrations: { b: proxy(b) }, routes: { $disconnect: { integration: 'b' } } },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const c = await closeEvent(ws, 4000);
  assert.equal(c.code, 1001);
  const r = await b.waitFor(ofType('DISCONNECT'));
  assert.equal(r.headers.connectionid, id);
  assert.equal(r.headers.disconnectstatuscode, '1001');
  await sleep(200);
  assert.equal(b.count(ofType('DISCONNECT')), 1);
});

test('$disconnect runs once per connection with 1001 when the server drains (SIGTERM)', T, async (t) => {
  const b = await backendFor(t, { status: 200 });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b) }, routes: { $disconnect: { integration: 'b' } } } }));
  const clients = await Promise.all([1, 2, 3].map(() => openWs(`${p.wsUrl}/dev`)));
  const ids = await Promise.all(clients.map((ws) => connectionIdOf(ws)));
  p.signal('SIGTERM');
  for (const ws of clients) assert.equal((await closeEvent(ws, 5000)).code, 1001);
  const exit = await p.exited;
  assert.equal(exit.code, 0, p.describe());
  const seen = b.requests.filter(ofType('DISCONNECT'));
  assert.deepEqual(seen.map((r) => r.headers.connectionid).sort(), [...ids].sort(), 'one $disconnect per connection, before exit');
  for (const r of seen) {
    assert.equal(r.headers.disconnectstatuscode, '1001');
    assert.equal(r.headers.routekey, '$disconnect');
  }
});

test('$disconnect runs once when the connection is deleted through the management API', T, async (t) => {
  const b = await backendFor(t, { status: 200 });
  const p = await startFor(t, echoConfig({ api: { integrations: { b: proxy(b) }, routes: { $disconnect: { integration: 'b' } } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  await mgmtClient(p.port, '/dev').send(new DeleteConnectionCommand({ ConnectionId: id }));
  const c = await closeEvent(ws);
  const r = await b.waitFor(ofType('DISCONNECT'));
  assert.equal(r.headers.connectionid, id);
  assert.equal(r.headers.disconnectstatuscode, String(c.code), 'the code the client saw');
  assert.equal(r.headers.disconnectreason, c.reason, 'the reason the client saw');
  await sleep(300);
  assert.equal(b.count(ofType('DISCONNECT')), 1);
});

test('a post to a connection whose $connect is still running is 410 GoneException', T, async (t) => {
  const b = await backendFor(t, (r) => (r.eventType === 'CONNECT' ? { delayMs: 1000, status: 200 } : { status: 200 }));
  const p = await startFor(
    t,
    echoConfig({ api: { managementAuth: 'NONE', integrations: { b: proxy(b) }, routes: { $connect: { integration: 'b' } } } }),
  );
  const opening = openWs(`${p.wsUrl}/dev`);
  const r = await b.waitFor(ofType('CONNECT'), 3000);
  const id = r.headers.connectionid;
  assert.ok(id, 'the CONNECT call carries the connection id');
  const post = (text) => httpRequest({ port: p.port, method: 'POST', path: `/dev/@connections/${encId(id)}`, body: text });
  const early = await post('too early');
  assert.equal(early.status, 410, `while $connect runs: ${early.status} ${early.text}`);
  assert.equal(early.headers['x-amzn-errortype'], 'GoneException');
  const ws = await opening;
  assert.equal(await connectionIdOf(ws), id);
  const late = await post('now');
  assert.equal(late.status, 200, late.text);
  const m = await nextMessage(ws);
  assert.equal(m.text, 'now', 'the early post must not have been queued');
  ws.close();
});
