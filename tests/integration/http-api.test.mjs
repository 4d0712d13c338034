// HTTP APIs end to end (issue #4): HTTP_PROXY and AWS_PROXY on HTTP routes, driven with real
// clients (Node's http and fetch, raw sockets for exact headers, and the curl binary) against
// local upstreams (lib/upstreams.mjs). Also: one listener serving a WebSocket API and an HTTP API,
// route priority, 404s, CORS preflights and apigw-requestid on every answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { startFor, freePort, openWs, nextText, wsApi, httpRequest } from './lib/portico.mjs';
import { startEcho, startLambda } from './lib/upstreams.mjs';

const T = { timeout: 20000 };

/* ---- Helpers ---- */

/** An HTTP API config: `shop` at basePath (default "/"), stage $default unless given. */
function httpConfig({ integrations, routes, stages, basePath = '/', cors, limits, extraApis = [] }) {
  const api = {
    name: 'shop',
    protocolType: 'HTTP',
    basePath,
    stages: stages ?? { $default: {} },
    integrations,
    routes,
  };
  if (cors) api.cors = cors;
  const cfg = { apis: [api, ...extraApis] };
  if (limits) cfg.limits = limits;
  return cfg;
}

async function echoFor(t) {
  const e = await startEcho();
  t.after(() => e.close());
  return e;
}

async function lambdaFor(t) {
  const l = await startLambda();
  t.after(() => l.close());
  return l;
}

/**
 * One request over a fresh TCP connection, written byte for byte. Resolves {status, headers:
 * [[name, value]...] as received, header(name) (first value, case-insensitive), body: Buffer}.
 */
