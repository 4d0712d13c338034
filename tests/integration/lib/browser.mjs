// Browser helpers: headless Chromium (Debian's chromium package, never a downloaded browser)
// driven by playwright-core, and the samples started the way the browser tests need them.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './portico.mjs';

export const CHROMIUM = process.env.PORTICO_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or null when they can. */
export function browserMissing() {
  if (!fs.existsSync(CHROMIUM)) {
    return `${CHROMIUM} is missing: the browser tests need Debian's chromium package (tools/install-deps.sh --tests installs it, or apt-get install -y chromium)`;
  }
  return null;
}

let launched = null;

/**
 * One headless Chromium per test file, with a fresh user data dir: resolves
 * {context, newPage(), close()}. Rejects with a clear message when Chromium or playwright-core
 * is missing. Every page's uncaught errors are recorded in page.errors.
 */
export function browser() {
  if (launched) return launched;
  launched = (async () => {
    const missing = browserMissing();
    if (missing) throw new Error(missing);
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch (e) {
      throw new Error(`playwright-core is not installed (run npm ci in tests/integration): ${e.message}`);
    }
    const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portico-chromium-'));
    let context;
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1000, height: 620 },
        timeout: 30000,
      });
    } catch (e) {
      await fsp.rm(userDataDir, { recursive: true, force: true });
      throw new Error(`Chromium (${CHROMIUM}) did not start: ${e.message}`);
    }
    // A persistent context opens with one blank page; tests make their own.
    for (const p of context.pages()) await p.close();
    return {
      context,
      async newPage() {
        const page = await context.newPage();
        page.errors = [];
        page.on('pageerror', (err) => page.errors.push(err.message));
        page.setDefaultTimeout(15000);
        return page;
      },
      async close() {
        await context.close().catch(() => {});
        await fsp.rm(userDataDir, { recursive: true, force: true });
      },
    };
  })();
  return launched;
}

/** Closes the browser if one was started. */
export async function closeBrowser() {
  if (!launched) return;
  const b = await launched.catch(() => null);
  launched = null;
  if (b) await b.close();
}

/**
 * The config of samples/<name> ready to start elsewhere: listening on 127.0.0.1:<port> (a number
 * or 'auto'), every STATIC root pointing at the sample folder's absolute path.
 */
export function sampleConfig(name, port = 'auto') {
  const dir = path.join(REPO_ROOT, 'samples', name);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'portico.json'), 'utf8'));
  config.listen = [{ host: '127.0.0.1', port }];
  for (const api of config.apis ?? []) {
    for (const integ of Object.values(api.integrations ?? {})) {
      if (integ.type === 'STATIC') integ.root = path.resolve(dir, integ.root);
    }
  }
  return config;
}

/** Where the README's screenshots go. */
export const IMAGES = path.join(REPO_ROOT, 'docs', 'images');
