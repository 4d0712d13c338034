// Clients that misbehave or vanish must not hurt the server or the other clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { PostToConnectionCommand, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  startFor,
  echoConfig,
  openWs,
  nextText,
  closeEvent,
  connectionIdOf,
  mgmtClient,
  sdkError,
  encId,
  sleep,
  waitFor,
} from './lib/portico.mjs';

const T = { timeout: 30000 };

function rssMB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

test('a client that vanishes with messages queued for it is cleaned up', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { sendQueueBytes: 262144 } }));
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  ws._socket.pause();
  for (let i = 0; i < 200; i++) {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(64 * 1024, 0x61) }));
    } catch {
      break;
    }
  }
  ws.terminate(); // TCP reset with data queued both ways
  const gone = await waitFor(
    async () => {
      const e = await sdkError(client, new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') })).catch((err) => err);
      return e.name === 'GoneException' ? e : null;
    },
    { timeoutMs: 3000, what: 'the vanished connection to be Gone' },
  );
  assert.equal(gone.$metadata.httpStatusCode, 410);
  const other = await openWs(`${p.wsUrl}/dev`);
  other.send('fine');
  assert.equal(await nextText(other), 'fine');
  other.close();
});

test('a client flooding a two-way route without reading keeps the server bounded and responsive', T, async (t) => {
  const p = await startFor(t, echoConfig({ limits: { sendQueueBytes: 1048576 } }));
  const flooder = await openWs(`${p.wsUrl}/dev`);
  flooder._socket.pause(); // never reads the echoes
  const chunk = 'f'.repeat(64 * 1024);
  let sent = 0;
  for (; sent < 50 * 1024 * 1024 && flooder.readyState === flooder.OPEN; sent += chunk.length) {
    flooder.send(chunk);
    // Respect our own socket's backpressure so the test itself does not buffer 50 MB; when the
    // server has stopped reading (its answers to us wait unread), give up after a while.
    const since = Date.now();
    while (flooder.bufferedAmount > 4 * 1024 * 1024 && flooder.readyState === flooder.OPEN && Date.now() - since < 2000)
      await sleep(5);
    if (flooder.bufferedAmount > 4 * 1024 * 1024) break;
  }
  // Whatever the server did with the flooder (stopped reading from it, or closed it), other
  // clients are served promptly and its memory stays bounded.
  const other = await openWs(`${p.wsUrl}/dev`, { timeoutMs: 2000 });
  const t0 = Date.now();
  other.send('are you alive');
  assert.equal(await nextText(other, 2000), 'are you alive');
  assert.ok(Date.now() - t0 < 1000, `answer took ${Date.now() - t0} ms`);
  const rss = rssMB(p.proc.pid);
  assert.ok(rss < 150, `server RSS ${rss.toFixed(0)} MB after a 50 MB flood to a client that does not read`);
  other.close();
  flooder.terminate();
});

test('many connect/disconnect cycles leave nothing behind', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const ids = [];
  for (let round = 0; round < 10; round++) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => openWs(`${p.wsUrl}/dev`)));
    ids.push(await connectionIdOf(batch[0]));
    batch.forEach((ws, i) => (i % 2 ? ws.terminate() : ws.close()));
    await Promise.all(batch.map((ws) => closeEvent(ws, 3000)));
  }
  for (const id of ids) {
    const e = await waitFor(
      async () => {
        const err = await sdkError(client, new GetConnectionCommand({ ConnectionId: id })).catch((x) => x);
        return err.name === 'GoneException' ? err : null;
      },
      { timeoutMs: 2000, what: `connection ${id} to be Gone` },
    );
    assert.equal(e.$metadata.httpStatusCode, 410);
  }
  const ws = await openWs(`${p.wsUrl}/dev`);
  ws.send('after churn');
  assert.equal(await nextText(ws), 'after churn');
  ws.close();
});

test('a malformed id that is very long is a BadRequestException', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const longId = 'A'.repeat(2000);
  const err = await sdkError(client, new PostToConnectionCommand({ ConnectionId: longId, Data: Buffer.from('x') }));
  assert.equal(err.name, 'BadRequestException');
  assert.equal(err.$metadata.httpStatusCode, 400);
  // (the server may shorten a long id in the message)
  assert.ok(err.message.startsWith('Invalid connectionId: AAAA'), err.message.slice(0, 80));
});

test('GetConnection lastActiveAt moves forward when the client sends', T, async (t) => {
  const p = await startFor(t, echoConfig());
  const client = mgmtClient(p.port, '/dev');
  t.after(() => client.destroy());
  const ws = await openWs(`${p.wsUrl}/dev`);
  const id = await connectionIdOf(ws);
  const first = await client.send(new GetConnectionCommand({ ConnectionId: id }));
  await sleep(50);
  ws.send('activity');
  await nextText(ws);
  const second = await client.send(new GetConnectionCommand({ ConnectionId: id }));
  assert.ok(second.LastActiveAt.getTime() > first.LastActiveAt.getTime(), `${first.LastActiveAt.toISOString()} then ${second.LastActiveAt.toISOString()}`);
  assert.equal(second.ConnectedAt.getTime(), first.ConnectedAt.getTime());
  ws.close();
});

test('the management API answers over a unix socket listener (managementAuth NONE)', T, async (t) => {
  const p = await startFor(t, echoConfig({ listen: [{ unixSocket: 'auto' }], api: { managementAuth: 'NONE' } }));
  const sock = p.listen[0].unixSocket;
  const ws = await openWs(`ws+unix://${sock}:/dev`);
  const id = await connectionIdOf(ws);
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method: 'POST', path: `/dev/@connections/${encId(id)}` }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end('over the unix socket');
  });
  assert.equal(status, 200);
  assert.equal(await nextText(ws), 'over the unix socket');
  ws.close();
});
