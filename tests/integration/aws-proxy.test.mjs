// AWS_PROXY on WebSocket routes (SPEC section 5, AWS-BEHAVIOUR 2.1, issue #3): the event a
// function receives through the Lambda Invoke API, shaped as AWS shapes it, and what its result
// (or its failure) does to the handshake and to the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  sleep,
} from './lib/portico.mjs';
import { functionsFor, rawResult, deadPort } from './lib/backends.mjs';

const T = { timeout: 20000 };
const ID = /^[A-Za-z0-9_+/-]{15}=$/;
const CLF = /^(\d{2})\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An AWS_PROXY integration calling function `name` on the function server f. */
const lambda = (f, name, extra = {}) => ({ type: 'AWS_PROXY', uri: f.uri(name), ...extra });

/** Events of one type sent to function `name`. */
const eventsOf = (f, name, type) => f.events(name).filter((e) => e?.requestContext?.eventType === type);

/** Records every event and answers 200 (echoing the body on messages). */
const recorder = (event) => ({ statusCode: 200, body: event.body === undefined ? undefined : `echo:${event.body}` });

/** A config where $connect, $disconnect, $default (two-way) and sendmessage (two-way) call `fn`. */
function allRoutes(f, fn = 'chat', apiOver = {}) {
  return echoConfig({
    api: {
      integrations: { fn: lambda(f, fn) },
      routes: {
        $connect: { integration: 'fn' },
        $disconnect: { integration: 'fn' },
        $default: { integration: 'fn', routeResponse: true },
        sendmessage: { integration: 'fn', routeResponse: true },
      },
      ...apiOver,
    },
  });
}

