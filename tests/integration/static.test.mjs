// STATIC integrations (SPEC section 5, issue #4): files under a root folder served on HTTP
// routes, with content types, ETag / Last-Modified and 304s, index files for folders, HEAD,
// 404 and 405, and no way out of the root, checked with raw requests that no client normalises.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startPortico, makeTempDir, runPortico, writeTempConfig } from './lib/portico.mjs';

const T = { timeout: 20000 };
const SECRET = 'TOP-SECRET-4f1c9a0e-do-not-serve';
const OLD = new Date('2024-03-01T12:00:00Z'); // mtime of page.txt: If-Modified-Since is exact
const BIG = crypto.randomBytes(5 * 1024 * 1024 + 123);

let p; // the server, shared by every test of this file
let dir; // its config folder: public/ is the root, secret.txt sits beside it

/** The files under the root, by path. */
const FILES = {
  'index.html': '<!doctype html><title>home</title>',
  'page.txt': 'plain text\n',
  'sub/index.html': '<p>sub index</p>',
  'sub/deeper/leaf.json': '{"leaf":true}',
  'app.js': 'export const a = 1;\n',
  'mod.mjs': 'export default 2;\n',
  'style.css': 'body { margin: 0 }\n',
  'data.json': '[1,2,3]',
  'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'pixel.png': Buffer.from('89504e470d0a1a0a', 'hex'),
  'mod.wasm': Buffer.from('0061736d01000000', 'hex'),
  'font.woff2': Buffer.from('774f4632', 'hex'),
  'table.csv': 'a,b\n1,2\n',
  'blob.unknownext': 'opaque',
  'SHOUT.TXT': 'upper-case extension',
  'no-extension': 'none',
  '%2e%2e': 'a file literally named %2e%2e',
  'big.bin': BIG,
  'alt/home.htm': '<p>alt home</p>',
};

before(async () => {
  dir = await makeTempDir('portico-static-');
  for (const [name, content] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'public', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'public', name), content);
  }
  fs.utimesSync(path.join(dir, 'public', 'page.txt'), OLD, OLD);
  fs.mkdirSync(path.join(dir, 'public', 'empty'));
  fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.writeFileSync(path.join(dir, 'outside', 'secret.txt'), SECRET);
  // Symlinks: two that leave the root (a file and a folder), one that stays inside it.
  fs.symlinkSync('../secret.txt', path.join(dir, 'public', 'escape.txt'));
  fs.symlinkSync('../outside', path.join(dir, 'public', 'escape-dir'));
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'public', 'absolute-escape.txt'));
  fs.symlinkSync('sub/deeper/leaf.json', path.join(dir, 'public', 'inside-link.json'));
  const config = {
    apis: [
      {
        name: 'site',
        protocolType: 'HTTP',
        basePath: '/',
        stages: { $default: {} },
        integrations: {
          files: { type: 'STATIC', root: 'public' },
          alt: { type: 'STATIC', root: 'public', index: 'home.htm', cacheControl: 'public, max-age=60' },
        },
        routes: {
          'GET /': { integration: 'files' },
          'ANY /{proxy+}': { integration: 'files' },
          'GET /other/{path+}': { integration: 'alt' },
        },
      },
      {
        // No greedy parameter: the whole route path names the file.
        name: 'whole',
        protocolType: 'HTTP',
        basePath: '/whole',
        stages: { $default: {} },
        integrations: { files: { type: 'STATIC', root: `${dir}/public` } },
        routes: { $default: { integration: 'files' } },
      },
    ],
  };
  p = await startPortico(config, { dir });
});

after(async () => {
  if (p) await p.stop('SIGKILL');
});

const url = (u) => `${p.baseUrl}${u}`;

/** One request written byte for byte on a fresh TCP connection; resolves {status, head, body}. */
function raw(requestLine, extraHeaders = '', ms = 3000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: p.port });
    const chunks = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${requestLine}: no complete answer within ${ms} ms`));
    }, ms);
    sock.on('connect', () => sock.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extraHeaders}\r\n`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, end < 0 ? all.length : end).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, head, body: end < 0 ? Buffer.alloc(0) : all.subarray(end + 4), all });
    });
  });
}

function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--max-time', '5', ...args], { timeout: 10000, encoding: 'latin1' }, (err, stdout, stderr) =>
      resolve({ err, stdout, stderr }),
    );
  });
}

