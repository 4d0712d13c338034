// The @connections management API (SPEC section 3) with the real AWS SDK, aws4-signed raw
// requests and curl --aws-sigv4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  startPortico,
  echoConfig,
  openWs,
  nextMessage,
  nextText,
  closeEvent,
  connectionIdOf,
  mgmtClient,
  sdkError,
  httpRequest,
  signedRequest,
  encId,
  AKID,
  SECRET,
} from './lib/portico.mjs';

const T = { timeout: 20000 };

/** A server with the echo API at /dev, one client connected; returns {p, ws, id, client}. */
async function setup(t, over = {}, wsOpts = {}) {
  const p = await startFor(t, echoConfig(over));
  const ws = await openWs(`${p.wsUrl}/dev`, wsOpts);
  const id = await connectionIdOf(ws);
  const client = mgmtClient(p.port, '/dev');
  t.after(() => {
    client.destroy();
    ws.terminate();
  });
  return { p, ws, id, client };
}

function assertSdkError(err, name, status) {
  assert.equal(err.name, name, `error name (status ${err.$metadata?.httpStatusCode}, message ${err.message})`);
  assert.equal(err.$metadata?.httpStatusCode, status);
}

test('PostToConnection delivers UTF-8 data as a text message', T, async (t) => {
  const { ws, id, client } = await setup(t);
  const out = await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('héllo from the backend') }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  const m = await nextMessage(ws);
  assert.equal(m.isBinary, false, 'valid UTF-8 should arrive as a text message');
  assert.equal(m.text, 'héllo from the backend');
});

test('PostToConnection delivers non-UTF-8 data as a binary message with the same bytes', T, async (t) => {
  const { ws, id, client } = await setup(t);
  const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41, 0xc3]);
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: bytes }));
  const m = await nextMessage(ws);
  assert.equal(m.isBinary, true, 'invalid UTF-8 should arrive as a binary message');
  assert.deepEqual(m.data, bytes);
});

test('several posts arrive in the order they were made', T, async (t) => {
  const { ws, id, client } = await setup(t);
  for (let i = 0; i < 20; i++) await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(`n${i}`) }));
  for (let i = 0; i < 20; i++) assert.equal(await nextText(ws), `n${i}`);
});

test('GetConnection returns dates, the source IP and the user agent', T, async (t) => {
  const before = Date.now();
  const { ws, id, client } = await setup(t, {}, { headers: { 'User-Agent': 'portico-it/1.0 (integration)' } });
  ws.send('some activity');
  await nextText(ws);
  const out = await client.send(new GetConnectionCommand({ ConnectionId: id }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.ok(out.ConnectedAt instanceof Date, 'ConnectedAt is not a Date');
  assert.ok(out.LastActiveAt instanceof Date, 'LastActiveAt is not a Date');
  assert.ok(!Number.isNaN(out.ConnectedAt.getTime()));
  assert.ok(out.ConnectedAt.getTime() >= before - 1000 && out.ConnectedAt.getTime() <= Date.now() + 1000, `ConnectedAt ${out.ConnectedAt.toISOString()}`);
  assert.ok(out.LastActiveAt.getTime() >= out.ConnectedAt.getTime() - 1, 'LastActiveAt before ConnectedAt');
  assert.ok(out.LastActiveAt.getTime() <= Date.now() + 1000, `LastActiveAt ${out.LastActiveAt.toISOString()}`);
  assert.equal(out.Identity?.SourceIp, '127.0.0.1');
  assert.equal(out.Identity?.UserAgent, 'portico-it/1.0 (integration)');
});

test('GetConnection on the wire: lowerCamel JSON with RFC 3339 dates', T, async (t) => {
  const { p, id } = await setup(t);
  const r = await signedRequest(p.port, 'GET', `/dev/@connections/${encId(id)}`);
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /application\/json/);
  const body = JSON.parse(r.text);
  assert.deepEqual(Object.keys(body).sort(), ['connectedAt', 'identity', 'lastActiveAt']);
  const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
  assert.match(body.connectedAt, rfc3339);
  assert.match(body.lastActiveAt, rfc3339);
  assert.equal(body.identity.sourceIp, '127.0.0.1');
  assert.equal(typeof body.identity.userAgent, 'string');
});

test('DeleteConnection answers 204, closes the client, and later calls are Gone', T, async (t) => {
  const { ws, id, client } = await setup(t);
  const out = await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
  assert.equal(out.$metadata.httpStatusCode, 204);
  const c = await closeEvent(ws, 3000);
  assert.ok(c.code === 1001 || c.code === 1000, `closed with ${c.code} (AWS closes with 1001 Going away)`);
  const e1 = await sdkError(client, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('too late') }));
  assertSdkError(e1, 'GoneException', 410);
  const e2 = await sdkError(client, new GetConnectionCommand({ ConnectionId: id }));
  assertSdkError(e2, 'GoneException', 410);
  const e3 = await sdkError(client, new DeleteConnectionCommand({ ConnectionId: id }));
  assertSdkError(e3, 'GoneException', 410);
});