function rawRequest(port, head, body = Buffer.alloc(0), ms = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete answer within ${ms} ms: ${got.toString('latin1').slice(0, 300)}`));
    }, ms);
    const tryParse = () => {
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = got.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers = lines.slice(1).map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i), l.slice(i + 1).trim()];
      });
      const header = (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
      const len = Number(header('content-length') ?? 0);
      const isHead = head.startsWith('HEAD ');
      if (!isHead && got.length < end + 4 + len) return;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status, headers, header, body: isHead ? Buffer.alloc(0) : got.subarray(end + 4, end + 4 + len) });
    };
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      tryParse();
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from(head, 'latin1'), body])));
  });
}

/** Runs the curl binary; resolves {code, stdout: Buffer, stderr}. */
function curl(args, input) {
  return new Promise((resolve) => {
    const child = execFile('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'buffer' }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr: stderr.toString() }),
    );
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Parses `curl -i` output (the last response if several): {status, headers: [[k, v]], body}. */
function parseCurlI(buf) {
  let rest = buf;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const body = rest.subarray(end + 4);
    if (status === 100) {
      rest = body;
      continue;
    }
    const headers = lines.slice(1).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
    });
    return { status, headers, body, all: (n) => headers.filter(([k]) => k === n).map(([, v]) => v) };
  }
}

const REQUEST_ID = /^[A-Za-z0-9_=+/-]{8,}$/;

/* ---- HTTP_PROXY ---- */

test('HTTP_PROXY forwards method, substituted path, query, headers and body; answers as is', T, async (t) => {
  const up = await echoFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { pets: { type: 'HTTP_PROXY', uri: `${up.url}/animals/{id}/info` } },
      routes: { 'POST /pets/{id}': { integration: 'pets' } },
    }),
  );
  const body = Buffer.from('{"name":"Rex","tag":"ü"}');
  const res = await fetch(`${p.baseUrl}/pets/a%20b?x=1&x=2&y=%2F`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Custom': 'yes', Authorization: 'Bearer t' },
    body,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('apigw-requestid') ?? '', REQUEST_ID);
  const seen = await res.json();
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/animals/a%20b/info?x=1&x=2&y=%2F');
  assert.equal(seen.headers['x-custom'], 'yes');
  assert.equal(seen.headers.authorization, 'Bearer t');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers.host, `127.0.0.1:${up.port}`);
  assert.equal(seen.bodyBase64, body.toString('base64'));
});

test('HTTP_PROXY strips hop-by-hop headers and sets X-Forwarded-For/Proto/Host', T, async (t) => {
  const up = await echoFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { all: { type: 'HTTP_PROXY', uri: `${up.url}/x` } },
      routes: { 'GET /x': { integration: 'all' } },
    }),
  );
  const head =
    'GET /x HTTP/1.1\r\n' +
    `Host: api.example.test:${p.port}\r\n` +
    'Connection: close, X-Drop-Me\r\n' +
    'X-Drop-Me: secret\r\n' +
    'Keep-Alive: timeout=5\r\n' +
    'TE: trailers\r\n' +
    'Trailer: X-T\r\n' +
    'Proxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
    'Proxy-Connection: keep-alive\r\n' +
    'X-Forwarded-For: 203.0.113.7\r\n' +
    'X-Forwarded-Proto: https\r\n' +
    'X-Forwarded-Host: spoofed.example\r\n' +
    'X-Keep: 1\r\n' +
    'X-Keep: 2\r\n' +
    '\r\n';
  const res = await rawRequest(p.port, head);
  assert.equal(res.status, 200, res.body.toString());
  const rec = await up.nth(1);
  const names = rec.rawHeaders.map(([k]) => k.toLowerCase());
  for (const hop of ['x-drop-me', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'upgrade']) {
    assert.ok(!names.includes(hop), `${hop} must not be forwarded: ${JSON.stringify(rec.rawHeaders)}`);
  }
  assert.notEqual(rec.headers.connection, 'close, X-Drop-Me');
  assert.equal(rec.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  assert.equal(rec.headers['x-forwarded-proto'], 'http');
  assert.equal(rec.headers['x-forwarded-host'], `api.example.test:${p.port}`);
  assert.deepEqual(
    rec.rawHeaders.filter(([k]) => k === 'X-Keep').map(([, v]) => v),
    ['1', '2'],
  );
  assert.equal(rec.headers.host, `127.0.0.1:${up.port}`);
});

test('HTTP_PROXY {proxy+} to {proxy}, $default with a path-less uri, query merge, stage variables', T, async (t) => {
  const up = await echoFor(t);
  const p = await startFor(
    t,
    httpConfig({
      stages: { prod: { variables: { up: `127.0.0.1:${up.port}`, dir: 'v2' } } },
      integrations: {
        files: { type: 'HTTP_PROXY', uri: 'http://${stageVariables.up}/store/${stageVariables.dir}/{proxy}' },
        fixed: { type: 'HTTP_PROXY', uri: `${up.url}/search?fixed=1` },
        rest: { type: 'HTTP_PROXY', uri: 'http://${stageVariables.up}' },
      },
      routes: {
        'ANY /files/{proxy+}': { integration: 'files' },
        'GET /search': { integration: 'fixed' },
        $default: { integration: 'rest' },
      },
    }),
  );
  const get = async (path, method = 'GET') => {
    const r = await httpRequest({ port: p.port, method, path });
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
    return JSON.parse(r.text);
  };
  assert.equal((await get('/prod/files/a/b%20c/d.txt?z=9')).url, '/store/v2/a/b%20c/d.txt?z=9');
  const del = await get('/prod/files/one', 'DELETE');
  assert.equal(del.method, 'DELETE');
  assert.equal(del.url, '/store/v2/one');
  assert.equal((await get('/prod/search?q=cats&page=2')).url, '/search?fixed=1&q=cats&page=2');
  assert.equal((await get('/prod/search')).url, '/search?fixed=1');
  assert.equal((await get('/prod/some/other/path?k=v')).url, '/some/other/path?k=v');
  const patch = await get('/prod/deep/x', 'PATCH');
  assert.equal(patch.method, 'PATCH');
  assert.equal(patch.url, '/deep/x');
});

test('HTTP_PROXY returns status, headers (several Set-Cookie) and body as they came; 5xx too (curl)', T, async (t) => {
  const up = await echoFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { up: { type: 'HTTP_PROXY', uri: up.url } },
      routes: { 'ANY /{proxy+}': { integration: 'up' } },
    }),
  );
  const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13]);
  up.setReply((rec) =>
    rec.url === '/created'
      ? {
          status: 201,
          headers: [
            ['Content-Type', 'application/x-thing'],
            ['Set-Cookie', 'a=1; Path=/'],
            ['Set-Cookie', 'b=2; HttpOnly'],
            ['X-Upstream', 'here'],
            ['Location', '/things/9'],
          ],
          body: bytes,
        }
      : { status: 503, headers: [['Content-Type', 'text/plain'], ['Retry-After', '3']], body: 'down for now' },
  );
  const r1 = parseCurlI((await curl(['-i', `${p.baseUrl}/created`])).stdout);
  assert.equal(r1.status, 201);
  assert.deepEqual(r1.all('set-cookie'), ['a=1; Path=/', 'b=2; HttpOnly']);
  assert.deepEqual(r1.all('x-upstream'), ['here']);
  assert.deepEqual(r1.all('location'), ['/things/9']);
  assert.deepEqual(r1.all('content-type'), ['application/x-thing']);
  assert.equal(r1.all('apigw-requestid').length, 1);
  assert.deepEqual(r1.body, bytes);
  const r2 = parseCurlI((await curl(['-i', `${p.baseUrl}/broken`])).stdout);
  assert.equal(r2.status, 503);
  assert.deepEqual(r2.all('retry-after'), ['3']);
  assert.equal(r2.body.toString(), 'down for now');
});

test('HTTP_PROXY forwards HEAD, binary bodies (curl --data-binary) and empty bodies', T, async (t) => {
  const up = await echoFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { up: { type: 'HTTP_PROXY', uri: up.url } },
      routes: { $default: { integration: 'up' } },
    }),
  );
  up.setReply((rec) => (rec.method === 'HEAD' ? { status: 200, headers: [['X-Head', 'yes'], ['Content-Length', '42']] } : null));
  const head = parseCurlI((await curl(['-s', '-I', `${p.baseUrl}/h`])).stdout);
  assert.equal(head.status, 200);
  assert.deepEqual(head.all('x-head'), ['yes']);
  assert.equal(head.body.length, 0);
  assert.equal((await up.nth(1)).method, 'HEAD');

  const bin = Buffer.alloc(4096);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 7) & 0xff;
  const r = await curl(
    ['-X', 'PUT', '-H', 'Content-Type: application/octet-stream', '--data-binary', '@-', `${p.baseUrl}/upload/f.bin`],
    bin,
  );
  assert.equal(r.code, 0, r.stderr);
  const seen = JSON.parse(r.stdout.toString());
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.url, '/upload/f.bin');
  assert.equal(seen.bodyBase64, bin.toString('base64'));
  assert.equal(seen.headers['content-length'], '4096');

  const g = JSON.parse((await curl([`${p.baseUrl}/empty`])).stdout.toString());
  assert.equal(g.method, 'GET');
  assert.equal(g.body, '');
});

test('HTTP_PROXY: 504 on timeoutMs, 502 when nothing listens, 413 over requestBodyBytes', T, async (t) => {
  const up = await echoFor(t);
  const dead = await freePort();
  const p = await startFor(
    t,
    httpConfig({
      limits: { requestBodyBytes: 64 },
      integrations: {
        slow: { type: 'HTTP_PROXY', uri: `${up.url}/slow`, timeoutMs: 200 },
        dead: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${dead}/x` },
        ok: { type: 'HTTP_PROXY', uri: `${up.url}/ok` },
      },
      routes: {
        'GET /slow': { integration: 'slow' },
        'GET /dead': { integration: 'dead' },
        'POST /ok': { integration: 'ok' },
      },
    }),
  );
  up.setReply((rec) => (rec.url === '/slow' ? { delayMs: 1500, body: 'late' } : null));
  const t0 = Date.now();
  const slow = await httpRequest({ port: p.port, path: '/slow' });
  assert.equal(slow.status, 504);
  assert.deepEqual(JSON.parse(slow.text), { message: 'Endpoint request timed out' });
  assert.match(slow.headers['apigw-requestid'] ?? '', REQUEST_ID);
  assert.ok(Date.now() - t0 < 1200, `the timeout took ${Date.now() - t0} ms`);

  const d = await httpRequest({ port: p.port, path: '/dead' });
  assert.equal(d.status, 502);
  assert.deepEqual(JSON.parse(d.text), { message: 'Bad Gateway' });
  assert.match(d.headers['apigw-requestid'] ?? '', REQUEST_ID);

  const before = up.requests.length;
  const big = await httpRequest({ port: p.port, method: 'POST', path: '/ok', body: Buffer.alloc(65, 0x61) });
  assert.equal(big.status, 413);
  assert.match(big.headers['apigw-requestid'] ?? '', REQUEST_ID);
  const fits = await httpRequest({ port: p.port, method: 'POST', path: '/ok', body: Buffer.alloc(64, 0x61) });
  assert.equal(fits.status, 200);
  assert.equal(up.requests.length, before + 1, 'the oversized request reached the upstream');
  assert.equal(up.requests.at(-1).body.length, 64);
});