/** curl -i output split into status, lower-cased headers and body. */
function parseCurl(out) {
  const end = out.indexOf('\r\n\r\n');
  const lines = out.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(lines[0].split(' ')[1]), headers, body: out.slice(end + 4) };
}

async function get(u, init) {
  const r = await fetch(url(u), init);
  return { r, body: Buffer.from(await r.arrayBuffer()) };
}

test('"/" serves index.html with content type, ETag, Last-Modified and Cache-Control', T, async () => {
  const { r, body } = await get('/');
  assert.equal(r.status, 200);
  assert.equal(body.toString(), FILES['index.html']);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(r.headers.get('etag'), /^"[0-9a-f]+-[0-9a-f]+"$/, 'a strong ETag');
  assert.ok(!Number.isNaN(Date.parse(r.headers.get('last-modified'))), 'Last-Modified is an HTTP date');
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.equal(r.headers.get('content-length'), String(body.length));
});

test('nested files, folders with and without a trailing slash, and a symlink that stays inside', T, async () => {
  let { r, body } = await get('/sub/deeper/leaf.json');
  assert.equal(r.status, 200);
  assert.equal(body.toString(), FILES['sub/deeper/leaf.json']);
  for (const u of ['/sub/', '/sub']) {
    ({ r, body } = await get(u));
    assert.equal(r.status, 200, u);
    assert.equal(body.toString(), FILES['sub/index.html'], `${u} serves the folder's index`);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  }
  ({ r, body } = await get('/inside-link.json'));
  assert.equal(r.status, 200, 'a symlink to a file under the root is followed');
  assert.equal(body.toString(), FILES['sub/deeper/leaf.json']);
  // Sent raw: fetch (WHATWG URL) would turn %2e%2e into a dot segment itself.
  const lit = await raw('GET /%252e%252e HTTP/1.1');
  assert.equal(lit.status, 200, 'a percent-encoded name is decoded once, then is just a name');
  assert.equal(lit.body.toString(), FILES['%2e%2e']);
});

test('content types by extension, in any case, with a default', T, async () => {
  const want = {
    '/app.js': 'text/javascript; charset=utf-8',
    '/mod.mjs': 'text/javascript; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/data.json': 'application/json',
    '/page.txt': 'text/plain; charset=utf-8',
    '/SHOUT.TXT': 'text/plain; charset=utf-8',
    '/logo.svg': 'image/svg+xml',
    '/pixel.png': 'image/png',
    '/mod.wasm': 'application/wasm',
    '/font.woff2': 'font/woff2',
    '/table.csv': 'text/csv; charset=utf-8',
    '/blob.unknownext': 'application/octet-stream',
    '/no-extension': 'application/octet-stream',
  };
  for (const [u, type] of Object.entries(want)) {
    const { r, body } = await get(u);
    assert.equal(r.status, 200, u);
    assert.equal(r.headers.get('content-type'), type, u);
    assert.deepEqual(body, Buffer.from(FILES[u.slice(1)]), u);
  }
});

test('If-None-Match: the ETag, a list, W/ and * give 304 without a body; another tag gives 200', T, async () => {
  const first = await curl(['-i', url('/style.css')]);
  const a = parseCurl(first.stdout);
  assert.equal(a.status, 200);
  const etag = a.headers.etag;
  assert.ok(etag);
  for (const inm of [etag, `"nope", ${etag}`, `W/${etag}`, '*']) {
    const r = parseCurl((await curl(['-i', '-H', `If-None-Match: ${inm}`, url('/style.css')])).stdout);
    assert.equal(r.status, 304, `If-None-Match: ${inm}`);
    assert.equal(r.headers.etag, etag, '304 carries the ETag');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.body, '', '304 has no body');
  }
  const other = await fetch(url('/style.css'), { headers: { 'If-None-Match': '"0-0"' } });
  assert.equal(other.status, 200);
  assert.equal(await other.text(), FILES['style.css']);
  // If-None-Match decides alone: a matching If-Modified-Since does not make a mismatch a 304.
  const both = await fetch(url('/style.css'), {
    headers: { 'If-None-Match': '"0-0"', 'If-Modified-Since': new Date(Date.now() + 86400e3).toUTCString() },
  });
  assert.equal(both.status, 200);
  const missing = await fetch(url('/nothing-here.css'), { headers: { 'If-None-Match': '*' } });
  assert.equal(missing.status, 404, '* matches only a file that exists');
});

