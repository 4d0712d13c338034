// The chat and ticker samples in a real browser: headless Chromium (Debian's package) driven by
// playwright-core, against the real ./portico serving the sample's page (STATIC) and its
// WebSocket API (CHANNEL routes). Also takes the README's screenshots (docs/images/*.png).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, startPortico, startFor, freePort, httpRequest, signedRequest, sleep, waitFor } from './lib/portico.mjs';
import { browser, closeBrowser, sampleConfig, IMAGES } from './lib/browser.mjs';

const T = { timeout: 90000 };
after(closeBrowser);

/* ---- The chat page ---- */

async function joinChat(page, base, name, room = 'lobby') {
  await page.goto(`${base}/`);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('connected'));
  // Joined: the page lists itself.
  await page.waitForFunction(() => document.querySelector('#presence li.me') !== null);
}

/** The names in the page's presence list. */
const presence = (page) => page.$$eval('#presence li', (lis) => lis.map((li) => li.dataset.user));

/** Waits until the presence list holds exactly these names (in any order). */
async function waitPresence(page, names, timeout = 15000) {
  const want = [...names].sort();
  try {
    await page.waitForFunction(
      (w) => {
        const got = [...document.querySelectorAll('#presence li')].map((li) => li.dataset.user).sort();
        return JSON.stringify(got) === JSON.stringify(w);
      },
      want,
      { timeout },
    );
  } catch (e) {
    throw new Error(`presence list: expected ${JSON.stringify(want)}, got ${JSON.stringify(await presence(page))} (${e.message.split('\n')[0]})`);
  }
}

/** The messages shown: [{user, text, mine}]. */
const messages = (page) =>
  page.$$eval('#messages li.msg', (lis) =>
    lis.map((li) => ({ user: li.querySelector('.user').textContent, text: li.querySelector('.text').textContent, mine: li.classList.contains('mine') })),
  );

