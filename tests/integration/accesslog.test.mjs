// Access logs (SPEC section 7): one line per HTTP request, WebSocket connect, message and
// disconnect, in accessLog.format with AWS $context variables; JSON formats stay valid JSON
// whatever the values hold; a file nobody reads never slows a request; SIGHUP reopens the file
// (log rotation); a drain's disconnects are written before the exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import {
  startFor,
  echoConfig,
  wsApi,
  mock,
  openWs,
  nextText,
  nextJson,
  connectionIdOf,
  closeEvent,
  httpRequest,
  signedRequest,
  runPortico,
  writeTempConfig,
  waitFor,
  encId,
} from './lib/portico.mjs';

const T = { timeout: 60000 };
const FACTOR = Number(process.env.PORTICO_TIME_FACTOR || 1); // sanitizer builds are slower

const JSON_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  ua: '$context.identity.userAgent',
  api: '$context.apiId',
  stage: '$context.stage',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  method: '$context.httpMethod',
  path: '$context.path',
  protocol: '$context.protocol',
  length: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integration.status',
  connectionId: '$context.connectionId',
  connectedAt: '$context.connectedAt',
  messageId: '$context.messageId',
  time: '$context.requestTime',
  epoch: '$context.requestTimeEpoch',
  disconnectStatusCode: '$context.disconnectStatusCode',
  disconnectReason: '$context.disconnectReason',
  domainName: '$context.domainName',
}).replace(/}$/, ',"error":$context.error.messageString}');

function httpApi() {
  return {
    name: 'web',
    protocolType: 'HTTP',
    basePath: '/h',
    stages: { $default: {} },
    integrations: { hello: mock('hello', 200), teapot: mock('short and stout', 418) },
    routes: { 'GET /hello': { integration: 'hello' }, 'GET /teapot': { integration: 'teapot' } },
  };
}

/** A config with the echo WebSocket API, an HTTP API and a WebSocket API without $default. */
function config(accessLog, over = {}) {
  const strict = wsApi({ name: 'strict', basePath: '/strict' });
  delete strict.routes.$default;
  return { ...echoConfig(over), accessLog, apis: [wsApi(), strict, httpApi()] };
}

/** The lines of a file, once it has at least `n` of them. */
async function linesOf(file, n, what = `${n} lines in ${path.basename(file)}`) {
  let lines = [];
  await waitFor(
    async () => {
      const text = await fsp.readFile(file, 'utf8').catch(() => '');
      lines = text.split('\n').filter((l) => l !== '');
      return lines.length >= n;
    },
    { timeoutMs: 5000 * FACTOR, what },
  );
  return lines;
}

test('every HTTP request, connect, message and disconnect is one JSON line with the AWS $context values', T, async (t) => {
  const p = await startFor(t, config({ path: 'access.log', format: JSON_FORMAT }));
  const file = path.join(p.dir, 'access.log');

  const hello = await httpRequest({ port: p.port, path: '/h/hello', headers: { 'user-agent': 'tester/1.0' } });
  assert.equal(hello.status, 200);
  const missing = await httpRequest({ port: p.port, path: '/h/nope' });
  assert.equal(missing.status, 404);

  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws.close(4000, 'bye');
  await closeEvent(ws);

  const strict = await openWs(`${p.wsUrl}/strict/dev`);
  strict.send('nothing routes this');
  const forbidden = await nextJson(strict);
  assert.equal(forbidden.message, 'Forbidden');
  strict.close();
  await closeEvent(strict);

  const lines = await linesOf(file, 8);
  const events = lines.map((l) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      assert.fail(`not JSON: ${l}`);
    }
  });

  const h = events.find((e) => e.requestId === hello.headers['apigw-requestid']);
  assert.ok(h, `no line with the request id of the 200:\n${lines.join('\n')}`);
  assert.equal(h.status, '200');
  assert.equal(h.routeKey, 'GET /hello');
  assert.equal(h.api, 'web');
  assert.equal(h.stage, '$default');
  assert.equal(h.method, 'GET');
  assert.equal(h.path, '/h/hello');
  assert.equal(h.protocol, 'HTTP/1.1');
  assert.equal(h.ip, '127.0.0.1');
  assert.equal(h.ua, 'tester/1.0');
  assert.equal(h.length, '5');
  assert.equal(h.eventType, '-');
  assert.equal(h.error, '-');
  assert.equal(h.integrationStatus, '200');
  assert.match(h.latency, /^\d+$/);
  assert.match(h.integrationLatency, /^\d+$/);
  assert.match(h.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  assert.ok(Math.abs(Number(h.epoch) - Date.now()) < 60000, `requestTimeEpoch ${h.epoch}`);

  const nf = events.find((e) => e.requestId === missing.headers['apigw-requestid']);
  assert.ok(nf, 'no line for the 404');
  assert.deepEqual([nf.status, nf.error, nf.routeKey, nf.integrationLatency], ['404', 'Not Found', '-', '-']);

  const mine = events.filter((e) => e.connectionId === id);
  assert.deepEqual(mine.map((e) => e.eventType), ['CONNECT', 'MESSAGE', 'DISCONNECT'], lines.join('\n'));
  const [connect, message, disconnect] = mine;
  assert.deepEqual([connect.routeKey, connect.status, connect.api, connect.stage, connect.path], ['$connect', '200', 'chat', 'dev', '/dev']);
  assert.equal(connect.domainName, `127.0.0.1:${p.port}`);
  assert.match(connect.connectedAt, /^\d{13}$/);
  assert.deepEqual([message.routeKey, message.status, message.integrationStatus], ['whoami', '200', '200']);
  assert.match(message.messageId, /^[A-Za-z0-9=_-]{16}$/);
  assert.equal(message.connectedAt, connect.connectedAt);
  assert.deepEqual([disconnect.routeKey, disconnect.disconnectStatusCode, disconnect.disconnectReason], ['$disconnect', '4000', 'bye']);

  const deny = events.find((e) => e.eventType === 'MESSAGE' && e.api === 'strict');
  assert.ok(deny, 'no line for the unrouted message');
  assert.deepEqual([deny.status, deny.error, deny.requestId], ['403', 'Forbidden', forbidden.requestId]);
});

