// Channels (SPEC sections 3 and 5, beyond AWS): the CHANNEL integration's subscribe,
// unsubscribe and publish routes, and the management calls PUT/DELETE
// @connections/{id}/channels/{name}, POST/GET @channels/{name} and GET @connections.
// Fan-out to hundreds of real `ws` clients loses nothing and keeps each channel's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  echoConfig,
  startFor,
  openWs,
  nextJson,
  nextMessage,
  noMessageWithin,
  pending,
  track,
  closeEvent,
  connectionIdOf,
  signedRequest,
  waitFor,
  encId,
} from './lib/portico.mjs';

const T = { timeout: 60000 };

/** A WebSocket API with CHANNEL routes (and the echo/whoami routes of wsApi). */
function channelsConfig(over = {}) {
  return echoConfig({
    ...over,
    api: {
      integrations: {
        sub: { type: 'CHANNEL', action: 'subscribe', channel: '$request.body.channel' },
        unsub: { type: 'CHANNEL', action: 'unsubscribe', channel: '$request.body.channel' },
        pub: { type: 'CHANNEL', action: 'publish', channel: '$request.body.channel' },
        pubData: { type: 'CHANNEL', action: 'publish', channel: '$request.body.channel', message: '$request.body.data' },
        pubFrom: { type: 'CHANNEL', action: 'publish', channel: 'room-$request.body.room', message: '{"from":"$context.connectionId","text":"$request.body.text"}' },
        pubBinary: { type: 'CHANNEL', action: 'publish', channel: 'binary' },
      },
      routes: {
        sub: { integration: 'sub', routeResponse: true },
        unsub: { integration: 'unsub', routeResponse: true },
        pub: { integration: 'pub', routeResponse: true },
        pubQuiet: { integration: 'pub' },
        pubData: { integration: 'pubData', routeResponse: true },
        pubFrom: { integration: 'pubFrom', routeResponse: true },
        // Binary frames are not JSON: they go to $default, which publishes them to "binary".
        $default: { integration: 'pubBinary', routeResponse: true },
      },
    },
  });
}

const url = (p) => `${p.wsUrl}/dev`;
const mgmt = (p, method, path, body) => signedRequest(p.port, method, `/dev${path}`, body);
const publish = (p, channel, body) => mgmt(p, 'POST', `/@channels/${encodeURIComponent(channel)}`, body);
const presence = async (p, channel) => {
  const r = await mgmt(p, 'GET', `/@channels/${encodeURIComponent(channel)}`);
  assert.equal(r.status, 200, `GET @channels/${channel}: ${r.status} ${r.text}`);
  return JSON.parse(r.text);
};

/** Sends {"action":"sub","channel":name} and expects {"subscribed":name}. */
async function subscribe(ws, channel) {
  ws.send(JSON.stringify({ action: 'sub', channel }));
  assert.deepEqual(await nextJson(ws), { subscribed: channel });
}

async function subscribers(p, n, channel) {
  const all = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async () => {
        const ws = await openWs(url(p));
        await subscribe(ws, channel);
        return ws;
      }),
    );
    all.push(...batch);
  }
  return all;
}

/** Waits until every socket has received `count` messages (not consumed yet). */
async function allReceived(sockets, count, timeoutMs = 30000) {
  await waitFor(() => sockets.every((ws) => track(ws).queue.length >= count), {
    timeoutMs,
    intervalMs: 50,
    what: `${count} messages on each of ${sockets.length} sockets (fewest: ${Math.min(...sockets.map((ws) => track(ws).queue.length))})`,
  });
}

/** Takes every received message of ws as text. */
const drain = (ws) => track(ws).queue.splice(0).map((m) => m.text);

/** Asserts every socket got exactly `want`, naming the first one that did not. */
function assertEvery(sockets, want) {
  sockets.forEach((ws, i) => {
    const got = drain(ws);
    if (got.length !== want.length || got.some((t, k) => t !== want[k])) {
      const k = got.findIndex((t, j) => t !== want[j]);
      assert.fail(`subscriber ${i}: ${got.length} messages (want ${want.length}); first difference at ${k}: got ${JSON.stringify(got[k])}, want ${JSON.stringify(want[k])}`);
    }
  });
}

function closeAll(sockets) {
  for (const ws of sockets) ws.terminate();
}