test('a connection the client closed is Gone (410, empty body)', T, async (t) => {
  const { p, ws, id, client } = await setup(t);
  ws.close();
  await closeEvent(ws);
  // $disconnect may finish a moment after the close; the id must be gone promptly.
  let err;
  const deadline = Date.now() + 2000;
  do {
    err = await sdkError(client, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') })).catch((e) => e);
  } while (err.name !== 'GoneException' && Date.now() < deadline);
  assertSdkError(err, 'GoneException', 410);
  const raw = await signedRequest(p.port, 'POST', `/dev/@connections/${encId(id)}`, 'x');
  assert.equal(raw.status, 410);
  assert.equal(String(raw.headers['x-amzn-errortype']).split(':')[0], 'GoneException');
  assert.equal(raw.body.length, 0, `410 body should be empty, got ${raw.text}`);
});

test('an id from an earlier run of the server is Gone, not malformed', T, async (t) => {
  const first = await startPortico(echoConfig());
  let oldId;
  try {
    const ws = await openWs(`${first.wsUrl}/dev`);
    oldId = await connectionIdOf(ws);
  } finally {
    await first.stop('SIGKILL');
  }
  const p = await startFor(t, echoConfig());
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const err = await sdkError(client, new PostToConnectionCommand({ ConnectionId: oldId, Data: Buffer.from('x') }));
  assertSdkError(err, 'GoneException', 410);
});

test('a malformed id is a BadRequestException "Invalid connectionId: X"', T, async (t) => {
  const { client } = await setup(t);
  const err = await sdkError(client, new PostToConnectionCommand({ ConnectionId: 'not-an-id!', Data: Buffer.from('x') }));
  assertSdkError(err, 'BadRequestException', 400);
  assert.equal(err.message, 'Invalid connectionId: not-an-id!');
});

test('a wrong secret is an InvalidSignatureException', T, async (t) => {
  const { p, id } = await setup(t);
  const bad = mgmtClient(p.port, '/dev', { credentials: { accessKeyId: AKID, secretAccessKey: 'not-the-secret' } });
  t.after(() => bad.destroy());
  const err = await sdkError(bad, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assertSdkError(err, 'InvalidSignatureException', 403);
});

test('an unknown access key is an UnrecognizedClientException', T, async (t) => {
  const { p, id } = await setup(t);
  const bad = mgmtClient(p.port, '/dev', { credentials: { accessKeyId: 'AKIDUNKNOWN0000', secretAccessKey: SECRET } });
  t.after(() => bad.destroy());
  const err = await sdkError(bad, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assertSdkError(err, 'UnrecognizedClientException', 403);
});

test('a signature older than the 15-minute window is an InvalidSignatureException', T, async (t) => {
  const { p, id } = await setup(t);
  const r = await signedRequest(p.port, 'POST', `/dev/@connections/${encId(id)}`, 'old', {
    date: new Date(Date.now() - 30 * 60 * 1000),
  });
  assert.equal(r.status, 403, r.text);
  assert.equal(String(r.headers['x-amzn-errortype']).split(':')[0], 'InvalidSignatureException');
});

test('a signature for any region is accepted', T, async (t) => {
  const { p, ws, id } = await setup(t);
  const client = mgmtClient(p.port, '/dev', { region: 'eu-west-3' });
  t.after(() => client.destroy());
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('from paris') }));
  assert.equal(await nextText(ws), 'from paris');
});