async function waitMessage(page, text, timeout = 15000) {
  try {
    await page.waitForFunction((t) => [...document.querySelectorAll('#messages li.msg .text')].some((el) => el.textContent === t), text, { timeout });
  } catch (e) {
    const got = (await messages(page)).map((m) => `${m.user}: ${m.text.slice(0, 60)}${m.text.length > 60 ? `… (${m.text.length} chars)` : ''}`);
    throw new Error(`message ${JSON.stringify(text.slice(0, 60))} (${text.length} chars) did not appear; shown: ${JSON.stringify(got)} (${e.message.split('\n')[0]})`);
  }
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

function noPageErrors(...pages) {
  for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors in ${p.url()}`);
}

async function startChat(t, port = 'auto') {
  return startFor(t, sampleConfig('chat', port));
}

test('chat: the page is served by STATIC with its content type', T, async (t) => {
  const p = await startChat(t);
  const r = await httpRequest({ port: p.port, path: '/' });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html/);
  const js = await httpRequest({ port: p.port, path: '/chat.js' });
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /javascript/);
});

test('chat: two pages talk and each sees the other in the presence list', T, async (t) => {
  const p = await startChat(t);
  const b = await browser();
  const ada = await b.newPage();
  const grace = await b.newPage();
  t.after(() => Promise.all([ada.close(), grace.close()]));

  await joinChat(ada, p.baseUrl, 'Ada');
  await joinChat(grace, p.baseUrl, 'Grace');
  await waitPresence(ada, ['Ada', 'Grace']);
  await waitPresence(grace, ['Ada', 'Grace']);
  assert.equal(await ada.textContent('#presence-count'), '2');
  assert.equal(await ada.textContent('#presence li.me'), 'Ada (you)');

  // Portico agrees: two subscribers of the channel "lobby".
  const pres = await httpRequest({ port: p.port, path: '/ws/chat/@channels/lobby' });
  assert.equal(pres.status, 200, pres.text);
  assert.equal(JSON.parse(pres.text).count, 2, pres.text);

  const lines = [
    [ada, 'Hi Grace! This room has no backend at all.'],
    [grace, 'Nice. Who keeps the room then?'],
    [ada, 'Portico: a CHANNEL route subscribes us, another publishes to everyone in it.\nThe page itself comes from a STATIC route.'],
    [grace, 'And who is here?'],
    [ada, 'Each page says hello; the others answer ✓'],
  ];
  for (const [from, text] of lines) {
    await say(from, text);
    await waitMessage(ada, text);
    await waitMessage(grace, text);
  }
  const you = (page) => (page === ada ? 'Ada' : 'Grace');
  for (const page of [ada, grace]) {
    assert.deepEqual(
      await messages(page),
      lines.map(([from, text]) => ({ user: from === page ? 'you' : you(from), text, mine: from === page })),
    );
  }
  noPageErrors(ada, grace);
  await fsp.mkdir(IMAGES, { recursive: true });
  await ada.screenshot({ path: path.join(IMAGES, 'chat.png') });

  // Leaving says bye: the other page drops the name at once.
  await grace.click('#leave');
  await waitPresence(ada, ['Ada']);
});

test('chat: names and messages are shown as text, never as HTML', T, async (t) => {
  const p = await startChat(t);
  const b = await browser();
  const one = await b.newPage();
  const two = await b.newPage();
  t.after(() => Promise.all([one.close(), two.close()]));
  const evil = '<b>Bob</b><img src=x>';
  await joinChat(one, p.baseUrl, evil, 'escape');
  await joinChat(two, p.baseUrl, 'Alice', 'escape');
  await waitPresence(two, ['Alice', evil]);
  const html = '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> & &amp; friends';
  await say(one, html);
  await waitMessage(two, html);
  assert.deepEqual(await messages(two), [{ user: evil, text: html, mine: false }]);
  for (const page of [one, two]) {
    assert.equal(await page.evaluate(() => document.querySelectorAll('#messages img, #messages script, #presence b, #presence img').length), 0, 'user text became HTML');
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  }
  noPageErrors(one, two);
});

test('chat: a 60 KB message sent from the browser arrives whole in the other page', T, async (t) => {
  const p = await startChat(t);
  const b = await browser();
  const one = await b.newPage();
  const two = await b.newPage();
  t.after(() => Promise.all([one.close(), two.close()]));
  await joinChat(one, p.baseUrl, 'sender', 'big');
  await joinChat(two, p.baseUrl, 'receiver', 'big');
  await waitPresence(one, ['sender', 'receiver']);

  // 60 KB of text with a line number on every line (so a lost or repeated piece shows), some
  // characters JSON escapes and some that take several bytes in UTF-8.
  let text = '';
  for (let i = 0; Buffer.byteLength(text) < 60 * 1024 - 100; i++) text += `line ${String(i).padStart(5, '0')} "quoted" \\ tab\t é ✓ ${'x'.repeat(20)}\n`;
  text = `${text}end.`;
  assert.ok(Buffer.byteLength(text) >= 59 * 1024 && Buffer.byteLength(text) <= 61 * 1024, `${Buffer.byteLength(text)} bytes`);

  // Put in as a paste would (typing 60 KB key by key into a textarea takes Chromium seconds).
  await one.$eval('#text', (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
  await one.click('#send');
  await waitMessage(two, text, 20000);
  const got = await two.$$eval('#messages li.msg .text', (els) => els.map((el) => el.textContent));
  assert.equal(got.length, 1);
  assert.equal(got[0].length, text.length);
  assert.ok(got[0] === text, 'the text differs from what was sent');
  noPageErrors(one, two);
});

test('chat: the page reconnects by itself after Portico restarts', T, async (t) => {
  const port = await freePort();
  const config = sampleConfig('chat', port);
  let p = await startPortico(config);
  t.after(() => p.stop('SIGKILL'));
  const b = await browser();
  const ada = await b.newPage();
  const linus = await b.newPage();
  t.after(() => Promise.all([ada.close(), linus.close()]));
  await joinChat(ada, p.baseUrl, 'Ada', 'ops');
  await joinChat(linus, p.baseUrl, 'Linus', 'ops');
  await waitPresence(ada, ['Ada', 'Linus']);
  const idBefore = await ada.textContent('#conn-id');

  await p.stop('SIGTERM');
  for (const page of [ada, linus]) {
    await page.waitForFunction(() => document.querySelector('#status').classList.contains('reconnecting'), null, { timeout: 10000 });
    assert.equal(await page.isDisabled('#send'), true, 'sending is off while disconnected');
  }

  // Same port again, a new process: the pages come back without a reload.
  await sleep(300);
  p = await startPortico(config);
  for (const page of [ada, linus]) {
    await page.waitForFunction(() => document.querySelector('#status').classList.contains('connected'), null, { timeout: 20000 });
  }
  await waitPresence(ada, ['Ada', 'Linus']);
  await waitPresence(linus, ['Ada', 'Linus']);
  const idAfter = await waitFor(async () => {
    const id = await ada.textContent('#conn-id');
    return id !== idBefore && id;
  }, { what: 'a new connection id', timeoutMs: 5000 });
  assert.notEqual(idAfter, idBefore);

  await say(linus, 'back after the restart');
  await waitMessage(ada, 'back after the restart');
  noPageErrors(ada, linus);
});

/* ---- The ticker page ---- */

function startPublisher(t, port, env = {}) {
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'samples', 'ticker', 'publisher.mjs')], {
    env: { ...process.env, PORTICO_ENDPOINT: `http://127.0.0.1:${port}/ws/live`, RATE: '8', DURATION: '60', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  proc.stdout.setEncoding('utf8').on('data', (d) => out.push(d));
  proc.stderr.setEncoding('utf8').on('data', (d) => out.push(d));
  const exited = new Promise((r) => proc.once('exit', r));
  t.after(async () => {
    proc.kill('SIGKILL');
    await exited;
  });
  return { proc, output: () => out.join('') };
}

test('ticker: the chart and the last price move while the publisher runs', T, async (t) => {
  const p = await startFor(t, sampleConfig('ticker'));
  const b = await browser();
  const page = await b.newPage();
  t.after(() => page.close());
  await page.goto(`${p.baseUrl}/`);
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('connected'));
  // Subscribed before the publisher starts (the sample's management API wants SigV4).
  await waitFor(async () => JSON.parse((await signedRequest(p.port, 'GET', '/ws/live/@channels/prices')).text).count === 1, {
    what: 'the page to subscribe to "prices"',
    timeoutMs: 5000,
  });
  const pub = startPublisher(t, p.port);

  const updates = async () => Number(await page.textContent('#updates'));
  const chart = () => page.evaluate(() => document.querySelector('#chart').toDataURL());
  try {
    await page.waitForFunction(() => Number(document.querySelector('#updates').textContent) >= 3, null, { timeout: 15000 });
  } catch (e) {
    throw new Error(`no updates on the page: ${e.message.split('\n')[0]}\npublisher: ${pub.output()}`);
  }
  const prices = new Set();
  const charts = new Set();
  const first = await updates();
  const deadline = Date.now() + 15000;
  while ((prices.size < 3 || charts.size < 3) && Date.now() < deadline) {
    prices.add(await page.textContent('#last-price'));
    charts.add(await chart());
    await sleep(250);
  }
  assert.ok(prices.size >= 3, `the last price did not change: ${[...prices].join(', ')}`);
  assert.ok(charts.size >= 3, 'the chart did not change');
  assert.ok((await updates()) > first, 'the update counter did not move');
  assert.ok(/^\d+\.\d\d$/.test(await page.textContent('#last-price')));
  assert.ok((await page.$$('#cards .card')).length >= 2, 'one card per symbol');

  // A few seconds of history for the README's picture.
  await page.waitForFunction((n) => Number(document.querySelector('#updates').textContent) >= n, first + 30, { timeout: 20000 });
  await fsp.mkdir(IMAGES, { recursive: true });
  await page.screenshot({ path: path.join(IMAGES, 'ticker.png'), fullPage: true });
  noPageErrors(page);
});