test('300 subscribers each get all 200 management publishes and 200 route publishes, in order', { timeout: 120000 }, async (t) => {
  const p = await startFor(t, channelsConfig());
  const subs = await subscribers(p, 300, 'fan');
  t.after(() => closeAll(subs));
  assert.equal((await presence(p, 'fan')).count, 300);

  // Through the management API, one after the other.
  const want = [];
  for (let i = 0; i < 200; i++) {
    const body = `mgmt ${i}`;
    want.push(body);
    const r = await publish(p, 'fan', body);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { delivered: 300 });
  }
  // Through a CHANNEL publish route: 200 messages sent at once by one client.
  const pub = await openWs(url(p));
  t.after(() => pub.terminate());
  const frames = [];
  for (let i = 0; i < 200; i++) {
    const m = JSON.stringify({ action: 'pub', channel: 'fan', seq: i });
    frames.push(m);
    want.push(m);
  }
  for (const m of frames) pub.send(m);
  for (let i = 0; i < 200; i++) assert.deepEqual(await nextJson(pub, 10000), { delivered: 300 }, `route publish ${i}`);

  await allReceived(subs, 400);
  assertEvery(subs, want);
  assert.ok(subs.every((ws) => pending(ws).length === 0));
});

test('two channels published in turn each keep their own order; a subscriber of both sees the interleaving', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const [onlyX, onlyY, both, pub] = await Promise.all([openWs(url(p)), openWs(url(p)), openWs(url(p)), openWs(url(p))]);
  t.after(() => closeAll([onlyX, onlyY, both, pub]));
  await subscribe(onlyX, 'x');
  await subscribe(onlyY, 'y');
  await subscribe(both, 'x');
  await subscribe(both, 'y');

  const wantX = [];
  const wantY = [];
  const wantBoth = [];
  let routeSent = 0;
  for (let i = 0; i < 100; i++) {
    for (const ch of ['x', 'y']) {
      const data = `${ch}-${i}`;
      (ch === 'x' ? wantX : wantY).push(data);
      wantBoth.push(data);
      // Odd rounds through the route (the message's `data` only), even ones through the
      // management API, after the route publishes before it are answered (so the order is
      // well defined).
      if (i % 2) {
        pub.send(JSON.stringify({ action: 'pubData', channel: ch, data }));
        routeSent++;
      } else {
        await waitFor(() => track(pub).queue.length >= routeSent, { what: `${routeSent} route publishes answered` });
        const r = await publish(p, ch, data);
        assert.deepEqual(JSON.parse(r.text), { delivered: 2 });
      }
    }
  }
  await allReceived([onlyX, onlyY], 100);
  await allReceived([both], 200);
  assertEvery([onlyX], wantX);
  assertEvery([onlyY], wantY);
  assertEvery([both], wantBoth);
  await waitFor(() => track(pub).queue.length === 100, { what: '100 answers to the route publishes' });
  assert.ok(drain(pub).every((m) => m === '{"delivered":2}'));
});

test('unsubscribing (route or management DELETE) stops delivery; PUT subscribes', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const [a, b, c] = await Promise.all([openWs(url(p)), openWs(url(p)), openWs(url(p))]);
  t.after(() => closeAll([a, b, c]));
  await subscribe(a, 'news');
  await subscribe(b, 'news');
  const idB = await connectionIdOf(b);
  const idC = await connectionIdOf(c);

  assert.deepEqual(JSON.parse((await publish(p, 'news', 'one')).text), { delivered: 2 });
  assert.equal((await nextMessage(a)).text, 'one');
  assert.equal((await nextMessage(b)).text, 'one');

  a.send(JSON.stringify({ action: 'unsub', channel: 'news' }));
  assert.deepEqual(await nextJson(a), { unsubscribed: 'news' });
  assert.deepEqual(JSON.parse((await publish(p, 'news', 'two')).text), { delivered: 1 });
  assert.equal((await nextMessage(b)).text, 'two');
  assert.ok(await noMessageWithin(a, 300), 'an unsubscribed connection still got a message');

  // Management: DELETE b, PUT c.
  const del = await mgmt(p, 'DELETE', `/@connections/${encId(idB)}/channels/news`);
  assert.equal(del.status, 204, del.text);
  const put = await mgmt(p, 'PUT', `/@connections/${encId(idC)}/channels/news`);
  assert.equal(put.status, 204, put.text);
  // Subscribing twice is one subscription.
  assert.equal((await mgmt(p, 'PUT', `/@connections/${encId(idC)}/channels/news`)).status, 204);
  assert.deepEqual(JSON.parse((await publish(p, 'news', 'three')).text), { delivered: 1 });
  assert.equal((await nextMessage(c)).text, 'three');
  assert.ok(await noMessageWithin(b, 300), 'a connection unsubscribed by DELETE still got a message');
  assert.ok(await noMessageWithin(a, 0));
  assert.deepEqual((await presence(p, 'news')).connections, [idC]);

  // Unsubscribing from a channel one is not in, and publishing to a channel nobody is in.
  a.send(JSON.stringify({ action: 'unsub', channel: 'nobody-here' }));
  assert.deepEqual(await nextJson(a), { unsubscribed: 'nobody-here' });
  assert.deepEqual(JSON.parse((await publish(p, 'nobody-here', 'x')).text), { delivered: 0 });
});

