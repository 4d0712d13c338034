// samples/lambda-chat: the sample's function.mjs (a child process serving the Lambda Invoke API)
// behind Portico with a copy of the sample's config on free ports; two clients chat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  REPO_ROOT,
  runPortico,
  startFor,
  makeTempDir,
  freePort,
  openWs,
  nextText,
  noMessageWithin,
  closeEvent,
  waitFor,
  sleep,
} from './lib/portico.mjs';

const T = { timeout: 20000 };
const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = path.join(REPO_ROOT, 'samples', 'lambda-chat');

/** Starts `node function.mjs` in dir; resolves once its port accepts connections. */
async function startFunction(t, dir, env) {
  const out = [];
  const proc = spawn(process.execPath, ['function.mjs'], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.setEncoding('utf8').on('data', (d) => out.push(d));
  proc.stderr.setEncoding('utf8').on('data', (d) => out.push(d));
  let exited = null;
  proc.once('exit', (code, signal) => (exited = { code, signal }));
  const kill = () => {
    if (exited === null) proc.kill('SIGKILL');
  };
  process.once('exit', kill);
  t.after(kill);
  const canConnect = () =>
    new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: Number(env.PORT) });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  await waitFor(
    async () => {
      if (exited) throw new Error(`function.mjs exited (${JSON.stringify(exited)}):\n${out.join('')}`);
      return canConnect();
    },
    { timeoutMs: 8000, what: 'function.mjs to listen' },
  ).catch((e) => {
    throw new Error(`${e.message}\n--- function.mjs output ---\n${out.join('')}`);
  });
  return { proc, output: () => out.join('') };
}

test('samples/lambda-chat/portico.json passes --check and routes to the function at 127.0.0.1:9001', T, async () => {
  const file = path.join(SAMPLE, 'portico.json');
  const r = await runPortico(['--check', file]);
  assert.equal(r.code, 0, r.output);
  const config = JSON.parse(await fsp.readFile(file, 'utf8'));
  assert.deepEqual(config.listen, [{ host: '127.0.0.1', port: 8080 }]);
  const [api] = config.apis;
  assert.equal(api.managementAuth, 'AWS_IAM');
  for (const route of ['$connect', '$disconnect', 'sendmessage', '$default']) {
    const integration = api.integrations[api.routes[route]?.integration];
    assert.equal(integration?.type, 'AWS_PROXY', route);
    assert.equal(integration.uri, 'http://127.0.0.1:9001/2015-03-31/functions/chat/invocations', route);
  }
});

test('samples/lambda-chat: a message from one client reaches both, through the function', T, async (t) => {
  // A copy of the sample, with the test suite's node_modules for the AWS SDK.
  const dir = await makeTempDir('portico-sample-lambda-chat-');
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  await fsp.cp(SAMPLE, dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  await fsp.symlink(path.join(here, 'node_modules'), path.join(dir, 'node_modules'), 'dir');

  const porticoPort = await freePort();
  const fnPort = await freePort();
  const fn = await startFunction(t, dir, { PORT: String(fnPort), PORTICO_ENDPOINT: `http://127.0.0.1:${porticoPort}/dev` });

  const config = JSON.parse(await fsp.readFile(path.join(dir, 'portico.json'), 'utf8'));
  config.listen = [{ host: '127.0.0.1', port: porticoPort }];
  for (const integration of Object.values(config.apis[0].integrations)) {
    integration.uri = integration.uri.replace('127.0.0.1:9001', `127.0.0.1:${fnPort}`);
  }
  const p = await startFor(t, config, { dir: await makeTempDir() });

  const alice = await openWs(`${p.wsUrl}/dev`);
  const bob = await openWs(`${p.wsUrl}/dev`);
  alice.send(JSON.stringify({ action: 'sendmessage', data: 'hello from alice' }));
  assert.equal(await nextText(alice, 5000), 'hello from alice', `alice\n${fn.output()}`);
  assert.equal(await nextText(bob, 5000), 'hello from alice', `bob\n${fn.output()}`);
  bob.send(JSON.stringify({ action: 'sendmessage', data: 'hi alice ✓' }));
  assert.equal(await nextText(alice, 5000), 'hi alice ✓');
  assert.equal(await nextText(bob, 5000), 'hi alice ✓');

  // $default answers with a hint, to the sender only.
  alice.send('hi');
  assert.match(await nextText(alice), /sendmessage/);
  assert.ok(await noMessageWithin(bob, 200), 'the $default answer went to bob too');

  // After bob leaves ($disconnect), messages reach alice alone and nobody gets an error.
  bob.close(1000, 'bye');
  await closeEvent(bob);
  await waitFor(() => /disconnect /.test(fn.output()), { what: 'the function to log the $disconnect' });
  alice.send(JSON.stringify({ action: 'sendmessage', data: 'anyone?' }));
  assert.equal(await nextText(alice, 5000), 'anyone?');
  await sleep(100);
  assert.doesNotMatch(fn.output(), /failed|error/i, fn.output());
  alice.close();
});