/* ---- AWS_PROXY ---- */

test('AWS_PROXY payload 2.0: the event has every field AWS sends', T, async (t) => {
  const fn = await lambdaFor(t);
  const p = await startFor(
    t,
    httpConfig({
      stages: { prod: { variables: { color: 'blue' } } },
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri('pets') } },
      routes: { 'GET /pets/{id}': { integration: 'fn' } },
    }),
  );
  const before = Date.now();
  const head =
    'GET /prod/pets/7%20x?a=1&a=2&b=x%20y&flag HTTP/1.1\r\n' +
    `Host: abc.example.test:${p.port}\r\n` +
    'User-Agent: test-agent/1.0\r\n' +
    'Cookie: c1=v1; c2=v2\r\n' +
    'Cookie: c3=v3\r\n' +
    'X-Multi: v1\r\n' +
    'X-Multi: v2\r\n' +
    'Accept: */*\r\n' +
    'Connection: close\r\n' +
    '\r\n';
  const res = await rawRequest(p.port, head);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'ok');
  const ev = await fn.nth(1);
  assert.equal(fn.names[0], 'pets');
  assert.equal(ev.version, '2.0');
  assert.equal(ev.routeKey, 'GET /pets/{id}');
  assert.equal(ev.rawPath, '/prod/pets/7%20x');
  assert.equal(ev.rawQueryString, 'a=1&a=2&b=x%20y&flag');
  assert.deepEqual(ev.cookies, ['c1=v1', 'c2=v2', 'c3=v3']);
  assert.equal(ev.headers.cookie, undefined);
  assert.equal(ev.headers['x-multi'], 'v1,v2');
  assert.equal(ev.headers['user-agent'], 'test-agent/1.0');
  assert.equal(ev.headers.accept, '*/*');
  assert.equal(ev.headers.host, `abc.example.test:${p.port}`);
  assert.equal(ev.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(ev.headers['x-forwarded-proto'], 'http');
  assert.equal(ev.headers['x-forwarded-port'], String(p.port));
  for (const k of Object.keys(ev.headers)) assert.equal(k, k.toLowerCase());
  assert.deepEqual(ev.queryStringParameters, { a: '1,2', b: 'x y', flag: '' });
  assert.deepEqual(ev.pathParameters, { id: '7 x' });
  assert.deepEqual(ev.stageVariables, { color: 'blue' });
  assert.equal(ev.body, undefined);
  assert.equal(ev.isBase64Encoded, false);
  const ctx = ev.requestContext;
  assert.equal(ctx.accountId, '000000000000');
  assert.equal(ctx.apiId, 'shop');
  assert.equal(ctx.domainName, `abc.example.test:${p.port}`);
  assert.equal(ctx.domainPrefix, 'abc');
  assert.deepEqual(ctx.http, {
    method: 'GET',
    path: '/prod/pets/7 x',
    protocol: 'HTTP/1.1',
    sourceIp: '127.0.0.1',
    userAgent: 'test-agent/1.0',
  });
  assert.match(ctx.requestId, REQUEST_ID);
  assert.equal(res.header('apigw-requestid'), ctx.requestId);
  assert.equal(ctx.routeKey, 'GET /pets/{id}');
  assert.equal(ctx.stage, 'prod');
  assert.match(ctx.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  assert.equal(typeof ctx.timeEpoch, 'number');
  assert.ok(Math.abs(ctx.timeEpoch - before) < 5000, `timeEpoch ${ctx.timeEpoch} vs ${before}`);
});