test('an unsigned request is 403 MissingAuthenticationTokenException', T, async (t) => {
  const { p, ws, id } = await setup(t);
  const res = await fetch(`${p.baseUrl}/dev/@connections/${encId(id)}`, { method: 'POST', body: 'unsigned' });
  const text = await res.text();
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-amzn-errortype')?.split(':')[0], 'MissingAuthenticationTokenException');
  assert.deepEqual(JSON.parse(text), { message: 'Missing Authentication Token' });
  assert.ok(res.headers.get('x-amzn-requestid'), 'no x-amzn-RequestId');
  // and nothing was delivered
  ws.send('probe');
  assert.equal(await nextText(ws), 'probe');
});

test('Data over messageBytes is a PayloadTooLargeException (413)', T, async (t) => {
  const { ws, id, client } = await setup(t, { limits: { messageBytes: 1024 } });
  const err = await sdkError(client, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(1025, 0x61) }));
  assertSdkError(err, 'PayloadTooLargeException', 413);
  // exactly messageBytes is fine
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(1024, 0x62) }));
  assert.equal(await nextText(ws), 'b'.repeat(1024));
});

test('an unknown stage in the endpoint is a ForbiddenException (403)', T, async (t) => {
  const { p, id } = await setup(t);
  const client = mgmtClient(p.port, '/prod');
  t.after(() => client.destroy());
  const err = await sdkError(client, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assertSdkError(err, 'ForbiddenException', 403);
  const none = mgmtClient(p.port, '');
  t.after(() => none.destroy());
  const err2 = await sdkError(none, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assertSdkError(err2, 'ForbiddenException', 403);
});

test('every management response carries x-amzn-RequestId', T, async (t) => {
  const { p, id } = await setup(t);
  const path = `/dev/@connections/${encId(id)}`;
  const cases = [
    ['POST 200', () => signedRequest(p.port, 'POST', path, 'x'), 200],
    ['GET 200', () => signedRequest(p.port, 'GET', path), 200],
    ['POST 400', () => signedRequest(p.port, 'POST', '/dev/@connections/not-an-id%21', 'x'), 400],
    ['POST 403 unsigned', () => httpRequest({ port: p.port, method: 'POST', path, body: 'x' }), 403],
    ['POST 403 unknown stage', () => signedRequest(p.port, 'POST', `/prod/@connections/${encId(id)}`, 'x'), 403],
    ['DELETE 204', () => signedRequest(p.port, 'DELETE', path), 204],
    ['POST 410', () => signedRequest(p.port, 'POST', path, 'x'), 410],
  ];
  const seen = new Set();
  for (const [name, run, status] of cases) {
    const r = await run();
    assert.equal(r.status, status, `${name}: ${r.text}`);
    const rid = r.headers['x-amzn-requestid'];
    assert.ok(rid, `${name}: no x-amzn-RequestId`);
    assert.ok(!seen.has(rid), `${name}: request id ${rid} reused`);
    seen.add(rid);
  }
});

test('errors carry x-amzn-ErrorType and a JSON {"message"} body', T, async (t) => {
  const { p } = await setup(t);
  const r = await signedRequest(p.port, 'POST', '/dev/@connections/not-an-id%21', 'x');
  assert.equal(r.status, 400);
  assert.equal(String(r.headers['x-amzn-errortype']).split(':')[0], 'BadRequestException');
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.deepEqual(JSON.parse(r.text), { message: 'Invalid connectionId: not-an-id!' });
});

test('a presigned GET (SigV4 in the query string) works', T, async (t) => {
  const { p, id } = await setup(t);
  const r = await signedRequest(p.port, 'GET', `/dev/@connections/${encId(id)}`, undefined, { signQuery: true });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).identity.sourceIp, '127.0.0.1');
});

test('%40connections on the wire routes like @connections (signed per the AWS rule)', T, async (t) => {
  const { p, ws, id } = await setup(t);
  const r = await signedRequest(p.port, 'POST', `/dev/%40connections/${encId(id)}`, 'via %40');
  assert.equal(r.status, 200, r.text);
  assert.equal(await nextText(ws), 'via %40');
});

function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 10000 }, (err, stdout, stderr) => resolve({ err, stdout, stderr }));
  });
}

