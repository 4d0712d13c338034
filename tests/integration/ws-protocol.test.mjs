// RFC 6455 conformance of the server side, with a raw client that can send what libraries refuse
// to: the handshake checks, masking, reserved bits and opcodes, control frames, close codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { startFor, echoConfig, openWs, nextText, sleep } from './lib/portico.mjs';
import { rawWs, OP, closePayload } from './lib/rawws.mjs';

const T = { timeout: 15000 };

async function server(t, over) {
  return startFor(t, echoConfig(over));
}

async function open(t, p, path = '/dev', headers) {
  const c = await rawWs({ port: p.port, path, headers });
  t.after(() => c.sock.destroy());
  assert.equal(c.status, 101, `handshake answered ${c.status}`);
  return c;
}

/** Sends the frames and expects a close frame with one of the codes, then the TCP end. */
async function expectClose(c, codes, what) {
  const f = await c.closeFrame(3000).catch((e) => assert.fail(`${what}: no close frame (${e.message})`));
  assert.ok(codes.includes(f.code), `${what}: closed with ${f.code}, expected ${codes.join(' or ')}`);
  await c.closed(3000);
  return f;
}

test('the handshake answers 101 with the right Sec-WebSocket-Accept', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  assert.equal(c.headers.upgrade?.toLowerCase(), 'websocket');
  assert.match(c.headers.connection ?? '', /upgrade/i);
  assert.ok(c.acceptOk, `bad Sec-WebSocket-Accept: ${c.headers['sec-websocket-accept']}`);
});

test('a handshake without Sec-WebSocket-Key is refused with 400', T, async (t) => {
  const p = await server(t);
  const c = await rawWs({ port: p.port, path: '/dev', headers: { 'Sec-WebSocket-Key': null } });
  t.after(() => c.sock.destroy());
  assert.equal(c.status, 400);
});

test('an unsupported Sec-WebSocket-Version is refused with 426 and the version the server speaks', T, async (t) => {
  const p = await server(t);
  const c = await rawWs({ port: p.port, path: '/dev', headers: { 'Sec-WebSocket-Version': '8' } });
  t.after(() => c.sock.destroy());
  // RFC 6455 4.2.2: "an appropriate HTTP error code (such as 426 Upgrade Required)"; 4.4: the
  // answer MUST carry Sec-WebSocket-Version with the versions the server speaks.
  assert.ok([400, 426].includes(c.status), `status ${c.status}`);
  assert.match(c.headers['sec-websocket-version'] ?? '', /\b13\b/, `headers: ${JSON.stringify(c.headers)}`);
});