test('AWS_PROXY payload 2.0: empty parts are left out; text and binary bodies', T, async (t) => {
  const fn = await lambdaFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri() } },
      routes: { $default: { integration: 'fn' } },
    }),
  );
  await httpRequest({ port: p.port, path: '/' });
  const bare = await fn.nth(1);
  assert.equal(bare.routeKey, '$default');
  assert.equal(bare.rawPath, '/');
  assert.equal(bare.rawQueryString, '');
  assert.equal(bare.requestContext.stage, '$default');
  for (const k of ['cookies', 'queryStringParameters', 'pathParameters', 'stageVariables', 'body']) {
    assert.ok(!(k in bare), `${k} should be absent: ${JSON.stringify(bare[k])}`);
  }
  assert.equal(bare.isBase64Encoded, false);

  const json = '{"café":"☕","n":1}';
  await fetch(`${p.baseUrl}/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json });
  const text = await fn.nth(2);
  assert.equal(text.body, json);
  assert.equal(text.isBase64Encoded, false);
  assert.equal(text.requestContext.http.method, 'POST');

  const bin = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff, 0x10]);
  await fetch(`${p.baseUrl}/upload`, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: bin });
  const b = await fn.nth(3);
  assert.equal(b.isBase64Encoded, true);
  assert.deepEqual(Buffer.from(b.body, 'base64'), bin);

  // Declared binary: base64 even when the bytes happen to be ASCII.
  await fetch(`${p.baseUrl}/upload`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: 'plain',
  });
  const o = await fn.nth(4);
  assert.equal(o.isBase64Encoded, true);
  assert.equal(Buffer.from(o.body, 'base64').toString(), 'plain');

  // Not UTF-8 although declared as text: base64 all the same.
  await fetch(`${p.baseUrl}/upload`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: Buffer.from([0xc3, 0x28]) });
  const bad = await fn.nth(5);
  assert.equal(bad.isBase64Encoded, true);
  assert.deepEqual(Buffer.from(bad.body, 'base64'), Buffer.from([0xc3, 0x28]));
});

test('AWS_PROXY payload 1.0: the event has every field AWS sends', T, async (t) => {
  const fn = await lambdaFor(t);
  const p = await startFor(
    t,
    httpConfig({
      stages: { prod: { variables: { color: 'blue' } } },
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri(), payloadFormatVersion: '1.0' } },
      routes: { 'POST /pets/{id}': { integration: 'fn' }, $default: { integration: 'fn' } },
    }),
  );
  const head =
    'POST /prod/pets/7?a=1&a=2&b=x HTTP/1.1\r\n' +
    'Host: abc.example.test\r\n' +
    'User-Agent: test-agent/1.0\r\n' +
    'X-Multi: v1\r\n' +
    'X-Multi: v2\r\n' +
    'Cookie: c1=v1; c2=v2\r\n' +
    'Content-Type: text/plain\r\n' +
    'Content-Length: 5\r\n' +
    'Connection: close\r\n' +
    '\r\n';
  const res = await rawRequest(p.port, head, Buffer.from('hello'));
  assert.equal(res.status, 200);
  const ev = await fn.nth(1);
  assert.equal(ev.version, '1.0');
  assert.equal(ev.resource, '/pets/{id}');
  assert.equal(ev.path, '/pets/7');
  assert.equal(ev.httpMethod, 'POST');
  assert.equal(ev.headers['X-Multi'], 'v2');
  assert.deepEqual(ev.multiValueHeaders['X-Multi'], ['v1', 'v2']);
  assert.equal(ev.headers.Cookie, 'c1=v1; c2=v2');
  assert.equal(ev.headers['User-Agent'], 'test-agent/1.0');
  assert.equal(ev.headers['X-Forwarded-For'], '127.0.0.1');
  assert.equal(ev.headers['X-Forwarded-Proto'], 'http');
  assert.equal(ev.headers['X-Forwarded-Port'], '80');
  assert.deepEqual(ev.queryStringParameters, { a: '2', b: 'x' });
  assert.deepEqual(ev.multiValueQueryStringParameters, { a: ['1', '2'], b: ['x'] });
  assert.deepEqual(ev.pathParameters, { id: '7' });
  assert.deepEqual(ev.stageVariables, { color: 'blue' });
  assert.equal(ev.body, 'hello');
  assert.equal(ev.isBase64Encoded, false);
  assert.equal(ev.cookies, undefined);
  const ctx = ev.requestContext;
  assert.equal(ctx.accountId, '000000000000');
  assert.equal(ctx.apiId, 'shop');
  assert.equal(ctx.domainName, 'abc.example.test');
  assert.equal(ctx.domainPrefix, 'abc');
  assert.equal(ctx.extendedRequestId, ctx.requestId);
  assert.equal(ctx.httpMethod, 'POST');
  assert.equal(ctx.identity.sourceIp, '127.0.0.1');
  assert.equal(ctx.identity.userAgent, 'test-agent/1.0');
  for (const k of ['accessKey', 'accountId', 'caller', 'cognitoIdentityId', 'user', 'userArn']) {
    assert.equal(ctx.identity[k], null, k);
  }
  assert.equal(ctx.path, '/prod/pets/7');
  assert.equal(ctx.protocol, 'HTTP/1.1');
  assert.equal(res.header('apigw-requestid'), ctx.requestId);
  assert.match(ctx.requestTime, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  assert.equal(typeof ctx.requestTimeEpoch, 'number');
  assert.equal(ctx.resourceId, 'POST /pets/{id}');
  assert.equal(ctx.resourcePath, '/pets/{id}');
  assert.equal(ctx.stage, 'prod');

  await httpRequest({ port: p.port, path: '/prod/other' });
  const bare = await fn.nth(2);
  assert.equal(bare.resource, '$default');
  assert.equal(bare.requestContext.resourceId, '$default');
  assert.equal(bare.queryStringParameters, null);
  assert.equal(bare.multiValueQueryStringParameters, null);
  assert.equal(bare.pathParameters, null);
  assert.equal(bare.body, null);
  assert.equal(bare.isBase64Encoded, false);
});

test('AWS_PROXY 2.0 results: cookies, base64 bodies, inferred 200 JSON, strings, errors', T, async (t) => {
  const fn = await lambdaFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri() } },
      routes: { 'GET /{case}': { integration: 'fn' } },
    }),
  );
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]);
  const results = {
    full: {
      statusCode: 201,
      headers: { 'x-a': '1', 'content-type': 'text/html', 'x-n': 5 },
      cookies: ['s=1; Path=/', 't=2; HttpOnly'],
      body: '<b>hi</b>',
    },
    binary: { statusCode: 200, headers: { 'Content-Type': 'image/png' }, body: png.toString('base64'), isBase64Encoded: true },
    object: { hello: 'world', list: [1, 2] },
    string: 'Hello',
    number: 42,
    notype: { statusCode: 202, body: 'accepted' },
    nobody: { statusCode: 204 },
    fnerror: { $functionError: 'Unhandled' },
    malformed: { $raw: '{"statusCode": 200, "body": ' },
    badstatus: { statusCode: 'two hundred', body: 'x' },
    badbody: { statusCode: 200, body: { not: 'a string' } },
    badbase64: { statusCode: 200, body: '@@@', isBase64Encoded: true },
    invokefail: { $status: 429 },
  };
  fn.setHandler((ev) => results[ev.pathParameters.case]);
  const curlGet = async (c) => parseCurlI((await curl(['-i', `${p.baseUrl}/${c}`])).stdout);

  const full = await curlGet('full');
  assert.equal(full.status, 201);
  assert.deepEqual(full.all('set-cookie'), ['s=1; Path=/', 't=2; HttpOnly']);
  assert.deepEqual(full.all('x-a'), ['1']);
  assert.deepEqual(full.all('x-n'), ['5']);
  assert.deepEqual(full.all('content-type'), ['text/html']);
  assert.equal(full.body.toString(), '<b>hi</b>');
  assert.equal(full.all('apigw-requestid').length, 1);

  const bin = await curlGet('binary');
  assert.equal(bin.status, 200);
  assert.deepEqual(bin.body, png);
  assert.deepEqual(bin.all('content-type'), ['image/png']);

  const obj = await curlGet('object');
  assert.equal(obj.status, 200);
  assert.deepEqual(obj.all('content-type'), ['application/json']);
  assert.deepEqual(JSON.parse(obj.body.toString()), results.object);

  const str = await curlGet('string');
  assert.equal(str.status, 200);
  assert.equal(str.body.toString(), 'Hello');
  assert.deepEqual(str.all('content-type'), ['application/json']);

  const num = await curlGet('number');
  assert.equal(num.status, 200);
  assert.equal(num.body.toString(), '42');

  const notype = await curlGet('notype');
  assert.equal(notype.status, 202);
  assert.equal(notype.body.toString(), 'accepted');
  assert.deepEqual(notype.all('content-type'), ['text/plain; charset=utf-8']);

  const nobody = await curlGet('nobody');
  assert.equal(nobody.status, 204);
  assert.equal(nobody.body.length, 0);

  for (const c of ['fnerror', 'malformed', 'badstatus', 'badbody', 'badbase64', 'invokefail']) {
    const r = await curlGet(c);
    assert.equal(r.status, 500, c);
    assert.deepEqual(JSON.parse(r.body.toString()), { message: 'Internal Server Error' }, c);
    assert.equal(r.all('apigw-requestid').length, 1, c);
  }
});

test('AWS_PROXY 1.0 results: headers and multiValueHeaders merged, statusCode required', T, async (t) => {
  const fn = await lambdaFor(t);
  const p = await startFor(
    t,
    httpConfig({
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri(), payloadFormatVersion: '1.0' } },
      routes: { 'GET /{case}': { integration: 'fn' } },
    }),
  );
  const results = {
    merged: {
      statusCode: 200,
      headers: { 'X-One': 'a', 'X-Both': 'from-headers', 'Content-Type': 'text/plain' },
      multiValueHeaders: { 'X-Both': ['m1', 'm2'], 'Set-Cookie': ['a=1', 'b=2'] },
      body: 'merged',
      isBase64Encoded: false,
    },
    b64: { statusCode: 200, body: Buffer.from('bytes\x00\x01').toString('base64'), isBase64Encoded: true },
    nostatus: { body: 'no status' },
    string: 'Hello',
  };
  fn.setHandler((ev) => results[ev.pathParameters.case]);
  const curlGet = async (c) => parseCurlI((await curl(['-i', `${p.baseUrl}/${c}`])).stdout);
  const m = await curlGet('merged');
  assert.equal(m.status, 200);
  assert.deepEqual(m.all('x-one'), ['a']);
  assert.deepEqual(m.all('x-both'), ['m1', 'm2']);
  assert.deepEqual(m.all('set-cookie'), ['a=1', 'b=2']);
  assert.equal(m.body.toString(), 'merged');
  const b = await curlGet('b64');
  assert.deepEqual(b.body, Buffer.from('bytes\x00\x01'));
  for (const c of ['nostatus', 'string']) {
    const r = await curlGet(c);
    assert.equal(r.status, 500, c);
    assert.deepEqual(JSON.parse(r.body.toString()), { message: 'Internal Server Error' });
  }
});

test('AWS_PROXY: an Invoke endpoint that cannot be reached is 502, a slow function 504', T, async (t) => {
  const fn = await lambdaFor(t);
  const dead = await freePort();
  const p = await startFor(
    t,
    httpConfig({
      integrations: {
        dead: { type: 'AWS_PROXY', uri: `http://127.0.0.1:${dead}/2015-03-31/functions/x/invocations` },
        slow: { type: 'AWS_PROXY', uri: fn.uri('slow'), timeoutMs: 200 },
      },
      routes: { 'GET /dead': { integration: 'dead' }, 'GET /slow': { integration: 'slow' } },
    }),
  );
  fn.setHandler(() => new Promise((r) => setTimeout(() => r({ statusCode: 200, body: 'late' }), 1500)));
  const d = await httpRequest({ port: p.port, path: '/dead' });
  assert.equal(d.status, 502);
  assert.deepEqual(JSON.parse(d.text), { message: 'Bad Gateway' });
  const s = await httpRequest({ port: p.port, path: '/slow' });
  assert.equal(s.status, 504);
  assert.deepEqual(JSON.parse(s.text), { message: 'Endpoint request timed out' });
});