function assertCommonContext(rc, { routeKey, eventType, connectionId }) {
  assert.equal(rc.routeKey, routeKey, 'requestContext.routeKey');
  assert.equal(rc.eventType, eventType, 'requestContext.eventType');
  assert.equal(rc.messageDirection, 'IN');
  if (connectionId !== undefined) assert.equal(rc.connectionId, connectionId, 'requestContext.connectionId');
  assert.equal(typeof rc.connectionId, 'string');
  assert.match(rc.requestId, ID, 'requestContext.requestId');
  assert.equal(rc.extendedRequestId, rc.requestId, 'extendedRequestId equals requestId on WebSocket events');
  assert.equal(rc.stage, 'dev');
  assert.equal(typeof rc.apiId, 'string');
  assert.ok(rc.apiId.length > 0, 'apiId is empty');
  assert.equal(typeof rc.domainName, 'string');
  assert.ok(rc.domainName.length > 0, 'domainName is empty');
  assert.equal(typeof rc.connectedAt, 'number', 'connectedAt must be a number (epoch ms)');
  assert.equal(typeof rc.requestTimeEpoch, 'number', 'requestTimeEpoch must be a number (epoch ms)');
  assert.ok(Number.isInteger(rc.connectedAt) && Number.isInteger(rc.requestTimeEpoch));
  assert.ok(Math.abs(Date.now() - rc.requestTimeEpoch) < 60000, `requestTimeEpoch ${rc.requestTimeEpoch} is not now (ms)`);
  assert.ok(rc.requestTimeEpoch >= rc.connectedAt, 'requestTimeEpoch before connectedAt');
  const m = CLF.exec(rc.requestTime);
  assert.ok(m, `requestTime ${JSON.stringify(rc.requestTime)} is not CLF "dd/MMM/yyyy:HH:mm:ss +0000"`);
  const clf = Date.UTC(Number(m[3]), MONTHS.indexOf(m[2]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  assert.equal(clf, Math.floor(rc.requestTimeEpoch / 1000) * 1000, 'requestTime and requestTimeEpoch disagree');
  assert.equal(rc.identity?.sourceIp, '127.0.0.1', 'identity.sourceIp');
}

test('the CONNECT event: headers, multiValueHeaders, query string maps, requestContext', T, async (t) => {
  const f = await functionsFor(t, { chat: recorder });
  const p = await startFor(t, allRoutes(f));
  const before = Date.now();
  const ws = await openWs(`${p.wsUrl}/dev?room=lobby&tag=a&tag=b`, { headers: { 'X-Test': 'yes', 'User-Agent': 'portico-it/1.0' } });
  const id = await connectionIdOf(ws);
  const [ev] = eventsOf(f, 'chat', 'CONNECT');
  assert.ok(ev, 'no CONNECT event');
  assert.equal(f.requests[0].headers['content-type'], 'application/json');
  assertCommonContext(ev.requestContext, { routeKey: '$connect', eventType: 'CONNECT', connectionId: id });
  const rc = ev.requestContext;
  assert.ok(rc.connectedAt >= before - 1000 && rc.connectedAt <= Date.now(), `connectedAt ${rc.connectedAt}`);
  assert.equal(rc.identity.userAgent, 'portico-it/1.0');
  assert.ok(rc.messageId === undefined || rc.messageId === null, 'a CONNECT has no messageId');
  assert.equal(rc.disconnectStatusCode ?? null, null, 'no disconnectStatusCode on CONNECT');
  // Headers as sent by the client, original case.
  assert.equal(ev.headers['X-Test'], 'yes', `headers: ${JSON.stringify(ev.headers)}`);
  assert.deepEqual(ev.multiValueHeaders['X-Test'], ['yes']);
  assert.equal(ev.headers.Host, `127.0.0.1:${p.port}`);
  assert.equal(ev.headers['Sec-WebSocket-Version'], '13');
  for (const [k, v] of Object.entries(ev.headers)) {
    assert.equal(typeof v, 'string', `headers.${k}`);
    assert.ok(Array.isArray(ev.multiValueHeaders[k]), `multiValueHeaders.${k} missing`);
    assert.equal(ev.multiValueHeaders[k].at(-1), v);
  }
  assert.deepEqual(ev.queryStringParameters, { room: 'lobby', tag: 'b' });
  assert.deepEqual(ev.multiValueQueryStringParameters, { room: ['lobby'], tag: ['a', 'b'] });
  assert.equal(ev.isBase64Encoded, false);
  assert.ok(!('body' in ev) || ev.body === null, 'a CONNECT has no body');
  // Without a query string the query keys are absent.
  const ws2 = await openWs(`${p.wsUrl}/dev`);
  await connectionIdOf(ws2);
  const ev2 = eventsOf(f, 'chat', 'CONNECT')[1];
  assert.ok(!('queryStringParameters' in ev2), 'queryStringParameters without a query string');
  assert.ok(!('multiValueQueryStringParameters' in ev2));
  assert.notEqual(ev2.requestContext.connectionId, id);
  ws.close();
  ws2.close();
});

test('the CONNECT event has no Connection or Upgrade header (AWS captures have neither)', T, async (t) => {
  const f = await functionsFor(t, { chat: recorder });
  const p = await startFor(t, allRoutes(f));
  const ws = await openWs(`${p.wsUrl}/dev`, { headers: { 'X-Test': 'yes' } });
  await connectionIdOf(ws);
  const [ev] = eventsOf(f, 'chat', 'CONNECT');
  const names = Object.keys(ev.headers).map((h) => h.toLowerCase());
  assert.ok(!names.includes('connection'), `headers: ${JSON.stringify(ev.headers)}`);
  assert.ok(!names.includes('upgrade'), `headers: ${JSON.stringify(ev.headers)}`);
  assert.ok(!Object.keys(ev.multiValueHeaders).some((h) => /^(connection|upgrade)$/i.test(h)));
  assert.ok(names.includes('sec-websocket-key'), 'AWS keeps Sec-WebSocket-Key in the event');
  ws.close();
});

test('requestContext.domainName is the host the client connected to, the same on every event', T, async (t) => {
  const f = await functionsFor(t, { chat: recorder });
  const p = await startFor(t, allRoutes(f));
  const ws = await openWs(`${p.wsUrl}/dev`);
  await connectionIdOf(ws);
  ws.close(1000, 'bye');
  await f.waitFor((r) => r.event?.requestContext?.eventType === 'DISCONNECT');
  const host = `127.0.0.1:${p.port}`;
  for (const ev of f.events('chat')) {
    // AWS: the execute-api or custom domain the client used; a function builds its
    // @connections endpoint from it (https://{domainName}/{stage}).
    assert.equal(ev.requestContext.domainName, host, `${ev.requestContext.eventType}: domainName`);
  }
  const [disc] = eventsOf(f, 'chat', 'DISCONNECT');
  assert.equal(disc.headers.Host, disc.requestContext.domainName, 'the DISCONNECT Host placeholder');
});

test('the MESSAGE event: body verbatim, messageId, isBase64Encoded false, no headers', T, async (t) => {
  const f = await functionsFor(t, { chat: recorder });
  const p = await startFor(t, allRoutes(f));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const text = '{"action":"sendmessage","data":"héllo ✓"}';
  ws.send(text);
  assert.equal(await nextText(ws), `echo:${text}`);
  ws.send('not json');
  assert.equal(await nextText(ws), 'echo:not json');
  const [connect] = eventsOf(f, 'chat', 'CONNECT');
  const msgs = eventsOf(f, 'chat', 'MESSAGE');
  assert.equal(msgs.length, 2);
  const [ev, ev2] = msgs;
  assertCommonContext(ev.requestContext, { routeKey: 'sendmessage', eventType: 'MESSAGE', connectionId: id });
  assert.equal(ev2.requestContext.routeKey, '$default');
  assert.equal(ev.body, text);
  assert.equal(ev2.body, 'not json');
  assert.equal(ev.isBase64Encoded, false);
  assert.match(ev.requestContext.messageId, ID, 'messageId');
  assert.notEqual(ev.requestContext.messageId, ev2.requestContext.messageId);
  assert.notEqual(ev.requestContext.requestId, ev2.requestContext.requestId);
  assert.notEqual(ev.requestContext.requestId, connect.requestContext.requestId);
  assert.equal(ev.requestContext.connectedAt, connect.requestContext.connectedAt, 'connectedAt is constant for the connection');
  for (const k of ['headers', 'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters']) {
    assert.ok(!(k in ev), `a MESSAGE event must not have ${k}`);
  }
  ws.close();
});

test('a binary MESSAGE: isBase64Encoded true and the body is the base64 of the bytes', T, async (t) => {
  const f = await functionsFor(t, { chat: (e) => ({ statusCode: 200, body: `len=${Buffer.from(e.body ?? '', 'base64').length}` }) });
  const p = await startFor(t, allRoutes(f));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0xc3, 0x28, 0x01]);
  ws.send(bytes, { binary: true });
  assert.equal(await nextText(ws), 'len=9');
  const [ev] = eventsOf(f, 'chat', 'MESSAGE');
  assert.equal(ev.isBase64Encoded, true);
  assert.equal(ev.body, bytes.toString('base64'));
  assert.equal(ev.requestContext.routeKey, '$default', 'binary frames are not routed by content');
  ws.close();
});