test('management calls and refused handshakes are logged with their status and AWS error', T, async (t) => {
  const p = await startFor(t, config({ path: 'access.log', format: JSON_FORMAT }));
  const file = path.join(p.dir, 'access.log');
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const posted = await signedRequest(p.port, 'POST', `/dev/@connections/${encId(id)}`, 'pushed');
  assert.equal(posted.status, 200);
  assert.equal(await nextText(ws), 'pushed');
  const gone = await signedRequest(p.port, 'GET', '/dev/@connections/AQAAAAAAAABoF5QDC9fySg', undefined);
  assert.equal(gone.status, 410);
  const unsigned = await httpRequest({ port: p.port, method: 'POST', path: `/dev/@connections/${encId(id)}`, body: 'x' });
  assert.equal(unsigned.status, 403);
  const badStage = await httpRequest({ port: p.port, path: '/nostage', headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
  assert.equal(badStage.status, 404);

  const lines = await linesOf(file, 5);
  const events = lines.map((l) => JSON.parse(l));
  const byId = (r) => events.find((e) => e.requestId === r.headers['x-amzn-requestid']);
  assert.deepEqual([byId(posted).status, byId(posted).method, byId(posted).path], ['200', 'POST', `/dev/@connections/${encId(id)}`]);
  assert.deepEqual([byId(gone).status, byId(gone).error], ['410', 'GoneException']);
  assert.deepEqual([byId(unsigned).status, byId(unsigned).error], ['403', 'Missing Authentication Token']);
  assert.ok(events.some((e) => e.status === '404' && e.path === '/nostage'), lines.join('\n'));
  ws.close();
});

test('the default format is text on standard output, and values cannot break a line', T, async (t) => {
  const p = await startFor(t, config({}));
  const ok = await httpRequest({ port: p.port, path: '/h/hello' });
  const teapot = await httpRequest({ port: p.port, path: '/h/teapot' });
  assert.equal(teapot.status, 418);
  await waitFor(() => p.stdout().length >= 2, { what: 'two lines on stdout' });
  const out = p.stdout();
  assert.match(out.find((l) => l.startsWith(ok.headers['apigw-requestid'])), /^\S{16} 127\.0\.0\.1 - GET \/hello 200 \d+$/);
  assert.match(out.find((l) => l.startsWith(teapot.headers['apigw-requestid'])), / GET \/teapot 418 \d+$/);

  // A User-Agent with quotes, a backslash and a byte that is not UTF-8, sent raw: each is
  // escaped as \xHH, and the line stays one line.
  const q = await startFor(t, config({ format: 'ua="$context.identity.userAgent" $context.status' }));
  const sock = net.connect(q.port, '127.0.0.1');
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.on('close', r));
  sock.write(Buffer.concat([Buffer.from('GET /h/hello HTTP/1.1\r\nHost: x\r\nUser-Agent: a"b\\c'), Buffer.from([0xff]), Buffer.from('d\r\nConnection: close\r\n\r\n')]));
  sock.resume(); // read the answer, and so the end
  await closed;
  await waitFor(() => q.stdout().length >= 1, { what: 'a line on stdout' });
  assert.deepEqual(q.stdout(), ['ua="a\\x22b\\x5cc\\xffd" 200']);
});

test('a log file nobody reads never slows requests, and loses nothing once read', T, async (t) => {
  const p0 = await writeTempConfig({ apis: [] });
  t.after(p0.cleanup);
  const fifo = path.join(p0.dir, 'access.fifo');
  execFileSync('mkfifo', [fifo]);
  // A reader that never reads: the pipe (64 KB) fills after a few hundred lines.
  const idle = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.after(() => fs.closeSync(idle));
  const padding = 'x'.repeat(400);
  const p = await startFor(t, config({ path: fifo, format: `$context.requestId ${padding}` }));

  const N = 2000;
  const started = Date.now();
  let slowest = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < N) {
        next++;
        const t0 = Date.now();
        const r = await httpRequest({ port: p.port, path: '/h/hello' });
        assert.equal(r.status, 200);
        slowest = Math.max(slowest, Date.now() - t0);
      }
    }),
  );
  const elapsed = Date.now() - started;
  // 2000 lines of 420 bytes are 13 pipes full: had the loop waited for the pipe, no request
  // after the first few hundred would have been answered at all.
  assert.ok(slowest < 2000 * FACTOR, `the slowest request took ${slowest} ms`);
  assert.ok(elapsed < 20000 * FACTOR, `${N} requests took ${elapsed} ms`);

  // Now read: every line arrives, whole.
  const cat = spawn('cat', [fifo]);
  let text = '';
  cat.stdout.setEncoding('utf8').on('data', (d) => (text += d));
  await waitFor(() => text.split('\n').length > N, { timeoutMs: 10000, what: `${N} lines through the fifo` });
  const lines = text.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, N);
  assert.ok(lines.every((l) => /^\S{16} x{400}$/.test(l)), 'a line was cut or mixed');
  await p.stop('SIGTERM');
  cat.kill();
});