test('presence: the count and the ids of the subscribers', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const socks = await Promise.all(Array.from({ length: 5 }, () => openWs(url(p))));
  t.after(() => closeAll(socks));
  const ids = [];
  for (const ws of socks) ids.push(await connectionIdOf(ws));
  for (const ws of socks.slice(0, 3)) await subscribe(ws, 'lobby');
  await subscribe(socks[3], 'other');

  const lobby = await presence(p, 'lobby');
  assert.equal(lobby.count, 3);
  assert.deepEqual([...lobby.connections].sort(), ids.slice(0, 3).sort());
  assert.deepEqual(await presence(p, 'other'), { count: 1, connections: [ids[3]] });
  assert.deepEqual(await presence(p, 'empty'), { count: 0, connections: [] });

  // The route's answer names the channel as the template made it; `from` is set by Portico.
  socks[4].send(JSON.stringify({ action: 'sub', channel: 'room-blue' }));
  assert.deepEqual(await nextJson(socks[4]), { subscribed: 'room-blue' });
  socks[0].send(JSON.stringify({ action: 'pubFrom', room: 'blue', text: 'hi' }));
  assert.deepEqual(await nextJson(socks[0]), { delivered: 1 });
  assert.deepEqual(await nextJson(socks[4]), { from: ids[0], text: 'hi' });
});

test('GET @connections pages through every connection exactly once with limit and next', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const socks = await Promise.all(Array.from({ length: 23 }, () => openWs(url(p))));
  t.after(() => closeAll(socks));
  const ids = [];
  for (const ws of socks) ids.push(await connectionIdOf(ws));

  for (const limit of [1, 5, 7, 23, 100]) {
    const seen = [];
    let next = null;
    let pages = 0;
    do {
      const q = `?limit=${limit}${next !== null ? `&next=${encodeURIComponent(next)}` : ''}`;
      const r = await mgmt(p, 'GET', `/@connections${q}`);
      assert.equal(r.status, 200, r.text);
      const page = JSON.parse(r.text);
      assert.ok(Array.isArray(page.connections));
      assert.ok(page.connections.length <= limit, `limit ${limit}: a page of ${page.connections.length}`);
      seen.push(...page.connections);
      next = page.next ?? null;
      assert.ok(++pages <= 30, 'too many pages');
    } while (next !== null);
    assert.equal(seen.length, ids.length, `limit ${limit}: ${seen.length} ids for ${ids.length} connections`);
    assert.deepEqual([...seen].sort(), [...ids].sort(), `limit ${limit}`);
    if (limit >= ids.length && limit !== ids.length) assert.equal(pages, 1);
  }
  // Without a limit: all of them (fewer than the default page).
  const all = JSON.parse((await mgmt(p, 'GET', '/@connections')).text);
  assert.deepEqual([...all.connections].sort(), [...ids].sort());
  assert.equal(all.next, undefined);
  // Bad limits.
  for (const q of ['?limit=0', '?limit=abc', '?limit=1001', '?next=-1']) {
    const r = await mgmt(p, 'GET', `/@connections${q}`);
    assert.equal(r.status, 400, `${q}: ${r.status} ${r.text}`);
    assert.equal(r.headers['x-amzn-errortype'], 'BadRequestException');
  }
});

