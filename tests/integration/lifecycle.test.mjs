// Signals: SIGTERM/SIGINT drain, SIGHUP reload (SPEC section 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  echoConfig,
  mock,
  openWs,
  nextMessage,
  nextText,
  closeEvent,
  connectionIdOf,
  mgmtClient,
  waitFor,
  sleep,
} from './lib/portico.mjs';

const T = { timeout: 30000 };

function exitWithin(p, ms) {
  return Promise.race([
    p.exited,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`portico did not exit within ${ms} ms\n${p.describe()}`)), ms)),
  ]);
}

function refusesConnections(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test('SIGTERM with no clients exits 0 promptly', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const started = Date.now();
  p.signal('SIGTERM');
  const r = await exitWithin(p, 5000);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null });
  assert.ok(Date.now() - started < 3000, 'an idle server took more than 3 s to stop');
});

test('SIGTERM: every client gets its queued messages, then 1001, and the process exits 0', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { drainSeconds: 5 } }));
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const clients = [];
  for (let i = 0; i < 3; i++) {
    const ws = await openWs(`${p.wsUrl}/dev`);
    clients.push({ ws, id: await connectionIdOf(ws) });
  }
  // The last client does not read for a while, so its messages are certainly still queued in
  // the server when SIGTERM arrives.
  const slow = clients[2];
  slow.ws._socket.pause();
  const big = (i) => Buffer.from(`${i}:`.padEnd(100 * 1024, 'z'));
  for (const c of clients) {
    for (let i = 0; i < 5; i++) await client.send(new PostToConnectionCommand({ ConnectionId: c.id, Data: big(i) }));
  }
  p.signal('SIGTERM');
  await sleep(300);
  slow.ws._socket.resume();
  for (const [n, c] of clients.entries()) {
    for (let i = 0; i < 5; i++) {
      const m = await nextMessage(c.ws, 5000);
      assert.equal(m.text.slice(0, String(i).length + 1), `${i}:`, `client ${n} message ${i}`);
      assert.equal(m.data.length, 100 * 1024);
    }
    const close = await closeEvent(c.ws, 6000);
    assert.equal(close.code, 1001, `client ${n} closed with ${close.code}`);
  }
  const r = await exitWithin(p, 8000);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null });
});

test('SIGINT drains like SIGTERM', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  p.signal('SIGINT');
  const close = await closeEvent(ws, 5000);
  assert.equal(close.code, 1001);
  const r = await exitWithin(p, 5000);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null });
});

test('SIGTERM stops accepting new connections while it drains', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { drainSeconds: 5 } }));
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws._socket.pause();
  for (let i = 0; i < 20; i++) {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(100 * 1024, 0x61) }));
    } catch {
      break; // a full send queue is fine here
    }
  }
  p.signal('SIGTERM');
  await waitFor(() => refusesConnections(p.port), { timeoutMs: 3000, what: 'the listener to close' });
  assert.equal(p.hasExited(), false, 'exited before the paused client was drained or drainSeconds passed');
  ws._socket.resume();
  const close = await closeEvent(ws, 7000);
  assert.equal(close.code, 1001);
  const r = await exitWithin(p, 7000);
  assert.equal(r.code, 0);
});

test('drainSeconds bounds the drain: a client that never reads does not hold the exit', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { drainSeconds: 1 } }));
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws._socket.pause();
  for (let i = 0; i < 100; i++) {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(100 * 1024, 0x61) }));
    } catch {
      break;
    }
  }
  const started = Date.now();
  p.signal('SIGTERM');
  const r = await exitWithin(p, 6000);
  assert.equal(r.code, 0);
  assert.ok(Date.now() - started < 4000, `exit took ${Date.now() - started} ms with drainSeconds 1`);
});