test('a changed file gets a new ETag, and the old one no longer gives 304', T, async () => {
  const file = path.join(dir, 'public', 'changing.txt');
  fs.writeFileSync(file, 'one');
  const r1 = await fetch(url('/changing.txt'));
  const e1 = r1.headers.get('etag');
  assert.equal(await r1.text(), 'one');
  fs.writeFileSync(file, 'two!');
  const r2 = await fetch(url('/changing.txt'), { headers: { 'If-None-Match': e1 } });
  assert.equal(r2.status, 200);
  assert.equal(await r2.text(), 'two!');
  assert.notEqual(r2.headers.get('etag'), e1);
});

test('If-Modified-Since: not modified since gives 304, modified since gives 200', T, async () => {
  const r = await fetch(url('/page.txt'));
  assert.equal(r.headers.get('last-modified'), OLD.toUTCString());
  await r.arrayBuffer();
  const same = await curl(['-i', '-H', `If-Modified-Since: ${OLD.toUTCString()}`, url('/page.txt')]);
  const s = parseCurl(same.stdout);
  assert.equal(s.status, 304);
  assert.equal(s.body, '');
  assert.equal(s.headers['last-modified'], OLD.toUTCString());
  const later = new Date(OLD.getTime() + 3600e3).toUTCString();
  assert.equal((await fetch(url('/page.txt'), { headers: { 'If-Modified-Since': later } })).status, 304);
  // The obsolete date forms a recipient must accept (RFC 9110 5.6.7).
  assert.equal((await fetch(url('/page.txt'), { headers: { 'If-Modified-Since': 'Friday, 01-Mar-24 12:00:00 GMT' } })).status, 304);
  assert.equal((await fetch(url('/page.txt'), { headers: { 'If-Modified-Since': 'Fri Mar  1 12:00:00 2024' } })).status, 304);
  const earlier = new Date(OLD.getTime() - 3600e3).toUTCString();
  const e = await fetch(url('/page.txt'), { headers: { 'If-Modified-Since': earlier } });
  assert.equal(e.status, 200);
  assert.equal(await e.text(), FILES['page.txt']);
  const junk = await fetch(url('/page.txt'), { headers: { 'If-Modified-Since': 'yesterday' } });
  assert.equal(junk.status, 200, 'a date that does not parse is ignored');
  await junk.arrayBuffer();
});

test('HEAD has the headers of a GET and no body', T, async () => {
  const r = await raw('HEAD /style.css HTTP/1.1');
  assert.equal(r.status, 200);
  assert.match(r.head, /\r\nContent-Length: 19\r\n/i);
  assert.match(r.head, /\r\nContent-Type: text\/css; charset=utf-8\r\n/i);
  assert.match(r.head, /\r\nETag: "/i);
  assert.equal(r.body.length, 0, 'no body after the head');
  const c = await curl(['-I', url('/big.bin')]);
  const h = parseCurl(c.stdout);
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], String(BIG.length));
});

test('404 for missing files, folders without an index, trailing slashes on files and non-files', T, async () => {
  for (const u of ['/missing.html', '/sub/missing/', '/empty/', '/empty', '/page.txt/', '/sub/deeper/']) {
    const r = await fetch(url(u));
    assert.equal(r.status, 404, u);
    assert.equal(r.headers.get('content-type'), 'application/json', u);
    assert.deepEqual(await r.json(), { message: 'Not Found' }, u);
  }
});

test('methods other than GET and HEAD get 405 with Allow', T, async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await fetch(url('/page.txt'), { method, body: method === 'DELETE' ? undefined : 'x' });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    assert.deepEqual(await r.json(), { message: 'Method Not Allowed' });
  }
});

test('a custom index and Cache-Control; the greedy parameter names the file', T, async () => {
  for (const u of ['/other/alt/', '/other/alt', '/other/alt/home.htm']) {
    const r = await fetch(url(u));
    assert.equal(r.status, 200, u);
    assert.equal(await r.text(), FILES['alt/home.htm'], u);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=60');
  }
  const r = await fetch(url('/other/sub/'));
  assert.equal(r.status, 404, 'sub/ has index.html, not home.htm');
  await r.arrayBuffer();
});

