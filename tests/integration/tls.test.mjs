// TLS listeners, HTTP/2 and WebSockets over TLS (SPEC sections 1 to 3): real clients (curl,
// openssl s_client, node:http2, node:https, node:tls, ws) against the real binary. A throwaway
// certificate is made with the openssl CLI in each test's temp dir; no key is ever committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  runPortico,
  makeTempDir,
  freePort,
  wsApi,
  mock,
  openWs,
  nextMessage,
  nextText,
  closeEvent,
  connectionIdOf,
  mgmtClient,
  waitFor,
  sleep,
  CREDENTIALS,
} from './lib/portico.mjs';

const T = { timeout: 30000 };

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** Runs a command to completion: {code, stdout, stderr}; killed after timeoutMs. */
function run(cmd, args, { input, timeoutMs = 15000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output: stdout + stderr });
    });
    proc.stdin.end(input ?? '');
  });
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 in dir (cert.pem, key.pem unless named
 * otherwise). kind: 'ec' (P-256) or 'rsa' (2048 bits).
 */
async function makeCert(dir, { cert = 'cert.pem', key = 'key.pem', kind = 'ec' } = {}) {
  const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const r = await run('openssl', [
    'req', '-x509', ...keyArgs, '-nodes', '-sha256', '-days', '2',
    '-keyout', path.join(dir, key), '-out', path.join(dir, cert),
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  assert.equal(r.code, 0, `openssl req failed:\n${r.output}`);
}

/**
 * The APIs every test serves: an HTTP API at /h (stage $default) with
 *   GET /hello  MOCK {"route":...,"stage":...}
 *   POST /echo  MOCK echoing the body
 *   ANY /any    MOCK "any:METHOD-less body"
 *   ANY /up/{proxy+}  HTTP_PROXY to http://127.0.0.1:upstreamPort/{proxy}
 * and the echo WebSocket API of lib/portico.mjs at /dev ($default echoes, whoami).
 */
function apis(upstreamPort = 9) {
  return [
    {
      name: 'web',
      protocolType: 'HTTP',
      basePath: '/h',
      stages: { $default: {} },
      integrations: {
        hello: mock('{"route":"$context.routeKey","stage":"$context.stage"}', 200),
        echo: mock('$request.body', 200),
        any: mock('any route', 200),
        up: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${upstreamPort}/{proxy}`, timeoutMs: 10000 },
      },
      routes: {
        'GET /hello': { integration: 'hello' },
        'POST /echo': { integration: 'echo' },
        'ANY /any': { integration: 'any' },
        'ANY /up/{proxy+}': { integration: 'up' },
      },
    },
    wsApi(),
  ];
}

const HELLO = '{"route":"GET /hello","stage":"$default"}';

/**
 * Starts portico with a TLS listener first (certificate made in its temp dir) and, with
 * plain: true, a plain one second. tlsOpts go into the tls block. Returns the instance with
 * tlsPort, plainPort, ca (the certificate's PEM) and certFile.
 */
async function startTls(t, { tlsOpts = {}, plain = false, upstreamPort, extra = {} } = {}) {
  const dir = await makeTempDir('portico-tls-');
  await makeCert(dir);
  const listen = [{ host: '127.0.0.1', port: 'auto', tls: { certificate: 'cert.pem', privateKey: 'key.pem', ...tlsOpts } }];
  if (plain) listen.push({ host: '127.0.0.1', port: 'auto' });
  const p = await startFor(t, { credentials: CREDENTIALS, listen, apis: apis(upstreamPort), ...extra }, { dir });
  p.tlsPort = p.listen[0].port;
  p.plainPort = plain ? p.listen[1].port : undefined;
  p.certFile = path.join(dir, 'cert.pem');
  p.ca = await fsp.readFile(p.certFile);
  return p;
}

/** curl with a deadline; the last output line is "HTTP_VERSION STATUS". */
async function curl(args) {
  const r = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_version} %{http_code}', ...args]);
  const lines = r.stdout.split('\n');
  const [version, status] = lines.pop().split(' ');
  return { code: r.code, version, status: Number(status), body: lines.join('\n'), stderr: r.stderr };
}

/** An HTTP/2 session to the TLS listener, destroyed after the test. */
async function h2session(t, p, opts = {}) {
  const session = http2.connect(`https://127.0.0.1:${p.tlsPort}`, { ca: p.ca, ...opts });
  t.after(() => session.destroy());
  session.on('error', () => {}); // reported through the requests
  await Promise.race([
    once(session, 'connect'),
    once(session, 'error').then(([e]) => {
      throw e;
    }),
  ]);
  return session;
}

/** One request on an HTTP/2 session: {status, headers, body: Buffer, text}. */
function h2request(session, headers, body, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    const chunks = [];
    let resHeaders = null;
    const timer = setTimeout(() => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`${headers[':method']} ${headers[':path']}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (h) => (resHeaders = h));
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      if (resHeaders === null) {
        reject(new Error(`${headers[':method']} ${headers[':path']}: the stream ended without a response (RST code ${req.rstCode})`));
        return;
      }
      resolve({ status: resHeaders[':status'], headers: resHeaders, body: buf, text: buf.toString('utf8') });
    });
    req.on('close', () => {
      clearTimeout(timer);
      if (resHeaders === null) {
        reject(new Error(`${headers[':method']} ${headers[':path']}: the stream closed without a response (RST code ${req.rstCode})`));
      }
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (body !== undefined) req.end(body);
  });
}

/** One HTTPS (HTTP/1.1) request with node:https: {status, httpVersion, headers, text, socket}. */
function httpsRequest({ port, ca, method = 'GET', path: reqPath, headers = {}, body, agent = false, timeoutMs = 10000 }) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: reqPath, headers, ca, agent }, (res) => {
      const socket = res.socket; // a keep-alive agent takes it back at the end
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, httpVersion: res.httpVersion, headers: res.headers, text: buf.toString('utf8'), socket });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${reqPath}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** A TLS handshake with node:tls: {ok, protocol, alpn} or {ok: false, code, message}. */
function tlsHandshake(port, opts = {}) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () => {
      const r = { ok: true, protocol: s.getProtocol(), alpn: s.alpnProtocol, authorized: s.authorized };
      s.destroy();
      resolve(r);
    });
    s.setTimeout(5000, () => {
      s.destroy();
      resolve({ ok: false, code: 'TIMEOUT', message: 'no handshake within 5 s' });
    });
    s.on('error', (e) => resolve({ ok: false, code: e.code, message: e.message }));
  });
}

/**
 * A local upstream for HTTP_PROXY: answers "slow: PATH" after delayMs. arrived() resolves when
 * the first request has come in; seen lists every request ({url, method, headers}).
 */
async function slowUpstream(t, delayMs) {
  const port = await freePort();
  let arrivedResolve;
  const arrivedP = new Promise((r) => (arrivedResolve = r));
  const seen = [];
  const srv = http.createServer((req, res) => {
    req.resume();
    seen.push({ url: req.url, method: req.method, headers: req.headers });
    arrivedResolve(req.url);
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`slow: ${req.url}`);
    }, delayMs);
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  t.after(() => {
    srv.closeAllConnections?.();
    srv.close();
  });
  return { port, arrived: () => arrivedP, seen };
}

/** Resolves how a raw socket ended: {bytes: Buffer received, how: 'end'|'close'|'error'|'timeout'}. */
/**
 * n random bytes that cannot be the start of a TLS record: the first byte is kept out of the
 * record types (0x14 to 0x17) and has its high bit clear, because about one random blob in 500
 * reads as the header of an SSLv2 ClientHello that is still arriving, and OpenSSL rightly waits
 * for the rest of it instead of failing.
 */
function noise(n) {
  const b = crypto.randomBytes(n);
  b[0] = 0x18 + (b[0] % 0x68);
  return b;
}

function rawClient(port, payload, ms = 5000) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const chunks = [];
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ how, bytes: Buffer.concat(chunks) });
    };
    const timer = setTimeout(() => finish('timeout'), ms);
    s.on('connect', () => {
      if (payload !== undefined) s.write(payload);
    });
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => finish('end'));
    s.on('close', () => finish('close'));
    s.on('error', () => finish('error'));
  });
}

/** A config file with one TLS listener written to a fresh dir (certs made by setup(dir)). */
async function checkTlsConfig(t, tlsBlock, setup, { listen } = {}) {
  const dir = await makeTempDir('portico-tls-check-');
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  await setup(dir);
  const file = path.join(dir, 'portico.json');
  const cfg = { listen: listen ?? [{ host: '127.0.0.1', port: 8443, tls: tlsBlock }], apis: apis() };
  await fsp.writeFile(file, JSON.stringify(cfg, null, 2));
  const r = await runPortico(['--check', file], { cwd: '/' });
  assert.equal(r.timedOut, false);
  return r;
}

function errorLines(output, ...frags) {
  return output.split('\n').filter((l) => frags.every((f) => (f instanceof RegExp ? f.test(l) : l.includes(f))));
}

/* ---------------------------------------------------------------------------------------- */
/* curl                                                                                     */
/* ---------------------------------------------------------------------------------------- */

test('curl --http2 over https speaks HTTP/2 and gets the route answer (certificate verified)', T, async (t) => {
  const p = await startTls(t);
  const r = await curl(['--http2', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.version, '2', 'curl --http2 must negotiate HTTP/2 by ALPN');
  assert.equal(r.status, 200);
  assert.equal(r.body, HELLO);
  // A localhost name verifies as well (the certificate's DNS name).
  const byName = await curl(['--http2', '--cacert', p.certFile, '--resolve', `localhost:${p.tlsPort}:127.0.0.1`, `https://localhost:${p.tlsPort}/h/hello`]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(byName.version, '2');
  assert.equal(byName.body, HELLO);
});

test('curl --http1.1 over https speaks HTTP/1.1; a POST body and a 404 come back as on plain HTTP', T, async (t) => {
  const p = await startTls(t);
  const r = await curl(['--http1.1', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.version, '1.1');
  assert.equal(r.status, 200);
  assert.equal(r.body, HELLO);
  for (const proto of ['--http1.1', '--http2']) {
    const post = await curl([proto, '--cacert', p.certFile, '--data-binary', 'posted über TLS', `https://127.0.0.1:${p.tlsPort}/h/echo`]);
    assert.equal(post.status, 200, `${proto} POST`);
    assert.equal(post.body, 'posted über TLS', `${proto} POST body`);
    const nf = await curl([proto, '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/nowhere`]);
    assert.equal(nf.status, 404, `${proto} unknown route`);
    assert.deepEqual(JSON.parse(nf.body), { message: 'Not Found' });
  }
});

test('curl keeps one HTTP/2 connection for several URLs (multiplexed requests)', T, async (t) => {
  const p = await startTls(t);
  const base = `https://127.0.0.1:${p.tlsPort}/h`;
  const r = await run('curl', [
    '-sS', '--max-time', '10', '--http2', '--cacert', p.certFile, '--parallel', '--parallel-immediate',
    '-w', '%{http_version} %{http_code} %{num_connects}\n',
    '-o', '/dev/null', `${base}/hello`, '-o', '/dev/null', `${base}/any`, '-o', '/dev/null', `${base}/hello`,
  ]);
  assert.equal(r.code, 0, r.output);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3, r.output);
  for (const l of lines) assert.match(l, /^2 200 /, `every transfer is HTTP/2 200: ${r.stdout}`);
});

/* ---------------------------------------------------------------------------------------- */
/* node:http2                                                                               */
/* ---------------------------------------------------------------------------------------- */

test('node:http2: many concurrent streams on one session all get their own answers', T, async (t) => {
  const p = await startTls(t);
  const session = await h2session(t, p);
  assert.equal(session.alpnProtocol, 'h2');
  const N = 50;
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      i % 2 === 0
        ? h2request(session, { ':method': 'GET', ':path': '/h/hello' })
        : h2request(session, { ':method': 'POST', ':path': '/h/echo', 'content-type': 'text/plain' }, `stream ${i}`),
    ),
  );
  const ids = new Set();
  results.forEach((r, i) => {
    assert.equal(r.status, 200, `stream ${i}`);
    assert.equal(r.text, i % 2 === 0 ? HELLO : `stream ${i}`, `stream ${i} got another stream's answer`);
    assert.match(String(r.headers['apigw-requestid'] ?? ''), /./, `stream ${i} has no apigw-requestid`);
    ids.add(r.headers['apigw-requestid']);
  });
  assert.equal(ids.size, N, 'every request has its own request id');
  assert.equal(results[0].headers['content-type'], 'application/json');
  assert.equal(results[0].headers['content-length'], String(Buffer.byteLength(HELLO)));
});

test('node:http2: a slow stream does not hold up the others on the same session', T, async (t) => {
  const up = await slowUpstream(t, 1500);
  const p = await startTls(t, { upstreamPort: up.port });
  const session = await h2session(t, p);
  const started = Date.now();
  let slowDone = 0;
  const slow = h2request(session, { ':method': 'GET', ':path': '/h/up/slow/path?x=1' }).then((r) => {
    slowDone = Date.now();
    return r;
  });
  await up.arrived();
  const fast = await Promise.all(Array.from({ length: 10 }, () => h2request(session, { ':method': 'GET', ':path': '/h/hello' })));
  const fastDone = Date.now();
  for (const r of fast) assert.equal(r.text, HELLO);
  assert.equal(slowDone, 0, 'the fast streams should finish while the slow one is still waiting');
  assert.ok(fastDone - started < 1400, `the fast streams took ${fastDone - started} ms: they waited for the slow one`);
  const s = await slow;
  assert.equal(s.status, 200);
  assert.equal(s.text, 'slow: /slow/path?x=1');
});

test('node:http2: POST bodies, small and 1 MB (flow control both ways), echo back exactly', T, async (t) => {
  const p = await startTls(t);
  const session = await h2session(t, p);
  const small = await h2request(session, { ':method': 'POST', ':path': '/h/echo', 'content-type': 'application/octet-stream' }, 'héllo h2');
  assert.equal(small.status, 200);
  assert.equal(small.text, 'héllo h2');
  const big = crypto.randomBytes(512 * 1024).toString('hex'); // 1 MB of text
  const r = await h2request(session, { ':method': 'POST', ':path': '/h/echo', 'content-type': 'text/plain' }, big, 20000);
  assert.equal(r.status, 200);
  assert.equal(r.body.length, big.length, 'the 1 MB body came back cut or padded');
  assert.ok(r.text === big, 'the 1 MB body came back changed');
  // A body with no content-length (DATA frames only) is read in full too.
  const req = session.request({ ':method': 'POST', ':path': '/h/echo' });
  const chunks = [];
  let status;
  req.on('response', (h) => (status = h[':status']));
  req.on('data', (c) => chunks.push(c));
  req.write('part one, ');
  await sleep(50);
  req.end('part two');
  await once(req, 'end');
  assert.equal(status, 200);
  assert.equal(Buffer.concat(chunks).toString(), 'part one, part two');
});

test('node:http2: HEAD answers the headers without a body', T, async (t) => {
  const p = await startTls(t);
  const session = await h2session(t, p);
  const get = await h2request(session, { ':method': 'GET', ':path': '/h/any' });
  assert.equal(get.status, 200);
  assert.equal(get.text, 'any route');
  const head = await h2request(session, { ':method': 'HEAD', ':path': '/h/any' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0, 'HEAD must not carry a body');
  assert.equal(head.headers['content-length'], String(get.body.length), 'HEAD carries the length GET would have');
  // The session is still usable afterwards.
  assert.equal((await h2request(session, { ':method': 'GET', ':path': '/h/hello' })).text, HELLO);
});

/* ---------------------------------------------------------------------------------------- */
/* node:https (HTTP/1.1 over TLS)                                                           */
/* ---------------------------------------------------------------------------------------- */

test('node:https: HTTP/1.1 over TLS without ALPN, keep-alive requests on one socket', T, async (t) => {
  const p = await startTls(t);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: p.ca });
  t.after(() => agent.destroy());
  const a = await httpsRequest({ port: p.tlsPort, ca: p.ca, path: '/h/hello', agent });
  assert.equal(a.status, 200);
  assert.equal(a.httpVersion, '1.1');
  assert.equal(a.text, HELLO);
  assert.equal(a.socket.alpnProtocol, false, 'node:https offers no ALPN: HTTP/1.1 without it');
  const b = await httpsRequest({ port: p.tlsPort, ca: p.ca, method: 'POST', path: '/h/echo', body: 'second on the same socket', agent });
  assert.equal(b.status, 200);
  assert.equal(b.text, 'second on the same socket');
  assert.equal(b.socket, a.socket, 'keep-alive: the second request should reuse the TLS connection');
});

/* ---------------------------------------------------------------------------------------- */
/* WebSockets over TLS                                                                      */
/* ---------------------------------------------------------------------------------------- */

test('wss: messages both ways, including 100 KB text and binary ones, in order', T, async (t) => {
  const p = await startTls(t);
  const ws = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false });
  ws.send('hello over TLS');
  assert.equal(await nextText(ws), 'hello over TLS');
  const big = 'é'.repeat(50 * 1024); // 100 KB of UTF-8
  ws.send(big);
  assert.equal(await nextText(ws, 5000), big);
  const bin = crypto.randomBytes(100 * 1024);
  ws.send(bin);
  const m = await nextMessage(ws, 5000);
  assert.equal(m.isBinary, true, 'a binary message should come back binary');
  assert.ok(m.data.equals(bin), 'the binary message came back changed');
  for (let i = 0; i < 30; i++) ws.send(`n${i}`);
  for (let i = 0; i < 30; i++) assert.equal(await nextText(ws), `n${i}`);
  assert.match(await connectionIdOf(ws), /^[A-Za-z0-9_-]{1,32}$/);
  ws.close(1000, 'bye');
  assert.equal((await closeEvent(ws)).code, 1000);
});

test('wss: the management API over https (AWS SDK) and over HTTP/2 (curl --aws-sigv4) reaches a wss connection', T, async (t) => {
  const p = await startTls(t);
  const ws = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { ca: p.ca });
  const id = await connectionIdOf(ws);
  const agent = new https.Agent({ ca: p.ca });
  t.after(() => agent.destroy());
  // mgmtClient speaks http://; this is the same client on the https endpoint.
  const secure = new ApiGatewayManagementApiClient({
    endpoint: `https://127.0.0.1:${p.tlsPort}/dev`,
    region: 'us-east-1',
    credentials: { accessKeyId: CREDENTIALS[0].accessKeyId, secretAccessKey: CREDENTIALS[0].secretAccessKey },
    maxAttempts: 1,
    requestHandler: { httpsAgent: agent }, // options for the SDK's own Node.js handler
  });
  t.after(() => secure.destroy());
  await secure.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('pushed over https') }));
  assert.equal(await nextText(ws), 'pushed over https');
  // The same over HTTP/2, signed by curl.
  const r = await curl([
    '--http2', '--cacert', p.certFile, '--aws-sigv4', 'aws:amz:us-east-1:execute-api',
    '--user', `${CREDENTIALS[0].accessKeyId}:${CREDENTIALS[0].secretAccessKey}`,
    '--data-binary', 'pushed over h2', `https://127.0.0.1:${p.tlsPort}/dev/@connections/${encodeURIComponent(id)}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([r.version, r.status], ['2', 200], r.body);
  assert.equal(await nextText(ws), 'pushed over h2');
  ws.close();
});

/* ---------------------------------------------------------------------------------------- */
/* Plain and TLS listeners in one config                                                    */
/* ---------------------------------------------------------------------------------------- */

test('the same routes answer on a plain and a TLS listener of one config', T, async (t) => {
  const p = await startTls(t, { plain: true });
  const plain = await curl([`http://127.0.0.1:${p.plainPort}/h/hello`]);
  const h1 = await curl(['--http1.1', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  const h2 = await curl(['--http2', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.deepEqual([plain.status, plain.body, plain.version], [200, HELLO, '1.1']);
  assert.deepEqual([h1.status, h1.body, h1.version], [200, HELLO, '1.1']);
  assert.deepEqual([h2.status, h2.body, h2.version], [200, HELLO, '2']);
  // HTTP/2 is only on TLS listeners: the plain one answers HTTP/1.1 even when asked for h2c.
  const up = await curl(['--http2', `http://127.0.0.1:${p.plainPort}/h/hello`]);
  assert.equal(up.status, 200);
  assert.equal(up.body, HELLO);
  assert.equal(up.version, '1.1', 'no h2c upgrade on a plain listener');

  // WebSockets on both, and one hub: a wss client and a ws client see each other's pushes.
  const wss = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false });
  const wsp = await openWs(`ws://127.0.0.1:${p.plainPort}/dev`);
  wss.send('to wss');
  wsp.send('to ws');
  assert.equal(await nextText(wss), 'to wss');
  assert.equal(await nextText(wsp), 'to ws');
  const secureId = await connectionIdOf(wss);
  const client = mgmtClient(p.plainPort, '/dev'); // the plain listener's management API
  t.after(() => client.destroy());
  await client.send(new PostToConnectionCommand({ ConnectionId: secureId, Data: 'from the plain listener' }));
  assert.equal(await nextText(wss), 'from the plain listener');
  wss.close();
  wsp.close();
});

test('HTTP_PROXY behind a TLS listener: the upstream sees X-Forwarded-Proto https (http on the plain one)', T, async (t) => {
  const up = await slowUpstream(t, 0);
  const p = await startTls(t, { plain: true, upstreamPort: up.port });
  const session = await h2session(t, p);
  const viaH2 = await h2request(session, { ':method': 'POST', ':path': '/h/up/h2?q=1' }, 'over h2');
  const viaH1 = await httpsRequest({ port: p.tlsPort, ca: p.ca, method: 'POST', path: '/h/up/h1?q=2', body: 'over h1' });
  const viaPlain = await curl(['--data-binary', 'plain', `http://127.0.0.1:${p.plainPort}/h/up/plain?q=3`]);
  assert.deepEqual([viaH2.status, viaH2.text], [200, 'slow: /h2?q=1']);
  assert.deepEqual([viaH1.status, viaH1.text], [200, 'slow: /h1?q=2']);
  assert.deepEqual([viaPlain.status, viaPlain.body], [200, 'slow: /plain?q=3']);
  const by = (u) => up.seen.find((r) => r.url === u);
  assert.equal(by('/h2?q=1').method, 'POST');
  assert.equal(by('/plain?q=3').headers['x-forwarded-proto'], 'http');
  assert.equal(by('/h1?q=2').headers['x-forwarded-proto'], 'https', 'HTTP/1.1 over TLS is https to the upstream');
  assert.equal(by('/h2?q=1').headers['x-forwarded-proto'], 'https', 'HTTP/2 over TLS is https to the upstream');
});

/* ---------------------------------------------------------------------------------------- */
/* Protocol versions and ALPN                                                               */
/* ---------------------------------------------------------------------------------------- */

test('TLS 1.1 and 1.0 are refused (openssl s_client and node:tls); 1.2 and 1.3 work', T, async (t) => {
  const p = await startTls(t);
  for (const v of ['-tls1_1', '-tls1']) {
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${p.tlsPort}`, v, '-cipher', 'DEFAULT@SECLEVEL=0'], { timeoutMs: 10000 });
    assert.notEqual(r.code, 0, `openssl s_client ${v} connected:\n${r.output}`);
    assert.match(r.output, /Cipher is \(NONE\)/, `a ${v} session was established:\n${r.output}`);
    assert.match(r.output, /alert protocol version|unsupported protocol|no protocols available/i, r.output);
  }
  const old = await tlsHandshake(p.tlsPort, { ca: p.ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  assert.equal(old.ok, false, `a TLS 1.1 handshake succeeded: ${JSON.stringify(old)}`);
  assert.match(`${old.code} ${old.message}`, /protocol version|unsupported protocol|no protocols/i);

  const v12 = await run('openssl', ['s_client', '-connect', `127.0.0.1:${p.tlsPort}`, '-tls1_2', '-CAfile', p.certFile, '-verify_return_error'], { timeoutMs: 10000 });
  assert.equal(v12.code, 0, v12.output);
  assert.match(v12.output, /Protocol\s*:\s*TLSv1\.2/);
  assert.match(v12.output, /Verify return code: 0 \(ok\)/);
  const n12 = await tlsHandshake(p.tlsPort, { ca: p.ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  assert.deepEqual([n12.ok, n12.protocol, n12.authorized], [true, 'TLSv1.2', true], JSON.stringify(n12));
  const n13 = await tlsHandshake(p.tlsPort, { ca: p.ca, minVersion: 'TLSv1.3' });
  assert.deepEqual([n13.ok, n13.protocol, n13.authorized], [true, 'TLSv1.3', true], JSON.stringify(n13));
  const v13 = await run('openssl', ['s_client', '-connect', `127.0.0.1:${p.tlsPort}`, '-tls1_3', '-CAfile', p.certFile], { timeoutMs: 10000 });
  assert.equal(v13.code, 0, v13.output);
  assert.match(v13.output, /TLSv1\.3/);
  // An HTTP request over a TLS 1.3-only client works end to end.
  const r = await httpsRequest({ port: p.tlsPort, ca: p.ca, path: '/h/hello', agent: new https.Agent({ minVersion: 'TLSv1.3', ca: p.ca }) });
  assert.equal(r.text, HELLO);
  assert.equal(r.socket.getProtocol(), 'TLSv1.3');
});

test('ALPN: h2 when offered, http/1.1 otherwise, none when the client offers neither', T, async (t) => {
  const p = await startTls(t);
  const cases = [
    [['h2', 'http/1.1'], 'h2'],
    [['http/1.1', 'h2'], 'h2'],
    [['h2'], 'h2'],
    [['http/1.1'], 'http/1.1'],
    [undefined, false],
    [['spdy/3', 'http/1.1'], 'http/1.1'],
  ];
  for (const [offer, want] of cases) {
    const r = await tlsHandshake(p.tlsPort, { ca: p.ca, ...(offer ? { ALPNProtocols: offer } : {}) });
    assert.equal(r.ok, true, `offer ${JSON.stringify(offer)}: ${r.message}`);
    assert.equal(r.alpn, want, `offer ${JSON.stringify(offer)}`);
  }
  const s = await run('openssl', ['s_client', '-connect', `127.0.0.1:${p.tlsPort}`, '-alpn', 'h2,http/1.1'], { timeoutMs: 10000 });
  assert.match(s.output, /ALPN protocol: h2/, s.output);
});

test('"http2": false: ALPN never picks h2 and curl --http2 falls back to HTTP/1.1', T, async (t) => {
  const p = await startTls(t, { tlsOpts: { http2: false } });
  const r = await curl(['--http2', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.version, '1.1');
  assert.equal(r.status, 200);
  assert.equal(r.body, HELLO);
  const both = await tlsHandshake(p.tlsPort, { ca: p.ca, ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(both.alpn, 'http/1.1');
  const onlyH2 = await tlsHandshake(p.tlsPort, { ca: p.ca, ALPNProtocols: ['h2'] });
  assert.notEqual(onlyH2.alpn, 'h2', JSON.stringify(onlyH2));
  // wss works as ever.
  const ws = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false });
  ws.send('no h2 here');
  assert.equal(await nextText(ws), 'no h2 here');
  ws.close();
});

test('"http2": true (explicit) is the default behaviour', T, async (t) => {
  const p = await startTls(t, { tlsOpts: { http2: true } });
  const r = await curl(['--http2', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.equal(r.version, '2');
  assert.equal(r.body, HELLO);
});

test('TLS with several workers: many sessions and wss clients, spread over the workers, are all served', T, async (t) => {
  const p = await startTls(t, { extra: { workers: 4 } });
  const sessions = await Promise.all(Array.from({ length: 12 }, () => h2session(t, p)));
  const answers = await Promise.all(
    sessions.flatMap((s, i) => [
      h2request(s, { ':method': 'GET', ':path': '/h/hello' }),
      h2request(s, { ':method': 'POST', ':path': '/h/echo' }, `session ${i}`),
    ]),
  );
  answers.forEach((r, k) => assert.equal(r.text, k % 2 === 0 ? HELLO : `session ${k >> 1}`));
  const clients = await Promise.all(Array.from({ length: 12 }, () => openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false })));
  clients.forEach((ws, i) => ws.send(`client ${i}`));
  for (const [i, ws] of clients.entries()) assert.equal(await nextText(ws), `client ${i}`);
  for (const ws of clients) ws.close();
});

test('an RSA certificate works as well as an EC one', T, async (t) => {
  const dir = await makeTempDir('portico-tls-');
  await makeCert(dir, { kind: 'rsa', cert: 'rsa.crt', key: 'rsa.key' });
  const p = await startFor(t, { listen: [{ host: '127.0.0.1', port: 'auto', tls: { certificate: 'rsa.crt', privateKey: 'rsa.key' } }], apis: apis() }, { dir });
  const r = await curl(['--http2', '--cacert', path.join(dir, 'rsa.crt'), `https://127.0.0.1:${p.port}/h/hello`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.version, '2');
  assert.equal(r.body, HELLO);
});

/* ---------------------------------------------------------------------------------------- */
/* Config errors                                                                            */
/* ---------------------------------------------------------------------------------------- */

test('--check: a TLS listener with good files passes, paths relative to the config file', T, async (t) => {
  const r = await checkTlsConfig(t, { certificate: 'certs/server.pem', privateKey: 'certs/server.key' }, async (dir) => {
    await fsp.mkdir(path.join(dir, 'certs'));
    await makeCert(path.join(dir, 'certs'), { cert: 'server.pem', key: 'server.key' });
  });
  assert.equal(r.code, 0, r.output);
});

test('--check: a missing certificate file fails naming listen[0].tls and the file', T, async (t) => {
  const r = await checkTlsConfig(t, { certificate: 'nope.pem', privateKey: 'key.pem' }, (dir) => makeCert(dir));
  assert.equal(r.code, 1, r.output);
  assert.ok(errorLines(r.output, 'listen[0].tls', 'nope.pem').length > 0, `no error names listen[0].tls and nope.pem:\n${r.output}`);
});

test('--check: a missing key file fails naming listen[0].tls', T, async (t) => {
  const r = await checkTlsConfig(t, { certificate: 'cert.pem', privateKey: 'missing.key' }, (dir) => makeCert(dir));
  assert.equal(r.code, 1, r.output);
  assert.ok(errorLines(r.output, 'listen[0].tls', 'missing.key').length > 0, r.output);
});

test('--check: a key that does not match the certificate fails naming listen[0].tls', T, async (t) => {
  const r = await checkTlsConfig(t, { certificate: 'a.pem', privateKey: 'b.key' }, async (dir) => {
    await makeCert(dir, { cert: 'a.pem', key: 'a.key' });
    await makeCert(dir, { cert: 'b.pem', key: 'b.key' });
  });
  assert.equal(r.code, 1, r.output);
  assert.ok(errorLines(r.output, 'listen[0].tls', /match/i).length > 0, `no error says the key does not match:\n${r.output}`);
});

test('--check: a file that is not PEM fails naming listen[0].tls', T, async (t) => {
  const r = await checkTlsConfig(t, { certificate: 'cert.pem', privateKey: 'key.pem' }, async (dir) => {
    await fsp.writeFile(path.join(dir, 'cert.pem'), 'this is not a certificate\n');
    await fsp.writeFile(path.join(dir, 'key.pem'), 'nor is this a key\n');
  });
  assert.equal(r.code, 1, r.output);
  assert.ok(errorLines(r.output, 'listen[0].tls').length > 0, r.output);
});

test('--check: missing tls keys, wrong types, unknown keys and TLS on a unix socket are errors with paths', T, async (t) => {
  const r = await checkTlsConfig(t, null, (dir) => makeCert(dir), {
    listen: [
      { host: '127.0.0.1', port: 8443, tls: { certificate: 'cert.pem' } },
      { host: '127.0.0.1', port: 8444, tls: { certificate: 'cert.pem', privateKey: 'key.pem', http2: 'yes' } },
      { host: '127.0.0.1', port: 8445, tls: { certificate: 'cert.pem', privateKey: 'key.pem', ciphers: 'ALL' } },
      { unixSocket: 'p.sock', tls: { certificate: 'cert.pem', privateKey: 'key.pem' } },
      { host: '127.0.0.1', port: 8446, tls: 'on' },
    ],
  });
  assert.equal(r.code, 1, r.output);
  assert.ok(errorLines(r.output, 'listen[0].tls', 'privateKey').length > 0, `missing privateKey:\n${r.output}`);
  assert.ok(errorLines(r.output, 'listen[1].tls.http2').length > 0, `http2 not a boolean:\n${r.output}`);
  assert.ok(errorLines(r.output, 'listen[2].tls', 'ciphers', /unknown/i).length > 0, `unknown key:\n${r.output}`);
  assert.ok(errorLines(r.output, 'listen[3].tls').length > 0, `TLS on a unix socket:\n${r.output}`);
  assert.ok(errorLines(r.output, 'listen[4].tls').length > 0, `tls not an object:\n${r.output}`);
});

test('starting with a bad certificate exits non-zero and listens on nothing', T, async (t) => {
  const dir = await makeTempDir('portico-tls-');
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  await makeCert(dir, { cert: 'a.pem', key: 'a.key' });
  await makeCert(dir, { cert: 'b.pem', key: 'b.key' });
  const port = await freePort();
  const file = path.join(dir, 'portico.json');
  await fsp.writeFile(file, JSON.stringify({ listen: [{ host: '127.0.0.1', port, tls: { certificate: 'a.pem', privateKey: 'b.key' } }], apis: apis() }));
  const r = await runPortico([file]);
  assert.equal(r.timedOut, false, 'portico kept running with a mismatched key');
  assert.notEqual(r.code, 0);
  assert.ok(r.output.includes('listen[0].tls'), r.output);
  const refused = await rawClient(port, undefined, 1000);
  assert.equal(refused.how, 'error', 'something listens on the port');
});

/* ---------------------------------------------------------------------------------------- */
/* Robustness                                                                               */
/* ---------------------------------------------------------------------------------------- */

test('clients sending garbage instead of a ClientHello are dropped and do not hurt others', T, async (t) => {
  const p = await startTls(t, { plain: true });
  // A long-lived wss client and an HTTP/2 session, open before and during the garbage.
  const ws = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false });
  const session = await h2session(t, p);

  const silent = net.connect({ host: '127.0.0.1', port: p.tlsPort }); // connects, says nothing
  t.after(() => silent.destroy());
  silent.on('error', () => {});
  await once(silent, 'connect');
  const partial = net.connect({ host: '127.0.0.1', port: p.tlsPort }); // a ClientHello cut short
  t.after(() => partial.destroy());
  partial.on('error', () => {});
  await once(partial, 'connect');
  partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));

  const garbage = [
    'GET /h/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', // plain HTTP to the TLS port
    noise(4096),
    Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, ...crypto.randomBytes(2000)]), // a record header, then noise
    Buffer.from([0x16, 0x03, 0x03, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]), // a nonsense handshake message
    Buffer.alloc(70000, 0x41),
  ];
  const dropped = await Promise.all([...garbage, ...Array.from({ length: 30 }, () => noise(600))].map((g) => rawClient(p.tlsPort, g)));
  dropped.forEach((d, i) => {
    assert.notEqual(d.how, 'timeout', `garbage client ${i} was kept open for 5 s`);
    // Nothing but (at most) a TLS alert record comes back: never an HTTP answer.
    assert.ok(d.bytes.length === 0 || d.bytes[0] === 0x15, `garbage client ${i} got ${d.bytes.slice(0, 40).toString('hex')}`);
  });

  // Everyone else is served, on both listeners, while the silent and partial clients still hang on.
  assert.equal(p.hasExited(), false, `portico died:\n${p.describe()}`);
  ws.send('still here');
  assert.equal(await nextText(ws), 'still here');
  assert.equal((await h2request(session, { ':method': 'GET', ':path': '/h/hello' })).text, HELLO);
  const fresh = await curl(['--http2', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.deepEqual([fresh.status, fresh.version, fresh.body], [200, '2', HELLO]);
  const plain = await curl([`http://127.0.0.1:${p.plainPort}/h/hello`]);
  assert.equal(plain.body, HELLO);
  const ws2 = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false });
  ws2.send('new one');
  assert.equal(await nextText(ws2), 'new one');
  ws.close();
  ws2.close();
});

