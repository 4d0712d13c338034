// HTTP/1.1 as management clients speak it: keep-alive, pipelining, chunked bodies,
// Expect: 100-continue, and malformed requests that must not hurt the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  echoConfig,
  openWs,
  nextText,
  connectionIdOf,
  mgmtClient,
  httpRequest,
  encId,
  sleep,
} from './lib/portico.mjs';

const T = { timeout: 15000 };

/** Server with managementAuth NONE (so raw requests need no signature) and one client. */
async function setup(t) {
  const p = await startFor(t, echoConfig({ api: { managementAuth: 'NONE' } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  t.after(() => ws.terminate());
  return { p, ws, id, path: `/dev/@connections/${encId(id)}` };
}

/** Writes raw bytes on a new TCP connection and collects what comes back until the server ends it or ms pass. */
function rawExchange(port, chunks, ms = 2000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got.toString('latin1'));
    };
    const timer = setTimeout(done, ms);
    sock.on('data', (d) => (got = Buffer.concat([got, d])));
    sock.on('end', done);
    sock.on('error', done);
    sock.on('connect', async () => {
      for (const c of chunks) {
        sock.write(c);
        await sleep(5);
      }
    });
  });
}

async function stillServes(p) {
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('still serving');
  assert.equal(await nextText(ws), 'still serving');
  ws.close();
}

test('management requests on one keep-alive connection', T, async (t) => {
  const { p, ws, path } = await setup(t);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const ports = new Set();
  for (let i = 0; i < 5; i++) {
    const r = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: p.port, method: 'POST', path, agent }, (res) => {
        ports.add(req.socket.localPort);
        res.resume();
        res.on('end', () => resolve(res));
      });
      req.on('error', reject);
      req.end(`ka${i}`);
    });
    assert.equal(r.statusCode, 200);
  }
  assert.equal(ports.size, 1, 'the server closed a keep-alive connection between requests');
  for (let i = 0; i < 5; i++) assert.equal(await nextText(ws), `ka${i}`);
});

test('pipelined requests are answered in order', T, async (t) => {
  const { p, ws, path } = await setup(t);
  const one = (body) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const out = await rawExchange(p.port, [one('pipe1') + one('pipe2') + `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`], 3000);
  const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 200, 200], out);
  assert.equal(await nextText(ws), 'pipe1');
  assert.equal(await nextText(ws), 'pipe2');
});

test('a chunked request body is delivered whole', T, async (t) => {
  const { p, ws, path } = await setup(t);
  const out = await rawExchange(
    p.port,
    [`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, '5\r\nchunk\r\n', '7\r\ned body\r\n', '0\r\n\r\n'],
    3000,
  );
  assert.match(out, /^HTTP\/1\.1 200 /, out);
  assert.equal(await nextText(ws), 'chunked body');
});

test('Expect: 100-continue gets a 100 before the body', T, async (t) => {
  const { p, ws, path } = await setup(t);
  const started = Date.now();
  const status = await new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: p.port,
      method: 'POST',
      path,
      headers: { Expect: '100-continue', 'Content-Length': 9 },
      agent: false,
    });
    let continued = false;
    req.on('continue', () => {
      continued = true;
      req.end('continued');
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ code: res.statusCode, continued }));
    });
    req.on('error', reject);
    setTimeout(() => {
      if (!continued) req.end('continued'); // as curl does after waiting 1 s
    }, 1500);
  });
  assert.equal(status.continued, true, 'no 100 Continue');
  assert.equal(status.code, 200);
  assert.ok(Date.now() - started < 1000, 'the client had to wait for the 100');
  assert.equal(await nextText(ws), 'continued');
});

test('a request to an unknown path is a 4xx, not a hang or a crash', T, async (t) => {
  const { p } = await setup(t);
  for (const path of ['/', '/nothing/here', '/dev/@connectionsX/abc', '/dev/@connections/a/b/c/d']) {
    const r = await httpRequest({ port: p.port, method: 'GET', path });
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
  }
  await stillServes(p);
});

test('an unsupported method on @connections is a 4xx', T, async (t) => {
  const { p, path } = await setup(t);
  const r = await httpRequest({ port: p.port, method: 'PUT', path, body: 'x' });
  assert.ok(r.status >= 400 && r.status < 500, `PUT: ${r.status}`);
  await stillServes(p);
});

test('garbage instead of HTTP gets a 400 or a close, and the server goes on', T, async (t) => {
  const { p } = await setup(t);
  const out = await rawExchange(p.port, ['\x00\x01\x02 this is not http\r\n\r\n'], 2000);
  assert.ok(out === '' || /^HTTP\/1\.[01] 4\d\d /.test(out), out.slice(0, 100));
  await stillServes(p);
});

test('a huge request header is refused (4xx or close), and the server goes on', T, async (t) => {
  const { p, path } = await setup(t);
  const out = await rawExchange(p.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\n\r\n`], 3000);
  assert.ok(out === '' || /^HTTP\/1\.[01] 4\d\d /.test(out), out.slice(0, 100));
  await stillServes(p);
});

test('a Content-Length larger than the body that follows does not block other clients', T, async (t) => {
  const { p, ws, id } = await setup(t);
  const sock = net.connect({ host: '127.0.0.1', port: p.port });
  t.after(() => sock.destroy());
  await new Promise((r) => sock.once('connect', r));
  sock.write(`POST /dev/@connections/${encId(id)} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial`);
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('meanwhile') }));
  assert.equal(await nextText(ws), 'meanwhile');
});

test('a management request with a body over messageBytes is 413 even when chunked', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { messageBytes: 1024 }, api: { managementAuth: 'NONE' } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const big = 'z'.repeat(3000);
  const out = await rawExchange(
    p.port,
    [`POST /dev/@connections/${encId(id)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`],
    3000,
  );
  assert.match(out, /^HTTP\/1\.1 413 /, out.slice(0, 200));
  assert.match(out, /x-amzn-errortype: PayloadTooLargeException/i);
  ws.terminate();
});

test('many concurrent posts to one connection are all delivered', T, async (t) => {
  const { p, ws, id } = await setup(t);
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  await Promise.all(
    Array.from({ length: 50 }, (_, i) => client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(`c${i}`) }))),
  );
  const got = new Set();
  for (let i = 0; i < 50; i++) got.add(await nextText(ws));
  assert.equal(got.size, 50);
});

test('200 concurrent WebSocket clients', { timeout: 30000 }, async (t) => {
  const p = await startFor(t, echoConfig());
  const clients = await Promise.all(Array.from({ length: 200 }, () => openWs(`${p.wsUrl}/dev`)));
  t.after(() => clients.forEach((c) => c.terminate()));
  clients.forEach((ws, i) => ws.send(`n${i}`));
  const answers = await Promise.all(clients.map((ws) => nextText(ws, 5000)));
  answers.forEach((a, i) => assert.equal(a, `n${i}`));
});