test('the DISCONNECT event: disconnectStatusCode number, disconnectReason string, once', T, async (t) => {
  const f = await functionsFor(t, { chat: recorder });
  const p = await startFor(t, allRoutes(f));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.close(1000, 'bye');
  await closeEvent(ws);
  await f.waitFor((r) => r.event?.requestContext?.eventType === 'DISCONNECT');
  const [connect] = eventsOf(f, 'chat', 'CONNECT');
  const [ev] = eventsOf(f, 'chat', 'DISCONNECT');
  assertCommonContext(ev.requestContext, { routeKey: '$disconnect', eventType: 'DISCONNECT', connectionId: id });
  assert.equal(ev.requestContext.disconnectStatusCode, 1000);
  assert.equal(ev.requestContext.disconnectReason, 'bye');
  assert.equal(ev.requestContext.connectedAt, connect.requestContext.connectedAt);
  assert.equal(ev.isBase64Encoded, false);
  assert.ok(!('body' in ev) || ev.body === null, 'a DISCONNECT has no body');
  // AWS sends four placeholder headers on $disconnect, not the handshake's.
  assert.deepEqual(Object.keys(ev.headers).sort(), ['Host', 'X-Forwarded-For', 'x-api-key', 'x-restapi']);
  assert.equal(ev.headers['x-api-key'], '');
  assert.deepEqual(ev.multiValueHeaders['x-api-key'], ['']);
  assert.ok(!('queryStringParameters' in ev));
  await sleep(300);
  assert.equal(eventsOf(f, 'chat', 'DISCONNECT').length, 1, '$disconnect ran more than once');
  // A client that vanishes: 1006 and an (empty) string reason.
  const ws2 = await openWs(`${p.wsUrl}/dev`);
  const id2 = await connectionIdOf(ws2);
  ws2.terminate();
  await f.waitFor((r) => r.event?.requestContext?.eventType === 'DISCONNECT' && r.event.requestContext.connectionId === id2);
  const ev2 = eventsOf(f, 'chat', 'DISCONNECT').find((e) => e.requestContext.connectionId === id2);
  assert.equal(ev2.requestContext.disconnectStatusCode, 1006);
  assert.equal(typeof ev2.requestContext.disconnectReason, 'string');
});

