// MOCK on HTTP routes (SPEC section 5, issue #4): response.statusCode, response.body and
// response.headers (templates too), and application/json as the default type of a JSON body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startFor, runPortico, writeTempConfig, openWs, wsApi } from './lib/portico.mjs';

const T = { timeout: 15000 };

function httpApi(integrations, routes) {
  return { name: 'shop', protocolType: 'HTTP', basePath: '/', stages: { $default: { variables: { region: 'eu' } } }, integrations, routes };
}

const CONFIG = {
  apis: [
    httpApi(
      {
        headers: {
          type: 'MOCK',
          response: {
            statusCode: 201,
            body: 'created',
            headers: { 'X-Plain': 'plain value', 'Cache-Control': 'max-age=5', 'X-Stage': 'region-$stageVariables.region', 'X-Request': '$context.requestId' },
          },
        },
        object: { type: 'MOCK', response: { body: { ok: true, list: [1, 2] } } },
        array: { type: 'MOCK', response: { body: [1, 'two'] } },
        jsonText: { type: 'MOCK', response: { body: '  {"route":"$context.routeKey"}' } },
        text: { type: 'MOCK', response: { body: 'just text' } },
        typed: { type: 'MOCK', response: { body: { a: 1 }, headers: { 'content-type': 'application/vnd.example+json' } } },
        location: { type: 'MOCK', response: { statusCode: 302, headers: { Location: '/elsewhere' } } },
      },
      {
        'POST /items': { integration: 'headers' },
        'GET /object': { integration: 'object' },
        'GET /array': { integration: 'array' },
        'GET /json-text': { integration: 'jsonText' },
        'GET /text': { integration: 'text' },
        'GET /typed': { integration: 'typed' },
        'GET /old': { integration: 'location' },
      },
    ),
  ],
};

test('response.headers come back on an HTTP route, templates rendered', T, async (t) => {
  const p = await startFor(t, CONFIG);
  const r = await fetch(`${p.baseUrl}/items`, { method: 'POST', body: 'x' });
  assert.equal(r.status, 201);
  assert.equal(await r.text(), 'created');
  assert.equal(r.headers.get('x-plain'), 'plain value');
  assert.equal(r.headers.get('cache-control'), 'max-age=5');
  assert.equal(r.headers.get('x-stage'), 'region-eu');
  assert.equal(r.headers.get('x-request'), r.headers.get('apigw-requestid'), '$context.requestId is the request id');
  assert.equal(r.headers.get('content-type'), null, 'a text body gets no default type');
});

test('a JSON body is application/json unless the headers set a type', T, async (t) => {
  const p = await startFor(t, CONFIG);
  const want = {
    '/object': ['application/json', { ok: true, list: [1, 2] }],
    '/array': ['application/json', [1, 'two']],
    '/json-text': ['application/json', { route: 'GET /json-text' }],
    '/typed': ['application/vnd.example+json', { a: 1 }],
  };
  for (const [u, [type, body]] of Object.entries(want)) {
    const r = await fetch(`${p.baseUrl}${u}`);
    assert.equal(r.status, 200, u);
    assert.equal(r.headers.get('content-type'), type, u);
    assert.deepEqual(JSON.parse(await r.text()), body, u);
  }
  const text = await fetch(`${p.baseUrl}/text`);
  assert.equal(text.headers.get('content-type'), null);
  assert.equal(await text.text(), 'just text');
});

test('a redirect from headers alone, as curl sees it', T, async (t) => {
  const p = await startFor(t, CONFIG);
  const out = await new Promise((resolve) =>
    execFile('curl', ['-s', '-i', '--max-time', '5', `${p.baseUrl}/old`], (err, stdout) => resolve({ err, stdout })),
  );
  assert.ifError(out.err);
  assert.match(out.stdout, /^HTTP\/1\.1 302 /);
  assert.match(out.stdout, /\r\nLocation: \/elsewhere\r\n/);
  assert.match(out.stdout, /\r\nContent-Length: 0\r\n/);
});

test('a Sec-WebSocket-Protocol header from a MOCK $connect picks the subprotocol', T, async (t) => {
  const p = await startFor(t, {
    apis: [
      wsApi({
        integrations: { hello: { type: 'MOCK', response: { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'v2' } } } },
        routes: { $connect: { integration: 'hello' } },
      }),
    ],
  });
  const ws = await openWs(`${p.wsUrl}/dev`, { protocols: ['v1', 'v2'] });
  assert.equal(ws.protocol, 'v2');
  ws.close();
});

test('--check refuses bad response.headers with their paths', T, async (t) => {
  const cases = [
    [{ 'X-A': 5 }, /response\.headers\["?X-A"?\]: expected a string/],
    [{ 'Bad Name': 'x' }, /response\.headers\["Bad Name"\]: not a header name/],
    [{ 'X-B': 'a\r\nX-Injected: 1' }, /response\.headers\["?X-B"?\]: a header value cannot hold a line break/],
    [{ 'X-C': '$context.nope' }, /response\.headers\["?X-C"?\]/],
    [['X-D'], /response\.headers: expected an object/],
  ];
  for (const [headers, want] of cases) {
    const cfg = await writeTempConfig({
      apis: [httpApi({ m: { type: 'MOCK', response: { body: 'x', headers } } }, { 'GET /m': { integration: 'm' } })],
    });
    t.after(cfg.cleanup);
    const r = await runPortico(['--check', cfg.file]);
    assert.equal(r.code, 1, `${JSON.stringify(headers)}: ${r.output}`);
    assert.match(r.output, want);
  }
});
