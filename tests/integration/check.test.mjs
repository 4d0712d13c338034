// The command line: --check, --version, --help, and refusing bad configs (SPEC sections 1, 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  runPortico,
  writeTempConfig,
  echoConfig,
  wsApi,
  mock,
  freePort,
  startFor,
  openWs,
  nextText,
  CREDENTIALS,
  waitFor,
} from './lib/portico.mjs';

const T = { timeout: 15000 };

async function check(config, t) {
  const cfg = await writeTempConfig(config);
  t.after(cfg.cleanup);
  const r = await runPortico(['--check', cfg.file]);
  assert.equal(r.timedOut, false, '--check did not finish within 5 s');
  return r;
}

/** The output lines that mention every one of the given fragments. */
function linesWith(output, ...frags) {
  return output.split('\n').filter((l) => frags.every((f) => (f instanceof RegExp ? f.test(l) : l.includes(f))));
}

function assertLine(output, ...frags) {
  assert.ok(linesWith(output, ...frags).length > 0, `no line mentions ${frags.map(String).join(' + ')}; output:\n${output}`);
}

const GOOD = {
  listen: [{ host: '127.0.0.1', port: 8080 }],
  workers: 1,
  limits: {
    maxConnections: 1000,
    messageBytes: 131072,
    frameBytes: 65536,
    idleTimeoutSeconds: 600,
    maxConnectionSeconds: 7200,
    requestBodyBytes: 10485760,
    sendQueueBytes: 1048576,
    drainSeconds: 10,
    pingIntervalSeconds: 30,
  },
  credentials: CREDENTIALS,
  apis: [
    {
      name: 'chat',
      protocolType: 'WEBSOCKET',
      basePath: '/',
      routeSelectionExpression: '$request.body.action',
      managementAuth: 'AWS_IAM',
      stages: { production: { variables: { backend: '127.0.0.1:9000' } }, dev: {} },
      integrations: {
        echo: mock('$request.body', 200),
        hello: { type: 'MOCK', response: { statusCode: 200, body: '{"route":"$context.routeKey","id":"$context.connectionId","v":"$stageVariables.backend","r":"$context.requestId","x":"$request.body.a.b"}' } },
      },
      routes: {
        $connect: { integration: 'hello' },
        $disconnect: { integration: 'hello' },
        hello: { integration: 'hello', routeResponse: true },
        $default: { integration: 'echo', routeResponse: true },
      },
    },
    {
      name: 'other',
      protocolType: 'WEBSOCKET',
      basePath: '/v2',
      managementAuth: 'NONE',
      stages: { $default: {} },
      integrations: { e: mock('$request.body') },
      routes: { $default: { integration: 'e', routeResponse: true } },
    },
  ],
};

test('--check on a good config exits 0', T, async (t) => {
  const r = await check(GOOD, t);
  assert.equal(r.code, 0, r.output);
});

test('--check on a minimal config (only apis) exits 0', T, async (t) => {
  // (an API needs at least one route, as AWS needs one before it deploys a stage)
  const r = await check(
    { apis: [{ name: 'a', protocolType: 'WEBSOCKET', stages: { dev: {} }, integrations: { e: mock('x') }, routes: { $default: { integration: 'e' } } }] },
    t,
  );
  assert.equal(r.code, 0, r.output);
});

test('--check listens on nothing and starts nothing', T, async (t) => {
  const port = await freePort();
  const r = await check({ ...GOOD, listen: [{ host: '127.0.0.1', port }] }, t);
  assert.equal(r.code, 0, r.output);
  const refused = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
  assert.ok(refused, 'something listens on the port after --check');
});