test('a TLS ClientHello to the plain listener is dropped; the plain listener keeps serving', T, async (t) => {
  const p = await startTls(t, { plain: true });
  const r = await tlsHandshake(p.plainPort, { rejectUnauthorized: false });
  assert.equal(r.ok, false, 'a TLS handshake succeeded on the plain listener');
  const plain = await curl([`http://127.0.0.1:${p.plainPort}/h/hello`]);
  assert.equal(plain.body, HELLO);
});

test('a client that rejects the certificate (unknown CA) fails cleanly; the server is unharmed', T, async (t) => {
  const p = await startTls(t);
  const r = await curl(['--http2', `https://127.0.0.1:${p.tlsPort}/h/hello`]); // no --cacert
  assert.notEqual(r.code, 0, 'curl accepted a self-signed certificate without -k');
  const ok = await curl(['--http2', '--cacert', p.certFile, `https://127.0.0.1:${p.tlsPort}/h/hello`]);
  assert.deepEqual([ok.status, ok.body], [200, HELLO]);
  assert.equal(p.hasExited(), false);
});

/* ---------------------------------------------------------------------------------------- */
/* Drain                                                                                    */
/* ---------------------------------------------------------------------------------------- */

test('SIGTERM drains HTTP/2: GOAWAY, the in-flight slow request is answered, new connections refused, exit 0', T, async (t) => {
  const up = await slowUpstream(t, 1500);
  const p = await startTls(t, { upstreamPort: up.port, extra: { limits: { drainSeconds: 10 } } });
  const session = await h2session(t, p);
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  // Settled into {r} or {e} at once, so that an early failure is reported in order below.
  const inflight = h2request(session, { ':method': 'GET', ':path': '/h/up/slow/one' }, undefined, 15000).then(
    (r) => ({ r }),
    (e) => ({ e }),
  );
  assert.equal(await up.arrived(), '/slow/one');
  p.signal('SIGTERM');
  await waitFor(() => goaway, { timeoutMs: 3000, what: 'an HTTP/2 GOAWAY after SIGTERM' });
  // New TCP connections are refused (or at least never served) while draining.
  await waitFor(async () => (await rawClient(p.tlsPort, undefined, 500)).how !== 'timeout', { timeoutMs: 3000, what: 'the listener to close' });
  const { r, e } = await inflight;
  if (e) assert.fail(`the in-flight HTTP/2 request was not answered: ${e.message}\n${p.describe()}`);
  assert.equal(r.status, 200);
  assert.equal(r.text, 'slow: /slow/one');
  const exit = await Promise.race([p.exited, sleep(8000).then(() => null)]);
  assert.ok(exit, `portico did not exit after draining\n${p.describe()}`);
  assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, p.describe());
});