test('a closed connection leaves its channels: presence drops it and publishes skip it', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const [a, b, c] = await Promise.all([openWs(url(p)), openWs(url(p)), openWs(url(p))]);
  t.after(() => closeAll([a, b, c]));
  const idA = await connectionIdOf(a);
  for (const ws of [a, b, c]) {
    await subscribe(ws, 'room');
    await subscribe(ws, 'second');
  }
  assert.equal((await presence(p, 'room')).count, 3);

  b.close(1000, 'bye'); // a clean close
  c.terminate(); // the TCP connection just drops
  await waitFor(async () => (await presence(p, 'room')).count === 1, { what: 'presence to drop the closed connections' });
  assert.deepEqual(await presence(p, 'room'), { count: 1, connections: [idA] });
  assert.deepEqual(await presence(p, 'second'), { count: 1, connections: [idA] });
  assert.deepEqual(JSON.parse((await publish(p, 'room', 'still here?')).text), { delivered: 1 });
  assert.equal((await nextMessage(a)).text, 'still here?');

  // The listing no longer has them either.
  const list = JSON.parse((await mgmt(p, 'GET', '/@connections')).text);
  assert.deepEqual(list.connections, [idA]);
});

test('a slow subscriber is closed with 1008 after its queued messages; the others get everything', { timeout: 90000 }, async (t) => {
  const p = await startFor(t, channelsConfig({ limits: { sendQueueBytes: 262144 } }));
  const fast = await subscribers(p, 4, 'firehose');
  const slow = await openWs(url(p));
  t.after(() => closeAll([...fast, slow]));
  await subscribe(slow, 'firehose');
  const slowId = await connectionIdOf(slow);
  // Stop reading: the kernel's buffers fill, then Portico's queue for it.
  slow.pause();

  const pad = 'x'.repeat(64 * 1024 - 32);
  const want = [];
  let cutAt = -1;
  for (let i = 0; i < 300 && (cutAt < 0 || i < cutAt + 20); i++) {
    const body = `${String(i).padStart(6, '0')}:${pad}`;
    want.push(body);
    const r = await publish(p, 'firehose', body);
    assert.equal(r.status, 200, r.text);
    const { delivered } = JSON.parse(r.text);
    if (delivered < 5 && cutAt < 0) cutAt = i;
    assert.ok(delivered >= 4, `message ${i}: delivered to ${delivered}`);
    // Let the fast ones keep up (they read as fast as they can; this bounds memory).
    if (i % 20 === 19) await allReceived(fast, i + 1);
  }
  assert.ok(cutAt >= 0, `the paused subscriber was never cut off after ${want.length} messages of 64 KB (sendQueueBytes 262144)`);

  await allReceived(fast, want.length);
  for (const ws of fast) {
    const got = drain(ws);
    assert.equal(got.length, want.length);
    got.forEach((m, i) => assert.ok(m === want[i], `a fast subscriber's message ${i} differs`));
  }
  // Presence no longer lists it, even before it reads anything.
  await waitFor(async () => !(await presence(p, 'firehose')).connections.includes(slowId), { what: 'presence to drop the slow subscriber' });

  // Reading again: everything queued before the cut arrives, in order, then the close.
  slow.resume();
  const closed = await closeEvent(slow, 20000);
  assert.equal(closed.code, 1008, `close ${closed.code} ${closed.reason}`);
  const got = drain(slow);
  assert.ok(got.length > 0, 'the slow subscriber got nothing before its close');
  assert.ok(got.length <= cutAt, `the slow subscriber got ${got.length} messages, the cut came at message ${cutAt}`);
  got.forEach((m, i) => assert.ok(m === want[i], `the slow subscriber's message ${i} is not message ${i}: ${m.slice(0, 12)}`));
  const gone = await mgmt(p, 'GET', `/@connections/${encId(slowId)}`);
  assert.equal(gone.status, 410);
});

test('PUT or DELETE a subscription of a connection that is gone: 410', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const ws = await openWs(url(p));
  const id = await connectionIdOf(ws);
  ws.close();
  await closeEvent(ws);
  await waitFor(async () => (await mgmt(p, 'GET', `/@connections/${encId(id)}`)).status === 410, { what: 'the connection to be gone' });
  for (const method of ['PUT', 'DELETE']) {
    const r = await mgmt(p, method, `/@connections/${encId(id)}/channels/room`);
    assert.equal(r.status, 410, `${method}: ${r.status} ${r.text}`);
    assert.equal(r.headers['x-amzn-errortype'], 'GoneException');
  }
  assert.deepEqual(await presence(p, 'room'), { count: 0, connections: [] });
});