test('--check prints every error with its JSON path and exits 1', T, async (t) => {
  const bad = {
    listen: [{ host: '127.0.0.1', port: 'eighty' }],
    limits: { idleTimeout: 5, messageBytes: 'big' },
    bogusKey: true,
    apis: [
      {
        name: 'chat',
        protocolType: 'WEBSOCKET',
        basePath: '/',
        routeSelectionExpression: '$request.body.action',
        stages: { dev: {} },
        integrations: { backend: mock('x', 200) },
        routes: {
          $connect: { integration: 'backnd' },
          $default: { integration: 'backend', routeResponse: 'yes' },
        },
      },
    ],
  };
  const r = await check(bad, t);
  assert.equal(r.code, 1, r.output);
  const out = r.output;
  assertLine(out, 'portico.json: apis[0].routes["$connect"].integration: no integration named "backnd"');
  assertLine(out, /listen\[0\]\.port: /);
  assertLine(out, /limits\.messageBytes: /);
  assertLine(out, /apis\[0\]\.routes\["\$default"\]\.routeResponse: /);
  assertLine(out, 'idleTimeout', /unknown/i);
  assertLine(out, 'bogusKey', /unknown/i);
  const errorLines = out.split('\n').filter((l) => l.includes('portico.json: '));
  assert.ok(errorLines.length >= 6, `expected at least 6 error lines, got ${errorLines.length}:\n${out}`);
});

test('--check: an unknown key inside an API is an error', T, async (t) => {
  const r = await check({ apis: [wsApi({ routeSelectionExpresion: '$request.body.type' })] }, t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'apis[0]', 'routeSelectionExpresion', /unknown/i);
});

test('--check: an unknown key in a route or integration is an error', T, async (t) => {
  const r = await check(
    { apis: [wsApi({ integrations: { e2: { type: 'MOCK', response: { body: 'x' }, extra: 1 } }, routes: { r: { integration: 'e2', routeRespone: true } } })] },
    t,
  );
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'apis[0].integrations', 'extra', /unknown/i);
  assertLine(out(r), 'apis[0].routes', 'routeRespone', /unknown/i);
});

function out(r) {
  return r.output;
}

test('--check: a missing apis is an error', T, async (t) => {
  const r = await check({ listen: [{ host: '127.0.0.1', port: 8080 }] }, t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'apis');
});

test('--check: a file that is not JSON is an error', T, async (t) => {
  const r = await check('{ "apis": [ }', t);
  assert.equal(r.code, 1, r.output);
  assert.ok(r.output.trim().length > 0, 'no message for invalid JSON');
});

test('--check: a missing file is an error', T, async () => {
  const r = await runPortico(['--check', '/nonexistent/dir/portico.json']);
  assert.equal(r.code, 1, r.output);
  assert.ok(r.output.includes('/nonexistent/dir/portico.json'), `the message should name the file:\n${r.output}`);
});

test('--check: a bad route selection expression and template are errors with their paths', T, async (t) => {
  const r = await check({ apis: [wsApi({ routeSelectionExpression: '${request.body.action', integrations: { echo: mock('${unterminated', 200) } })] }, t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'apis[0].routeSelectionExpression');
  assertLine(out(r), 'apis[0].integrations.echo');
});

test('--check: wrong enum values are errors', T, async (t) => {
  const r = await check({ apis: [wsApi({ protocolType: 'SOCKET', managementAuth: 'MAYBE' })] }, t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'apis[0].protocolType');
  assertLine(out(r), 'apis[0].managementAuth');
});

test('--check: out-of-range limits are errors', T, async (t) => {
  const r = await check(echoConfig({ limits: { messageBytes: -1, idleTimeoutSeconds: 'x' } }), t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'limits.messageBytes');
  assertLine(out(r), 'limits.idleTimeoutSeconds');
});

test('--check: managementAuth NONE on a non-loopback listener is an error', T, async (t) => {
  const r = await check(echoConfig({ listen: [{ host: '0.0.0.0', port: 8080 }], api: { managementAuth: 'NONE' } }), t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'managementAuth');
});

test('--check: managementAuth NONE on loopback and unix listeners is fine', T, async (t) => {
  const r = await check(
    echoConfig({ listen: [{ host: '127.0.0.1', port: 8080 }, { unixSocket: '/tmp/portico-check-test.sock' }], api: { managementAuth: 'NONE' } }),
    t,
  );
  assert.equal(r.code, 0, r.output);
});