/* ---- The gateway around them ---- */

test('a WebSocket API and an HTTP API share one listener', T, async (t) => {
  const fn = await lambdaFor(t);
  fn.setHandler((ev) => ({ statusCode: 200, body: `http:${ev.rawPath}` }));
  const p = await startFor(
    t,
    httpConfig({
      basePath: '/shop',
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri() } },
      routes: { 'GET /pets': { integration: 'fn' } },
      extraApis: [wsApi()],
    }),
  );
  const ws = await openWs(`${p.wsUrl}/dev`);
  t.after(() => ws.terminate());
  ws.send('over the socket');
  const [msg, res] = await Promise.all([nextText(ws), fetch(`${p.baseUrl}/shop/pets`)]);
  assert.equal(msg, 'over the socket');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'http:/shop/pets');
  ws.send('again');
  assert.equal(await nextText(ws), 'again');
});

test('route priority end to end, 404 for unknown paths, apigw-requestid everywhere', T, async (t) => {
  const fn = await lambdaFor(t);
  fn.setHandler((ev) => ({ statusCode: 200, body: ev.routeKey }));
  const p = await startFor(
    t,
    httpConfig({
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri() } },
      routes: {
        'GET /pets/{id}': { integration: 'fn' },
        'GET /pets/dog': { integration: 'fn' },
        'ANY /{proxy+}': { integration: 'fn' },
        $default: { integration: 'fn' },
      },
    }),
  );
  const cases = [
    ['GET', '/pets/7', 'GET /pets/{id}'],
    ['GET', '/pets/dog', 'GET /pets/dog'],
    ['POST', '/pets/7', 'ANY /{proxy+}'],
    ['GET', '/pets', 'ANY /{proxy+}'],
    ['DELETE', '/a/b/c', 'ANY /{proxy+}'],
    ['GET', '/', '$default'],
  ];
  for (const [method, path, key] of cases) {
    const r = await httpRequest({ port: p.port, method, path });
    assert.equal(r.status, 200, `${method} ${path}`);
    assert.equal(r.text, key, `${method} ${path}`);
    assert.match(r.headers['apigw-requestid'] ?? '', REQUEST_ID);
  }

  const q = await startFor(
    t,
    httpConfig({
      basePath: '/shop',
      integrations: { fn: { type: 'AWS_PROXY', uri: fn.uri() } },
      routes: { 'GET /pets/{id}': { integration: 'fn' } },
    }),
  );
  const calls = fn.events.length;
  for (const [method, path] of [
    ['GET', '/shop/nope'],
    ['POST', '/shop/pets/7'],
    ['GET', '/shop/pets'],
    ['GET', '/shop/pets/7/more'],
  ]) {
    const r = await httpRequest({ port: q.port, method, path });
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.deepEqual(JSON.parse(r.text), { message: 'Not Found' });
    assert.match(r.headers['apigw-requestid'] ?? '', REQUEST_ID);
  }
  assert.equal(fn.events.length, calls, 'a 404 called the integration');
});