test('a route without a greedy parameter serves the whole route path', T, async () => {
  let r = await fetch(url('/whole/sub/deeper/leaf.json'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), FILES['sub/deeper/leaf.json']);
  r = await fetch(url('/whole'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), FILES['index.html']);
  r = await fetch(url('/whole/a//page.txt'));
  assert.equal(r.status, 404, 'no a/ folder');
  await r.arrayBuffer();
});

test('a large file (5 MB) is served intact', T, async () => {
  const { r, body } = await get('/big.bin');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-length'), String(BIG.length));
  assert.equal(body.length, BIG.length);
  assert.ok(body.equals(BIG), 'the bytes are the file');
  const c = await new Promise((resolve) =>
    execFile('curl', ['-s', '--max-time', '10', url('/big.bin')], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout) =>
      resolve({ err, stdout }),
    ),
  );
  assert.ifError(c.err);
  assert.ok(c.stdout.equals(BIG), 'curl gets the same bytes');
});

test('no request leaves the root: dot segments, encodings, backslashes and symlinks', T, async () => {
  const paths = [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/a/../../secret.txt',
    '/sub/../../secret.txt',
    '/%252e%252e/secret.txt',
    '/....//secret.txt',
    '/./../secret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/escape.txt',
    '/absolute-escape.txt',
    '/escape-dir/secret.txt',
    '/escape-dir/',
    '/escape-dir',
    '/..',
    '/.',
    '/%2e',
    `/${'../'.repeat(20)}secret.txt`,
    `/%2e%2e${'/%2e%2e'.repeat(20)}${dir}/secret.txt`,
    `//${dir.slice(1)}/secret.txt`,
    `/${dir}/secret.txt`,
  ];
  for (const prefix of ['', '/whole']) {
    for (const rp of paths) {
      const target = `${prefix}${rp}`;
      for (const method of ['GET', 'HEAD']) {
        const r = await raw(`${method} ${target} HTTP/1.1`);
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${target} answered ${r.status}:\n${r.head}`);
        assert.ok(!r.all.includes(SECRET), `${method} ${target} leaked the secret`);
      }
    }
  }
  // Dot segments are refused, not resolved, even where they would stay inside the root.
  for (const rp of ['/sub/../page.txt', '/sub/%2e%2e/page.txt', '/./page.txt', '/whole/sub/../page.txt']) {
    const r = await raw(`GET ${rp} HTTP/1.1`);
    assert.equal(r.status, 404, rp);
    assert.match(r.body.toString(), /Not Found/, rp);
  }
  // curl --path-as-is sends the dots unchanged too.
  for (const rp of ['/../secret.txt', '/a/../../secret.txt', '/escape.txt']) {
    const c = await curl(['-i', '--path-as-is', url(rp)]);
    assert.ok(!c.stdout.includes(SECRET), `curl ${rp} leaked the secret`);
    assert.ok(parseCurl(c.stdout).status >= 400, `curl ${rp}`);
  }
  // The server is still fine.
  assert.equal((await fetch(url('/page.txt'))).status, 200);
});

test('--check refuses a missing root, a root that is a file, and a bad index', T, async (t) => {
  const cases = [
    [{ type: 'STATIC', root: 'nope' }, /integrations\.files\.root: "nope"/],
    [{ type: 'STATIC', root: 'portico.json' }, /integrations\.files\.root: .*not a folder/],
    [{ type: 'STATIC', root: '.', index: '../x.html' }, /integrations\.files\.index: expected a file name/],
    [{ type: 'STATIC' }, /integrations\.files: missing required key "root"/],
    [{ type: 'STATIC', root: '.', cacheControl: 5 }, /integrations\.files\.cacheControl/],
    [{ type: 'STATIC', root: '.', extra: 1 }, /integrations\.files\.extra/],
  ];
  for (const [integration, want] of cases) {
    const cfg = await writeTempConfig({
      apis: [
        {
          name: 'site',
          protocolType: 'HTTP',
          stages: { $default: {} },
          integrations: { files: integration },
          routes: { 'GET /{proxy+}': { integration: 'files' } },
        },
      ],
    });
    t.after(cfg.cleanup);
    const r = await runPortico(['--check', cfg.file]);
    assert.equal(r.code, 1, `${JSON.stringify(integration)}: ${r.output}`);
    assert.match(r.output, want);
  }
});