test('a handshake that arrives a few bytes at a time still works', T, async (t) => {
  const p = await server(t);
  const key = crypto.randomBytes(16).toString('base64');
  const req = Buffer.from(
    `GET /dev HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const sock = net.connect({ host: '127.0.0.1', port: p.port });
  t.after(() => sock.destroy());
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  for (let i = 0; i < req.length; i += 7) {
    sock.write(req.subarray(i, i + 7));
    await sleep(2);
  }
  const deadline = Date.now() + 3000;
  while (!got.includes('\r\n\r\n') && Date.now() < deadline) await sleep(10);
  assert.match(got, /^HTTP\/1\.1 101 /);
});

test('server frames are unmasked; a text message is echoed in one text frame', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: 'raw hello' });
  const f = await c.nextFrame();
  assert.equal(f.opcode, OP.TEXT);
  assert.equal(f.masked, false, 'a server frame was masked');
  assert.equal(f.payload.toString(), 'raw hello');
});

test('an unmasked client frame closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: 'not masked', mask: false });
  await expectClose(c, [1002], 'unmasked frame');
});

test('RSV1 without a negotiated extension closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: 'x', rsv: 4 });
  await expectClose(c, [1002], 'RSV1 set');
});

test('a reserved opcode closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: 0x3, payload: 'x' });
  await expectClose(c, [1002], 'opcode 3');
});

test('a control frame over 125 bytes closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) });
  await expectClose(c, [1002], '126-byte ping');
});

test('a fragmented control frame closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.PING, payload: 'x', fin: false });
  await expectClose(c, [1002], 'ping with FIN=0');
});

test('a continuation frame with no message started closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.CONT, payload: 'orphan' });
  await expectClose(c, [1002], 'orphan continuation');
});

test('a new data frame inside a fragmented message closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: 'first half', fin: false });
  c.send({ opcode: OP.TEXT, payload: 'not a continuation' });
  await expectClose(c, [1002], 'text frame instead of a continuation');
});

test('a ping is answered with a pong carrying the same payload', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.PING, payload: 'are you there' });
  const f = await c.nextFrame();
  assert.equal(f.opcode, OP.PONG);
  assert.equal(f.payload.toString(), 'are you there');
});

test('a ping between fragments is answered and the message still reassembles', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: 'hel', fin: false });
  c.send({ opcode: OP.PING, payload: 'mid' });
  c.send({ opcode: OP.CONT, payload: 'lo', fin: true });
  const f1 = await c.nextFrame();
  assert.equal(f1.opcode, OP.PONG);
  assert.equal(f1.payload.toString(), 'mid');
  const f2 = await c.nextFrame();
  assert.equal(f2.opcode, OP.TEXT);
  assert.equal(f2.payload.toString(), 'hello');
});

test('an unsolicited pong is ignored', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.PONG, payload: 'unsolicited' });
  c.send({ opcode: OP.TEXT, payload: 'still ok' });
  const f = await c.nextFrame();
  assert.equal(f.opcode, OP.TEXT);
  assert.equal(f.payload.toString(), 'still ok');
});

test('a message in many one-byte fragments is reassembled', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  const text = 'fragmented';
  for (let i = 0; i < text.length; i++) {
    c.send({ opcode: i === 0 ? OP.TEXT : OP.CONT, payload: text[i], fin: i === text.length - 1 });
  }
  const f = await c.nextFrame();
  assert.equal(f.payload.toString(), text);
});

test('empty text and binary messages are routed like any other', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: '' });
  const f = await c.nextFrame();
  assert.equal(f.opcode, OP.TEXT);
  assert.equal(f.payload.length, 0);
});

test('a client close (1000) is answered with a close frame and the TCP connection ends', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.CLOSE, payload: closePayload(1000, 'done') });
  const f = await c.closeFrame();
  assert.equal(f.code, 1000);
  await c.closed(3000);
});

test('an empty close frame is answered', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.CLOSE });
  const f = await c.closeFrame();
  assert.ok([1000, 1005].includes(f.code), `answered ${f.code}`);
  await c.closed(3000);
});

for (const [code, name] of [
  [999, 'below 1000'],
  [1004, 'reserved 1004'],
  [1005, '1005 (never on the wire)'],
  [1006, '1006 (never on the wire)'],
  [1016, 'unassigned 1016'],
  [5000, 'above 4999'],
]) {
  test(`a close with an invalid code (${name}) closes with 1002`, T, async (t) => {
    const p = await server(t);
    const c = await open(t, p);
    c.send({ opcode: OP.CLOSE, payload: closePayload(code) });
    await expectClose(c, [1002], `close code ${code}`);
  });
}

test('a close frame with a one-byte payload closes with 1002', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) });
  await expectClose(c, [1002], 'one-byte close');
});

test('a close reason that is not UTF-8 closes with 1007 (or 1002)', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.CLOSE, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff, 0xfe])]) });
  await expectClose(c, [1007, 1002], 'bad close reason');
});

test('a frame header claiming 2^62 bytes closes with 1009 at once', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  const head = Buffer.alloc(14);
  head[0] = 0x82; // FIN, binary
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(2n ** 62n, 2);
  crypto.randomBytes(4).copy(head, 10);
  c.sendRaw(head);
  await expectClose(c, [1009], 'huge length');
});

test('a 64-bit length with the top bit set closes the connection (1002 or 1009)', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  const head = Buffer.alloc(14);
  head[0] = 0x82;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(2n ** 63n + 5n, 2);
  c.sendRaw(head);
  await expectClose(c, [1002, 1009], 'length with MSB set');
});

test('a text frame whose UTF-8 is cut at the end of the message closes with 1007', T, async (t) => {
  const p = await server(t);
  const c = await open(t, p);
  c.send({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xe2, 0x82]) }); // "a" + 2 of 3 bytes of "€"
  await expectClose(c, [1007], 'truncated UTF-8');
});

test('overlong and surrogate UTF-8 encodings close with 1007', T, async (t) => {
  const p = await server(t);
  for (const bad of [
    [0xc0, 0xaf], // overlong "/"
    [0xed, 0xa0, 0x80], // UTF-16 surrogate D800
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  ]) {
    const c = await open(t, p);
    c.send({ opcode: OP.TEXT, payload: Buffer.from(bad) });
    await expectClose(c, [1007], `bytes ${Buffer.from(bad).toString('hex')}`);
  }
});

test('the server keeps serving after protocol errors', T, async (t) => {
  const p = await server(t);
  for (let i = 0; i < 5; i++) {
    const c = await open(t, p);
    c.send({ opcode: 0x7, payload: 'bad' });
    await c.closed(3000).catch(() => {});
    c.sock.destroy();
  }
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('alive');
  assert.equal(await nextText(ws), 'alive');
  ws.close();
});

test('a client that vanishes mid-frame does not disturb others', T, async (t) => {
  const p = await server(t);
  const other = await openWs(`${p.wsUrl}/dev`);
  const c = await open(t, p);
  const half = Buffer.from([0x81, 0x80 | 126, 0x10, 0x00, 1, 2, 3, 4, 0x61, 0x62]); // claims 4096 bytes
  c.sendRaw(half);
  c.sock.destroy();
  other.send('unaffected');
  assert.equal(await nextText(other), 'unaffected');
  other.close();
});