test('SIGTERM drains HTTP/1.1 over TLS and wss alike: the request is answered, wss gets 1001', T, async (t) => {
  const up = await slowUpstream(t, 1000);
  const p = await startTls(t, { upstreamPort: up.port });
  const ws = await openWs(`wss://127.0.0.1:${p.tlsPort}/dev`, { rejectUnauthorized: false });
  const inflight = httpsRequest({ port: p.tlsPort, ca: p.ca, path: '/h/up/slow/two', timeoutMs: 15000 });
  await up.arrived();
  p.signal('SIGTERM');
  const close = await closeEvent(ws, 8000);
  assert.equal(close.code, 1001);
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.text, 'slow: /slow/two');
  const exit = await Promise.race([p.exited, sleep(8000).then(() => null)]);
  assert.ok(exit, `portico did not exit\n${p.describe()}`);
  assert.equal(exit.code, 0, p.describe());
});

test('HTTP_PROXY and AWS_PROXY reach https upstreams, verifying their certificate and name', T, async (t) => {
  const dir = await makeTempDir('portico-tlsup-');
  await makeCert(dir);
  const key = await fsp.readFile(path.join(dir, 'key.pem'));
  const cert = await fsp.readFile(path.join(dir, 'cert.pem'));
  const up = https.createServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url.startsWith('/2015-03-31/functions/')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ statusCode: 200, body: 'fn over tls' }));
      } else res.end(`secure ${req.method} ${req.url} ${body}`);
    });
  });
  await new Promise((r) => up.listen(0, '127.0.0.1', r));
  t.after(() => up.close());
  const port = up.address().port;
  const config = {
    apis: [{
      name: 'web', protocolType: 'HTTP', stages: { $default: {} },
      integrations: {
        good: { type: 'HTTP_PROXY', uri: `https://localhost:${port}/{proxy}` },
        fn: { type: 'AWS_PROXY', uri: `https://localhost:${port}/2015-03-31/functions/f/invocations` },
        // The certificate does not name this host: the handshake must fail.
        misnamed: { type: 'HTTP_PROXY', uri: `https://127.0.0.2:${port}/{proxy}` },
      },
      routes: {
        'ANY /good/{proxy+}': { integration: 'good' },
        'GET /fn': { integration: 'fn' },
        'ANY /bad/{proxy+}': { integration: 'misnamed' },
      },
    }],
  };
  // Trusted: the test's certificate is the whole trust store.
  const p = await startFor(t, config, { env: { SSL_CERT_FILE: path.join(dir, 'cert.pem') } });
  const r1 = await fetch(`${p.baseUrl}/good/a/b`, { method: 'POST', body: 'hi' });
  assert.equal(r1.status, 200);
  assert.equal(await r1.text(), 'secure POST /a/b hi');
  const r2 = await fetch(`${p.baseUrl}/fn`);
  assert.equal(await r2.text(), 'fn over tls');
  assert.equal((await fetch(`${p.baseUrl}/bad/x`)).status, 502);
  // Untrusted: without the test certificate in the trust store nothing is sent.
  const q = await startFor(t, config, { env: { SSL_CERT_FILE: '/nonexistent' } });
  assert.equal((await fetch(`${q.baseUrl}/good/a`)).status, 502);
});
