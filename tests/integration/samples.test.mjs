// The shipped samples: every samples/*/portico.json passes --check, and the echo sample runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, runPortico, startFor, makeTempDir, openWs, nextText } from './lib/portico.mjs';

const T = { timeout: 15000 };
const SAMPLES = path.join(REPO_ROOT, 'samples');

const sampleConfigs = fs.existsSync(SAMPLES)
  ? fs
      .readdirSync(SAMPLES, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(SAMPLES, d.name, 'portico.json')))
      .map((d) => d.name)
      .sort()
  : [];

test('there is an echo sample', () => {
  assert.ok(sampleConfigs.includes('echo'), `samples/echo/portico.json is missing (found: ${sampleConfigs.join(', ') || 'none'})`);
});

for (const name of sampleConfigs) {
  test(`samples/${name}/portico.json passes --check`, T, async () => {
    const r = await runPortico(['--check', path.join(SAMPLES, name, 'portico.json')]);
    assert.equal(r.code, 0, r.output);
  });
}

/** The sample's config with every TCP listener on a free port, in a copy of its folder. */
async function sampleOnFreePorts(name) {
  const dir = await makeTempDir(`portico-sample-${name}-`);
  await fsp.cp(path.join(SAMPLES, name), dir, { recursive: true });
  const config = JSON.parse(await fsp.readFile(path.join(dir, 'portico.json'), 'utf8'));
  const listen = (config.listen ?? [{ host: '127.0.0.1', port: 8080 }]).map((l) => (l.unixSocket ? { unixSocket: path.join(dir, 'sample.sock') } : { ...l, port: 'auto' }));
  config.listen = listen;
  return { dir, config };
}

test('samples/echo starts and echoes', T, async (t) => {
  assert.ok(sampleConfigs.includes('echo'), 'samples/echo/portico.json is missing');
  const { dir, config } = await sampleOnFreePorts('echo');
  const p = await startFor(t, config, { dir });
  const api = (config.apis ?? []).find((a) => a.protocolType === 'WEBSOCKET');
  assert.ok(api, 'the echo sample has no WebSocket API');
  const base = !api.basePath || api.basePath === '/' ? '' : api.basePath.replace(/\/$/, '');
  const stage = Object.keys(api.stages ?? {})[0];
  assert.ok(stage, 'the echo sample has no stage');
  const url = `${p.wsUrl}${base}${stage === '$default' ? '' : `/${stage}`}`;
  const ws = await openWs(url || `${p.wsUrl}/`);
  ws.send('hello echo sample');
  assert.equal(await nextText(ws), 'hello echo sample');
  ws.close();
});