test('CORS: preflights are answered without the integration; allowed origins only', T, async (t) => {
  const up = await echoFor(t);
  up.setReply(() => ({
    status: 200,
    headers: [
      ['Content-Type', 'text/plain'],
      ['Access-Control-Allow-Origin', '*'],
    ],
    body: 'pets',
  }));
  const p = await startFor(
    t,
    httpConfig({
      cors: { allowOrigins: ['https://app.example'], allowMethods: ['GET', 'POST'], allowHeaders: ['content-type'], maxAge: 600 },
      integrations: { up: { type: 'HTTP_PROXY', uri: up.url } },
      routes: { 'ANY /{proxy+}': { integration: 'up' } },
    }),
  );
  const pre = parseCurlI(
    (
      await curl([
        '-i',
        '-X',
        'OPTIONS',
        '-H',
        'Origin: https://app.example',
        '-H',
        'Access-Control-Request-Method: POST',
        '-H',
        'Access-Control-Request-Headers: content-type',
        `${p.baseUrl}/pets/7`,
      ])
    ).stdout,
  );
  assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
  assert.deepEqual(pre.all('access-control-allow-origin'), ['https://app.example']);
  assert.match(pre.all('access-control-allow-methods')[0] ?? '', /POST/);
  assert.equal(pre.all('apigw-requestid').length, 1);
  assert.equal(up.requests.length, 0, 'the preflight reached the integration');

  const ok = await fetch(`${p.baseUrl}/pets/7`, { headers: { Origin: 'https://app.example' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.equal(await ok.text(), 'pets');

  const evil = await fetch(`${p.baseUrl}/pets/7`, { headers: { Origin: 'https://evil.example' } });
  assert.equal(evil.status, 200);
  assert.equal(evil.headers.get('access-control-allow-origin'), null, 'the backend CORS header leaked');
  assert.equal(up.requests.length, 2);
});