test('curl --aws-sigv4 can post to a connection', T, async (t) => {
  const help = await curl(['--help', 'all']);
  if (!/--aws-sigv4/.test(help.stdout)) {
    t.skip('this curl has no --aws-sigv4');
    return;
  }
  const { p, ws, id } = await setup(t);
  const url = `http://127.0.0.1:${p.port}/dev/@connections/${encId(id)}`;
  const r = await curl(['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:execute-api', '--user', `${AKID}:${SECRET}`, '-X', 'POST', '--data', 'hi', url]);
  assert.equal(r.stdout, '200', `curl: ${r.stdout} ${r.stderr}`);
  assert.equal(await nextText(ws), 'hi');
});

test('managementAuth NONE lets an unsigned POST through', T, async (t) => {
  const { p, ws, id } = await setup(t, { api: { managementAuth: 'NONE' } });
  const res = await fetch(`${p.baseUrl}/dev/@connections/${encId(id)}`, { method: 'POST', body: 'no signature needed' });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  assert.equal(await nextText(ws), 'no signature needed');
  const get = await fetch(`${p.baseUrl}/dev/@connections/${encId(id)}`);
  assert.equal(get.status, 200);
  assert.equal((await get.json()).identity.sourceIp, '127.0.0.1');
});

test('the management API of the $default stage sits at the base path', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { basePath: '/chat', stages: { $default: {} } } }));
  const ws = await openWs(`${p.wsUrl}/chat`);
  const id = await connectionIdOf(ws);
  const client = mgmtClient(p.port, '/chat');
  t.after(() => client.destroy());
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('to the default stage') }));
  assert.equal(await nextText(ws), 'to the default stage');
});

test('the management API of a stage under a base path: {basePath}/{stage}/@connections', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { basePath: '/chat' } }));
  const ws = await openWs(`${p.wsUrl}/chat/dev`);
  const id = await connectionIdOf(ws);
  const client = mgmtClient(p.port, '/chat/dev');
  t.after(() => client.destroy());
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('via base path') }));
  assert.equal(await nextText(ws), 'via base path');
  const wrong = mgmtClient(p.port, '/dev');
  t.after(() => wrong.destroy());
  const err = await sdkError(wrong, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assertSdkError(err, 'ForbiddenException', 403);
});

test('a connection of another stage is Gone on this stage', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { stages: { dev: {}, prod: {} } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const prod = mgmtClient(p.port, '/prod');
  t.after(() => prod.destroy());
  const err = await sdkError(prod, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }));
  assertSdkError(err, 'GoneException', 410);
});

test('slow consumer: 429 LimitExceededException once sendQueueBytes is exceeded, nothing accepted is lost', { timeout: 60000 }, async (t) => {
  const { p, ws, id, client } = await setup(t, { limits: { sendQueueBytes: 262144 } });
  const SIZE = 64 * 1024;
  const payload = (i) => Buffer.from(`${String(i).padStart(6, '0')}:`.padEnd(SIZE, 'x'));
  ws._socket.pause(); // the client stops reading
  let accepted = 0;
  let limited = null;
  for (let i = 0; i < 1500; i++) {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: payload(i) }));
      accepted++;
    } catch (err) {
      limited = err;
      break;
    }
  }
  assert.ok(limited, `no 429 after ${accepted} posts of ${SIZE} bytes to a client that does not read`);
  assertSdkError(limited, 'LimitExceededException', 429);
  assert.ok(accepted * SIZE >= 262144, `429 after only ${accepted} posts (${accepted * SIZE} bytes), under sendQueueBytes`);
  // Still limited while the client is stuck.
  const again = await sdkError(client, new PostToConnectionCommand({ ConnectionId: id, Data: payload(999999) }));
  assertSdkError(again, 'LimitExceededException', 429);
  ws._socket.resume();
  for (let i = 0; i < accepted; i++) {
    const m = await nextMessage(ws, 10000);
    assert.equal(m.data.length, SIZE, `message ${i} has ${m.data.length} bytes`);
    assert.equal(m.text.slice(0, 7), `${String(i).padStart(6, '0')}:`, `message ${i} out of order or lost`);
  }
  // Drained: posts are accepted again.
  let ok = false;
  const deadline = Date.now() + 3000;
  while (!ok && Date.now() < deadline) {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('after drain') }));
      ok = true;
    } catch (err) {
      if (err.name !== 'LimitExceededException') throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.ok(ok, 'still 429 after the client read everything');
  assert.equal(await nextText(ws, 5000), 'after drain');
  assert.equal(ws.readyState, ws.OPEN);
});
