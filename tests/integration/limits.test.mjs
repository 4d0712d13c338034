// The limits of SPEC section 2 as the wire sees them (SPEC section 4, "Limits" and "Keepalive").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startFor,
  echoConfig,
  openWs,
  handshakeStatus,
  nextText,
  closeEvent,
  pings,
  sleep,
  waitFor,
} from './lib/portico.mjs';

const T = { timeout: 20000 };

test('a message of exactly messageBytes is accepted', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { messageBytes: 1024 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const text = 'a'.repeat(1024);
  ws.send(text);
  assert.equal(await nextText(ws), text);
  ws.close();
});

test('a message over messageBytes closes the connection with 1009', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { messageBytes: 1024 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('a'.repeat(1025));
  const c = await closeEvent(ws);
  assert.equal(c.code, 1009);
});

test('a fragmented message over messageBytes closes with 1009 though each frame fits frameBytes', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { messageBytes: 1024, frameBytes: 512 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('a'.repeat(400), { fin: false });
  ws.send('b'.repeat(400), { fin: false });
  ws.send('c'.repeat(400), { fin: true });
  const c = await closeEvent(ws);
  assert.equal(c.code, 1009);
});

test('a frame over frameBytes closes with 1009 though the message fits messageBytes', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { messageBytes: 4096, frameBytes: 1024 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('a'.repeat(2000));
  const c = await closeEvent(ws);
  assert.equal(c.code, 1009);
});

test('a fragmented message within both limits is reassembled', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { messageBytes: 4096, frameBytes: 1024 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('a'.repeat(1000), { fin: false });
  ws.send('b'.repeat(1000), { fin: false });
  ws.send('c'.repeat(1000), { fin: true });
  assert.equal(await nextText(ws), 'a'.repeat(1000) + 'b'.repeat(1000) + 'c'.repeat(1000));
  ws.close();
});

test('a UTF-8 character split across two fragments is valid', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const whole = Buffer.from('caf\u00e9 \u20ac', 'utf8'); // ... c3 a9 20 e2 82 ac
  const cut = whole.indexOf(0xc3) + 1; // between c3 and a9
  ws.send(whole.subarray(0, cut), { binary: false, fin: false });
  ws.send(whole.subarray(cut), { binary: false, fin: true });
  assert.equal(await nextText(ws), 'caf\u00e9 \u20ac');
  ws.close();
});

test('invalid UTF-8 in a text frame closes with 1007', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send(Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]), { binary: false });
  const c = await closeEvent(ws);
  assert.equal(c.code, 1007);
});

test('idleTimeoutSeconds: 1 closes a silent connection with 1001 after about a second', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { idleTimeoutSeconds: 1 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const opened = Date.now();
  const c = await closeEvent(ws, 4000);
  const elapsed = c.at - opened;
  assert.equal(c.code, 1001);
  assert.ok(elapsed >= 900, `closed too early: ${elapsed} ms`);
  assert.ok(elapsed <= 3000, `closed too late: ${elapsed} ms`);
});

test('messages keep an idle-limited connection open', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { idleTimeoutSeconds: 1 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const until = Date.now() + 2500;
  let i = 0;
  while (Date.now() < until) {
    ws.send(`keepalive ${i}`);
    assert.equal(await nextText(ws), `keepalive ${i}`);
    i++;
    await sleep(300);
  }
  assert.equal(ws.readyState, ws.OPEN, 'an active connection was closed as idle');
  // Then silence: it goes.
  const c = await closeEvent(ws, 4000);
  assert.equal(c.code, 1001);
});

test('maxConnectionSeconds: 2 closes with 1001 even while chatting', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { maxConnectionSeconds: 2 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  const opened = Date.now();
  const chat = setInterval(() => {
    if (ws.readyState === ws.OPEN) ws.send('still here');
  }, 200);
  t.after(() => clearInterval(chat));
  const c = await closeEvent(ws, 5000);
  clearInterval(chat);
  const elapsed = c.at - opened;
  assert.equal(c.code, 1001);
  assert.ok(elapsed >= 1800, `closed too early: ${elapsed} ms`);
  assert.ok(elapsed <= 4000, `closed too late: ${elapsed} ms`);
});

test('pingIntervalSeconds: 1 pings a quiet client, which stays open while it answers', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { pingIntervalSeconds: 1 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  await waitFor(() => pings(ws).length >= 2, { timeoutMs: 3500, what: 'two pings' });
  assert.equal(ws.readyState, ws.OPEN, 'a client that answers pings was closed');
  ws.send('after pings');
  assert.equal(await nextText(ws), 'after pings');
  ws.close();
});

test('a client that does not answer pings is closed within about two intervals', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { pingIntervalSeconds: 1 } }));
  const ws = await openWs(`${p.wsUrl}/dev`, { autoPong: false });
  const opened = Date.now();
  const c = await closeEvent(ws, 5000);
  const elapsed = c.at - opened;
  assert.ok(pings(ws).length >= 1, 'closed without ever being pinged');
  assert.ok(elapsed <= 4000, `closed after ${elapsed} ms`);
});

test('pongs count as activity: a client answering pings outlives idleTimeoutSeconds', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { pingIntervalSeconds: 1, idleTimeoutSeconds: 2 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  await sleep(3500);
  assert.ok(pings(ws).length >= 2, `only ${pings(ws).length} pings in 3.5 s`);
  assert.equal(ws.readyState, ws.OPEN, 'a client answering pings was closed as idle');
  ws.close();
});

test('pingIntervalSeconds: 0 sends no pings', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { pingIntervalSeconds: 0, idleTimeoutSeconds: 5 } }));
  const ws = await openWs(`${p.wsUrl}/dev`);
  await sleep(1500);
  assert.equal(pings(ws).length, 0);
  ws.close();
});

test('maxConnections refuses the handshake past the limit and accepts again after a close', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { maxConnections: 2 } }));
  const a = await openWs(`${p.wsUrl}/dev`);
  const b = await openWs(`${p.wsUrl}/dev`);
  const status = await handshakeStatus(`${p.wsUrl}/dev`);
  assert.notEqual(status, 101, 'a third connection was accepted with maxConnections 2');
  assert.ok(status >= 400, `status ${status}`);
  a.send('still fine');
  assert.equal(await nextText(a), 'still fine');
  b.close();
  await closeEvent(b);
  const c = await waitFor(
    async () => {
      try {
        return await openWs(`${p.wsUrl}/dev`);
      } catch {
        return null;
      }
    },
    { timeoutMs: 3000, what: 'a connection after one closed' },
  );
  c.close();
  a.close();
});

test('a client close is answered promptly', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.close(4000, 'bye');
  const c = await closeEvent(ws, 2000); // ws waits 30 s for an unanswered close
  // RFC 6455 5.5.1: the answer typically echoes the code.
  assert.ok([4000, 1000, 1005].includes(c.code), `close answered with ${c.code}`);
});
