// The admin listener's /dashboard (SPEC section 3) in a real browser: headless Chromium (Debian's
// package) driven by playwright-core. The page asks for the admin token, then graphs /metrics
// live: the numbers follow real traffic. Also takes the README's screenshot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startFor, freePort, echoConfig, openWs, nextText, httpRequest, mock, waitFor } from './lib/portico.mjs';
import { browser, closeBrowser, IMAGES } from './lib/browser.mjs';

const T = { timeout: 90000 };
const TOKEN = 'dashboard-token-for-tests';
after(closeBrowser);

test('the dashboard asks for the admin token, then graphs live traffic from /metrics', T, async (t) => {
  const adminPort = await freePort();
  const cfg = echoConfig({ admin: { host: '127.0.0.1', port: adminPort, token: TOKEN } });
  cfg.apis.push({
    name: 'shop',
    protocolType: 'HTTP',
    basePath: '/shop',
    stages: { $default: {} },
    integrations: { ok: mock('ok', 200) },
    routes: { 'GET /items': { integration: 'ok' } },
  });
  const p = await startFor(t, cfg);
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitFor(async () => (await fetch(`${admin}/dashboard`).catch(() => ({}))).status === 200, { what: 'the dashboard' });
  const raw = await fetch(`${admin}/dashboard`);
  assert.match(raw.headers.get('content-type'), /^text\/html/);
  assert.equal((await fetch(`${admin}/metrics`)).status, 401, 'the data behind it still needs the token');

  const b = await browser();
  const page = await b.newPage();
  await page.goto(`${admin}/dashboard`);
  await page.waitForSelector('#login', { state: 'visible' });
  await page.fill('#token', TOKEN);
  await page.click('#login button');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'live');

  // Traffic while the page watches: open connections, messages, HTTP requests.
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await openWs(`${p.wsUrl}/dev`));
  const stop = Date.now() + 6000;
  let n = 0;
  while (Date.now() < stop) {
    await httpRequest({ port: p.port, path: '/shop/items' });
    const ws = clients[n++ % clients.length];
    ws.send(`m${n}`);
    assert.equal(await nextText(ws), `m${n}`);
  }
  await page.waitForFunction(() => Number(document.querySelector('#card-connections').dataset.value) === 4, null, { timeout: 10000 });
  await page.waitForFunction(() => Number(document.querySelector('#card-requests').dataset.value) > 0, null, { timeout: 10000 });
  await page.waitForFunction(() => Number(document.querySelector('#card-messages').dataset.value) > 0, null, { timeout: 10000 });
  const rows = await page.$$eval('#routes tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const items = rows.find((r) => r[0] === 'shop / $default / GET /items');
  assert.ok(items, `no row for GET /items in ${JSON.stringify(rows)}`);
  assert.ok(Number(items[1]) >= 10, `requests for GET /items: ${items[1]}`);
  assert.deepEqual(page.errors, []);
  await page.screenshot({ path: path.join(IMAGES, 'dashboard.png'), fullPage: true });
  for (const ws of clients) ws.close();
  await page.close();
});