test('--check: custom route keys must not start with $', T, async (t) => {
  const r = await check(echoConfig({ api: { routes: { $custom: { integration: 'echo' } } } }), t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), '$custom');
});

// Not spelled out in the SPEC: two APIs with the same base path and the same stage make a URL
// ambiguous, which a careful user expects to be refused rather than resolved silently.
test('--check: two APIs on the same base path with the same stage are an error', T, async (t) => {
  const r = await check({ apis: [wsApi({ name: 'a' }), wsApi({ name: 'b' })] }, t);
  assert.equal(r.code, 1, r.output);
  assertLine(out(r), 'apis[1]');
});

test('--check: an HTTP API with HTTP_PROXY and AWS_PROXY integrations passes', T, async (t) => {
  const r = await check(
    echoConfig({
      apis: [{
        name: 'shop', protocolType: 'HTTP', basePath: '/shop', stages: { $default: {} },
        integrations: {
          pets: { type: 'HTTP_PROXY', uri: 'http://127.0.0.1:9000/{proxy}' },
          fn: { type: 'AWS_PROXY', uri: 'http://127.0.0.1:9001/2015-03-31/functions/f/invocations' },
        },
        routes: { 'GET /pets/{id}': { integration: 'fn' }, 'ANY /{proxy+}': { integration: 'pets' } },
      }],
    }),
    t,
  );
  assert.equal(r.code, 0, r.output);
});

test('--version exits 0 and prints a version', T, async () => {
  const r = await runPortico(['--version']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /\d+\.\d+/);
});

test('--help exits 0 and documents the options', T, async () => {
  const r = await runPortico(['--help']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /--check/);
  assert.match(r.output, /--version/);
});

test('an unknown option is a usage error (non-zero exit)', T, async () => {
  const r = await runPortico(['--frobnicate']);
  assert.equal(r.error, undefined, `could not run portico: ${r.error?.message}`);
  assert.notEqual(r.code, 0, r.output);
  assert.equal(r.timedOut, false);
});

test('starting with a bad config exits non-zero without listening', T, async (t) => {
  const port = await freePort();
  const cfg = await writeTempConfig(echoConfig({ listen: [{ host: '127.0.0.1', port }], api: { routes: { $connect: { integration: 'backnd' } } } }));
  t.after(cfg.cleanup);
  const r = await runPortico([cfg.file]);
  assert.equal(r.timedOut, false, 'portico kept running on a bad config');
  assert.notEqual(r.code, 0);
  assert.ok(r.output.includes('no integration named "backnd"'), r.output);
  const refused = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
  assert.ok(refused);
});

test('portico --config FILE runs FILE', T, async (t) => {
  const p = await startFor(t, echoConfig(), { args: (file) => ['--config', file] });
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('via --config');
  assert.equal(await nextText(ws), 'via --config');
  ws.close();
});

test('portico with no arguments runs ./portico.json', T, async (t) => {
  const p = await startFor(t, echoConfig(), { args: () => [] });
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('default file');
  assert.equal(await nextText(ws), 'default file');
  ws.close();
});

test('paths in the config are relative to its folder (unix socket)', T, async (t) => {
  const port = await freePort();
  const cfg = echoConfig({ listen: [{ host: '127.0.0.1', port }, { unixSocket: 'rel.sock' }] });
  const p = await startFor(t, cfg, { cwd: '/' });
  // (startPortico waited for the TCP listener only; the socket file may come a moment later)
  await waitFor(() => fsp.access(path.join(p.dir, 'rel.sock')).then(() => true), {
    timeoutMs: 3000,
    what: `rel.sock in the config's folder ${p.dir}`,
  });
  const ws = await openWs(`ws+unix://${path.join(p.dir, 'rel.sock')}:/dev`);
  ws.send('relative');
  assert.equal(await nextText(ws), 'relative');
  ws.close();
});