/** Management calls on a channel name: [method, path] for publish, presence, subscribe, unsubscribe. */
const nameCalls = (id, enc) => [
  ['POST', `/@channels/${enc}`],
  ['GET', `/@channels/${enc}`],
  ['PUT', `/@connections/${encId(id)}/channels/${enc}`],
  ['DELETE', `/@connections/${encId(id)}/channels/${enc}`],
];

async function expectBadName(p, method, path) {
  const r = await mgmt(p, method, path, method === 'POST' ? 'x' : undefined);
  assert.equal(r.status, 400, `${method} ${path}: ${r.status} ${r.headers['x-amzn-errortype']} ${r.text}`);
  assert.equal(r.headers['x-amzn-errortype'], 'BadRequestException', `${method} ${path}`);
  assert.deepEqual(JSON.parse(r.text), { message: 'Invalid channel name' });
}

test("channel names with '/', spaces or control characters are refused with 400", T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const ws = await openWs(url(p));
  t.after(() => ws.terminate());
  const id = await connectionIdOf(ws);
  for (const bad of ['a b', 'a/b', '/', ' ', 'tab\there', 'x'.repeat(300)]) {
    for (const [method, path] of nameCalls(id, encodeURIComponent(bad))) {
      // PUT/DELETE of a subscription to a name with '/': see the next test.
      if (bad.includes('/') && path.includes('/channels/')) continue;
      await expectBadName(p, method, path);
    }
    // From a CHANNEL route: the client is told, and the connection stays open.
    for (const action of ['sub', 'unsub', 'pub']) {
      ws.send(JSON.stringify({ action, channel: bad }));
      assert.deepEqual(await nextJson(ws), { message: 'Invalid channel name' }, `${action} ${JSON.stringify(bad)}`);
    }
  }
  // No name at all (nothing at that path of the message) is no channel either.
  ws.send(JSON.stringify({ action: 'sub' }));
  assert.deepEqual(await nextJson(ws), { message: 'Invalid channel name' });
  // Still open and working; other punctuation is fine.
  await subscribe(ws, 'fine.name_with-dots:colons@at');
  assert.equal((await presence(p, 'fine.name_with-dots:colons@at')).count, 1);
  assert.deepEqual(await presence(p, 'x'.repeat(200)), { count: 0, connections: [] }, 'a 200-byte name is allowed');
});

test("subscribing or unsubscribing by PUT/DELETE to a channel name with '/' (%2F) is 400, as publishing is", T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const ws = await openWs(url(p));
  t.after(() => ws.terminate());
  const id = await connectionIdOf(ws);
  for (const [method, path] of nameCalls(id, encodeURIComponent('a/b'))) await expectBadName(p, method, path);
});

test('binary data published (management POST or a binary frame) arrives as binary', T, async (t) => {
  const p = await startFor(t, channelsConfig());
  const [sub, sender] = await Promise.all([openWs(url(p)), openWs(url(p))]);
  t.after(() => closeAll([sub, sender]));
  await subscribe(sub, 'binary');

  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41, 0x00, 0xc3, 0x28, 0x7f, 0x01]);
  const r = await publish(p, 'binary', bytes);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { delivered: 1 });
  let m = await nextMessage(sub);
  assert.equal(m.isBinary, true, 'published invalid UTF-8 arrived as text');
  assert.deepEqual(m.data, bytes);

  // Valid UTF-8 is text.
  await publish(p, 'binary', Buffer.from('héllo', 'utf8'));
  m = await nextMessage(sub);
  assert.equal(m.isBinary, false);
  assert.equal(m.text, 'héllo');

  // A binary frame through the CHANNEL route ($default publishes to "binary").
  const big = Buffer.alloc(70000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  sender.send(big, { binary: true });
  assert.deepEqual(await nextJson(sender), { delivered: 1 });
  m = await nextMessage(sub);
  assert.equal(m.isBinary, true, 'a binary frame arrived as text');
  assert.ok(m.data.equals(big), 'the binary message differs');
});