test('SIGHUP reopens the file, so a rotated log is let go', T, async (t) => {
  const p = await startFor(t, config({ path: 'logs/access.log', format: '$context.requestId $context.status' }), { files: { 'logs/.keep': '' } });
  const file = path.join(p.dir, 'logs', 'access.log');
  const a = await httpRequest({ port: p.port, path: '/h/hello' });
  await linesOf(file, 1);
  await fsp.rename(file, `${file}.1`);
  const b = await httpRequest({ port: p.port, path: '/h/hello' }); // still the old file
  await linesOf(`${file}.1`, 2);
  p.signal('SIGHUP');
  await waitFor(() => p.logs().some((l) => l.includes('config reloaded')), { what: 'the reload' });
  const c = await httpRequest({ port: p.port, path: '/h/hello' });
  const fresh = await linesOf(file, 1);
  assert.deepEqual(fresh, [`${c.headers['apigw-requestid']} 200`]);
  const rotated = (await fsp.readFile(`${file}.1`, 'utf8')).trim().split('\n');
  assert.deepEqual(rotated, [`${a.headers['apigw-requestid']} 200`, `${b.headers['apigw-requestid']} 200`]);
});

test('a drain writes every connection\'s disconnect line before the exit, from every worker', T, async (t) => {
  const p = await startFor(t, config({ path: 'access.log', format: '$context.eventType $context.connectionId $context.disconnectStatusCode' }, { workers: 2 }));
  const file = path.join(p.dir, 'access.log');
  const ids = [];
  const clients = [];
  for (let i = 0; i < 12; i++) {
    const ws = await openWs(`${p.wsUrl}/dev`);
    clients.push(ws);
    ids.push(await connectionIdOf(ws));
  }
  const dir = await fsp.mkdtemp(path.join(path.dirname(p.dir), 'portico-keep-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const kept = path.join(dir, 'access.log');
  p.signal('SIGTERM');
  const exit = await p.exited;
  assert.equal(exit.code, 0);
  await fsp.copyFile(file, kept);
  const lines = (await fsp.readFile(kept, 'utf8')).trim().split('\n');
  for (const id of ids) {
    assert.ok(lines.includes(`CONNECT ${id} -`), `no CONNECT line for ${id}`);
    assert.ok(lines.includes(`DISCONNECT ${id} 1001`), `no DISCONNECT 1001 line for ${id}:\n${lines.join('\n')}`);
  }
});

test('--check names accessLog.format and accessLog.path; a file that cannot be opened stops the start', T, async (t) => {
  const bad = await writeTempConfig({ accessLog: { format: '$context.status $context.sourceIp', path: 7, colour: true }, apis: [wsApi()] });
  t.after(bad.cleanup);
  const r = await runPortico(['--check', bad.file]);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /accessLog\.path: expected a string, got 7/);
  assert.match(r.output, /accessLog\.colour: unknown key/);

  const unknown = await writeTempConfig({ accessLog: { format: '$context.status $context.sourceIp' }, apis: [wsApi()] });
  t.after(unknown.cleanup);
  const u = await runPortico(['--check', unknown.file]);
  assert.equal(u.code, 1, u.output);
  assert.match(u.output, /accessLog\.format: unknown variable \$context\.sourceIp \(known: .*identity\.sourceIp/);

  const nodir = await writeTempConfig({ listen: [{ host: '127.0.0.1', port: 0 }], accessLog: { path: 'no/such/dir/access.log' }, apis: [wsApi()] });
  t.after(nodir.cleanup);
  const s = await runPortico([nodir.file]);
  assert.notEqual(s.code, 0, s.output);
  assert.equal(s.timedOut, false);
  assert.match(s.output, /accessLog\.path: cannot open .*no\/such\/dir\/access\.log: No such file or directory/);
});