test('result handling: body on a two-way route, nothing on a one-way route, statusCode optional', T, async (t) => {
  const f = await functionsFor(t, {
    chat: (e) => {
      const body = e.body ?? '';
      if (body === 'no-status') return { body: 'no statusCode is 200' };
      if (body === 'status500') return { statusCode: 500, body: 'a 500 result still delivers its body' };
      return { statusCode: 200, headers: { 'X-Ignored': '1' }, body: `got ${body}` };
    },
  });
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { fn: lambda(f, 'chat') },
        routes: { $default: { integration: 'fn', routeResponse: true }, oneway: { integration: 'fn' } },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('hello');
  assert.equal(await nextText(ws), 'got hello');
  ws.send('no-status');
  assert.equal(await nextText(ws), 'no statusCode is 200');
  ws.send('status500');
  assert.equal(await nextText(ws), 'a 500 result still delivers its body');
  ws.send('{"action":"oneway"}');
  await f.waitFor((r) => r.event?.requestContext?.routeKey === 'oneway');
  assert.ok(await noMessageWithin(ws, 300), 'a one-way route sent the result back');
  ws.close();
});

test('an isBase64Encoded result becomes a binary message with the decoded bytes', T, async (t) => {
  const bytes = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x7f, 0x0a]);
  const f = await functionsFor(t, { chat: () => ({ statusCode: 200, isBase64Encoded: true, body: bytes.toString('base64') }) });
  const p = await startFor(t, echoConfig({ api: { integrations: { fn: lambda(f, 'chat') }, routes: { $default: { integration: 'fn', routeResponse: true } } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('give me bytes');
  const m = await nextMessage(ws);
  assert.equal(m.isBinary, true, 'expected a binary message');
  assert.deepEqual(m.data, bytes);
  ws.close();
});

test('$connect: result statusCode 403 refuses with 403, 200 with Sec-WebSocket-Protocol selects it', T, async (t) => {
  const f = await functionsFor(t, {
    gate: (e) => {
      const q = e.queryStringParameters ?? {};
      if (q.deny) return { statusCode: 403, body: 'go away' };
      if (q.proto) return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'chat' } };
      return { statusCode: 200 };
    },
    chat: recorder,
  });
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: { gate: lambda(f, 'gate'), fn: lambda(f, 'chat') },
        routes: { $connect: { integration: 'gate' }, $disconnect: { integration: 'fn' } },
      },
    }),
  );
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev?deny=1`), 403);
  const ws = await openWs(`${p.wsUrl}/dev?proto=1`, { protocols: ['chat', 'other'] });
  assert.equal(ws.protocol, 'chat');
  ws.close();
  await f.waitFor((r) => r.name === 'chat');
  await sleep(200);
  assert.equal(eventsOf(f, 'chat', 'DISCONNECT').length, 1, '$disconnect must run only for the accepted connection');
});

test('$connect: a throwing function, a malformed result or an unknown function refuse with 502', T, async (t) => {
  const f = await functionsFor(t, {
    boom: () => {
      throw new Error('boom');
    },
    garbage: () => rawResult('{"statusCode": 200, "body": '),
  });
  const port = await deadPort();
  // One integration, a function per stage, through stage variables.
  const p = await startFor(
    t,
    echoConfig({
      api: {
        stages: {
          boom: { variables: { port: String(f.port), fn: 'boom' } },
          garbage: { variables: { port: String(f.port), fn: 'garbage' } },
          missing: { variables: { port: String(f.port), fn: 'nosuchfunction' } },
          dead: { variables: { port: String(port), fn: 'x' } },
        },
        integrations: {
          gate: { type: 'AWS_PROXY', uri: 'http://127.0.0.1:${stageVariables.port}/2015-03-31/functions/${stageVariables.fn}/invocations' },
        },
        routes: { $connect: { integration: 'gate' } },
      },
    }),
  );
  for (const stage of ['boom', 'garbage', 'missing', 'dead']) {
    assert.equal(await handshakeStatus(`${p.wsUrl}/${stage}`), 502, `stage ${stage}`);
  }
  assert.ok(f.requests.some((r) => r.name === 'nosuchfunction'), 'the unknown function was not called');
});

test('message routes: a throwing function, a malformed result, an unknown function → "Internal server error"', T, async (t) => {
  const f = await functionsFor(t, {
    boom: () => {
      throw new Error('secret detail');
    },
    garbage: () => rawResult('this is not json'),
    notobject: () => rawResult('[1,2,3]'),
    badbody: () => ({ statusCode: 200, body: { not: 'a string' } }),
    fine: () => ({ statusCode: 200, body: 'fine' }),
  });
  const p = await startFor(
    t,
    echoConfig({
      api: {
        integrations: {
          boom: lambda(f, 'boom'),
          garbage: lambda(f, 'garbage'),
          notobject: lambda(f, 'notobject'),
          badbody: lambda(f, 'badbody'),
          missing: lambda(f, 'nosuchfunction'),
          fine: lambda(f, 'fine'),
        },
        routes: {
          boom: { integration: 'boom', routeResponse: true },
          garbage: { integration: 'garbage', routeResponse: true },
          notobject: { integration: 'notobject', routeResponse: true },
          badbody: { integration: 'badbody', routeResponse: true },
          missing: { integration: 'missing', routeResponse: true },
          boomoneway: { integration: 'boom' },
          fine: { integration: 'fine', routeResponse: true },
        },
      },
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  for (const action of ['boom', 'garbage', 'notobject', 'badbody', 'missing', 'boomoneway']) {
    ws.send(JSON.stringify({ action }));
    const frame = await nextJson(ws);
    assert.deepEqual(Object.keys(frame).sort(), ['connectionId', 'message', 'requestId'], action);
    assert.equal(frame.message, 'Internal server error', action);
    assert.equal(frame.connectionId, id, action);
    assert.match(frame.requestId, ID, action);
  }
  assert.ok(f.requests.some((r) => r.name === 'nosuchfunction'), 'the unknown function was not called');
  ws.send('{"action":"fine"}');
  assert.equal(await nextText(ws), 'fine', 'the connection stays usable');
  ws.close();
});

test('a function slower than timeoutMs gives "Endpoint request timed out"', T, async (t) => {
  const f = await functionsFor(t, { slow: () => sleep(3000).then(() => ({ statusCode: 200, body: 'late' })) });
  const p = await startFor(
    t,
    echoConfig({ api: { integrations: { slow: lambda(f, 'slow', { timeoutMs: 300 }) }, routes: { slow: { integration: 'slow', routeResponse: true } } } }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.send('{"action":"slow"}');
  const frame = await nextJson(ws, 2000);
  assert.equal(frame.message, 'Endpoint request timed out');
  assert.equal(frame.connectionId, id);
  assert.equal(await connectionIdOf(ws), id);
  ws.close();
});