test('SIGHUP reload: an open connection survives and its next message gets the new answer', T, async (t) => {
  const config = echoConfig({ api: { integrations: { echo: mock('old answer', 200) } } });
  const p = await startFor(t, config);
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('before');
  assert.equal(await nextText(ws), 'old answer');
  await p.writeConfig(echoConfig({ api: { integrations: { echo: mock('new answer', 200) } } }));
  p.signal('SIGHUP');
  const answer = await waitFor(
    async () => {
      ws.send('after');
      const a = await nextText(ws);
      return a === 'new answer' ? a : null;
    },
    { timeoutMs: 3000, intervalMs: 50, what: 'the new MOCK body' },
  );
  assert.equal(answer, 'new answer');
  assert.equal(ws.readyState, ws.OPEN);
  // new connections use the new config too
  const ws2 = await openWs(`${p.wsUrl}/dev`);
  ws2.send('fresh');
  assert.equal(await nextText(ws2), 'new answer');
  ws.close();
  ws2.close();
  assert.equal(p.hasExited(), false);
});

test('SIGHUP reload: a route added by the reload serves existing connections', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const msg = JSON.stringify({ action: 'added' });
  ws.send(msg);
  assert.equal(await nextText(ws), msg, 'before the reload the message goes to $default');
  await p.writeConfig(
    echoConfig({ api: { integrations: { added: mock('added route', 200) }, routes: { added: { integration: 'added', routeResponse: true } } } }),
  );
  p.signal('SIGHUP');
  await waitFor(
    async () => {
      ws.send(msg);
      return (await nextText(ws)) === 'added route';
    },
    { timeoutMs: 3000, intervalMs: 50, what: 'the added route' },
  );
  // the connection kept its id and is still reachable through the management API
  assert.equal(await connectionIdOf(ws), id);
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('still managed') }));
  assert.equal(await nextText(ws), 'still managed');
  ws.close();
});

test('SIGHUP with a broken config: rejected, errors logged, the old config stays', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { integrations: { echo: mock('old answer', 200) } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const broken = echoConfig({ api: { integrations: { echo: mock('new answer', 200) }, routes: { $connect: { integration: 'backnd' } } } });
  await p.writeConfig(broken);
  p.signal('SIGHUP');
  await waitFor(() => p.logs().some((l) => l.includes('no integration named "backnd"')), {
    timeoutMs: 3000,
    what: 'the config error on stderr',
  }).catch((e) => {
    throw new Error(`${e.message}\n${p.describe()}`);
  });
  assert.equal(p.hasExited(), false, 'a bad reload killed the server');
  ws.send('x');
  assert.equal(await nextText(ws), 'old answer');
  const ws2 = await openWs(`${p.wsUrl}/dev`);
  ws2.send('y');
  assert.equal(await nextText(ws2), 'old answer');
  ws.close();
  ws2.close();
});

test('SIGHUP with a file that is not JSON: rejected, the old config stays', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { integrations: { echo: mock('old answer', 200) } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const before = p.logs().length;
  await p.writeRaw('{ "apis": [ this is not json');
  p.signal('SIGHUP');
  await waitFor(() => p.logs().length > before, { timeoutMs: 3000, what: 'an error on stderr' });
  ws.send('x');
  assert.equal(await nextText(ws), 'old answer');
  assert.equal(p.hasExited(), false);
  ws.close();
});

test('a reload that removes the stage of an open connection neither crashes nor hangs', T, async (t) => {
  const p = await startFor(t, echoConfig({ api: { stages: { dev: {}, prod: {} } } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  await p.writeConfig(echoConfig({ api: { stages: { prod: {} } } }));
  p.signal('SIGHUP');
  await waitFor(async () => {
    try {
      const w = await openWs(`${p.wsUrl}/dev`);
      w.terminate();
      return false;
    } catch (e) {
      return e.status === 404;
    }
  }, { timeoutMs: 3000, what: 'the dev stage to disappear for new connections' });
  // What the old connection gets is up to the server (its snapshot, or a close); it must not hang.
  if (ws.readyState === ws.OPEN) {
    ws.send('x');
    await Promise.race([nextMessage(ws, 3000), closeEvent(ws, 3000)]).catch(() => {});
  }
  const prod = await openWs(`${p.wsUrl}/prod`);
  prod.send('prod works');
  assert.equal(await nextText(prod), 'prod works');
  prod.close();
  ws.terminate();
  assert.equal(p.hasExited(), false);
});
