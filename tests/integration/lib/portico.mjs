// Helpers for the integration tests: start the real ./portico binary on a config written to a
// fresh temp dir, talk to it with real clients (ws, the AWS SDK, curl), and stop it again.
// Every wait here has a deadline; nothing sleeps a fixed time to "let the server start".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import aws4 from 'aws4';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const PORTICO_BIN = process.env.PORTICO_BIN
  ? path.resolve(process.env.PORTICO_BIN)
  : path.resolve(here, '..', '..', '..', 'portico');

export const AKID = 'AKIDEXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const CREDENTIALS = [{ accessKeyId: AKID, secretAccessKey: SECRET }];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* ------------------------------------------------------------------------------------------ */
/* Config builders                                                                            */
/* ------------------------------------------------------------------------------------------ */

/** A MOCK integration. */
export function mock(body, statusCode) {
  const response = { body };
  if (statusCode !== undefined) response.statusCode = statusCode;
  return { type: 'MOCK', response };
}

/** The MOCK that tells a client its own connection id: send {"action":"whoami"}. */
export const WHOAMI = mock('{"id":"$context.connectionId"}', 200);

/**
 * A WebSocket API: `$default` echoes the message (MOCK `$request.body`, two-way) and `whoami`
 * answers {"id": connectionId}. Anything in `over` replaces the defaults (routes and
 * integrations are merged).
 */
export function wsApi(over = {}) {
  const { routes, integrations, ...rest } = over;
  return {
    name: 'chat',
    protocolType: 'WEBSOCKET',
    basePath: '/',
    routeSelectionExpression: '$request.body.action',
    stages: { dev: {} },
    integrations: { echo: mock('$request.body', 200), whoami: WHOAMI, ...(integrations || {}) },
    routes: {
      $default: { integration: 'echo', routeResponse: true },
      whoami: { integration: 'whoami', routeResponse: true },
      ...(routes || {}),
    },
    ...rest,
  };
}

/** A whole config with one echo API (see wsApi) and the example credentials. */
export function echoConfig(over = {}) {
  const { api, ...rest } = over;
  return { credentials: CREDENTIALS, apis: [wsApi(api)], ...rest };
}

/* ------------------------------------------------------------------------------------------ */
/* Processes                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** One try of freePort(): bind port 0, read it, close. */
function anyFreePort(host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const handedOut = new Set();

/**
 * A TCP port that was free a moment ago. The kernel may hand the same free port to two binds in
 * a row, so a port this process already handed out is never handed out again: a test that asks
 * for two ports gets two.
 */
export async function freePort(host = '127.0.0.1') {
  for (;;) {
    const port = await anyFreePort(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export async function makeTempDir(prefix = 'portico-it-') {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Resolves true when a connection to the TCP port or unix socket succeeds. */
function canConnect(target, ms = 500) {
  return new Promise((resolve) => {
    const sock = target.unixSocket
      ? net.connect({ path: target.unixSocket })
      : net.connect({ host: target.host, port: target.port });
    const done = (ok) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function connectTarget(entry) {
  if (entry.unixSocket) return { unixSocket: entry.unixSocket };
  let host = entry.host ?? '127.0.0.1';
  if (host === '0.0.0.0' || host === '' || host === '*') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { host, port: entry.port };
}

const live = new Set(); // every portico process started by this file, killed on exit
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function lineCollector(stream, sink) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop();
    for (const l of parts) sink.push(l);
  });
  stream.on('end', () => {
    if (rest) sink.push(rest);
    rest = '';
  });
}

/** Fills listen: none → one loopback TCP port; port 'auto' → a free port; unixSocket 'auto' → a path in dir. */
async function resolveListen(cfg, dir) {
  if (!('listen' in cfg) || cfg.listen === undefined) {
    cfg.listen = [{ host: '127.0.0.1', port: await freePort() }];
    return;
  }
  if (!Array.isArray(cfg.listen)) return;
  let n = 0;
  for (const entry of cfg.listen) {
    if (entry && entry.port === 'auto') entry.port = await freePort();
    if (entry && entry.unixSocket === 'auto') entry.unixSocket = path.join(dir, `portico-${n++}.sock`);
  }
}

/**
 * Starts portico on `config` (an object, written as JSON to a fresh temp dir).
 * opts: { args(configPath) → argv, cwd, env, readyTimeoutMs (5000), files: {name: content} }
 * Returns { port, baseUrl, wsUrl, proc, logs(), stdout(), stop(signal), configPath, dir, listen,
 *           writeConfig(obj), writeRaw(text), signal(sig), exited, hasExited() }.
 */
export async function startPortico(config, opts = {}) {
  const dir = opts.dir ?? (await makeTempDir());
  const cfg = structuredClone(config);
  await resolveListen(cfg, dir);
  const configPath = path.join(dir, opts.fileName ?? 'portico.json');
  for (const [name, content] of Object.entries(opts.files ?? {})) {
    await fsp.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fsp.writeFile(path.join(dir, name), content);
  }
  await fsp.writeFile(configPath, JSON.stringify(cfg, null, 2));

  const args = opts.args ? opts.args(configPath) : [configPath];
  const errLines = [];
  const outLines = [];
  const proc = spawn(opts.bin ?? PORTICO_BIN, args, {
    cwd: opts.cwd ?? dir,
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  lineCollector(proc.stderr, errLines);
  lineCollector(proc.stdout, outLines);
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(proc);
      resolve(exitInfo);
    });
    proc.once('error', (err) => {
      exitInfo = { code: null, signal: null, error: err };
      live.delete(proc);
      resolve(exitInfo);
    });
  });

  const listen = Array.isArray(cfg.listen) ? cfg.listen : [];
  const tcp = listen.find((l) => l && !l.unixSocket && typeof l.port === 'number');
  const first = listen[0] ? connectTarget(listen[0]) : null;
  const port = tcp ? tcp.port : undefined;
  const connectHost = tcp ? connectTarget(tcp).host : '127.0.0.1';

  const describe = () =>
    `portico ${args.join(' ')}\n--- stderr ---\n${errLines.join('\n')}\n--- stdout ---\n${outLines.join('\n')}`;

  const instance = {
    port,
    host: connectHost,
    baseUrl: port !== undefined ? `http://${connectHost}:${port}` : undefined,
    wsUrl: port !== undefined ? `ws://${connectHost}:${port}` : undefined,
    proc,
    dir,
    configPath,
    config: cfg,
    listen,
    exited,
    hasExited: () => exitInfo !== null,
    exitInfo: () => exitInfo,
    logs: () => errLines.slice(),
    stdout: () => outLines.slice(),
    describe,
    signal(sig) {
      if (exitInfo === null) proc.kill(sig);
    },
    /** Rewrites the config file; a config without listen keeps the listeners in use. */
    async writeConfig(obj) {
      const c = structuredClone(obj);
      if (!('listen' in c)) c.listen = structuredClone(listen);
      await fsp.writeFile(configPath, JSON.stringify(c, null, 2));
    },
    async writeRaw(text) {
      await fsp.writeFile(configPath, text);
    },
    stop: undefined,
  };

  let stopping = null;
  instance.stop = (signal = 'SIGTERM', timeoutMs = 15000) => {
    if (stopping) return stopping;
    stopping = (async () => {
      let r = exitInfo;
      if (r === null) {
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        r = await exited;
        clearTimeout(t);
      }
      // Clients still open to this server would keep the test process alive.
      for (const ws of openSockets) {
        if (port !== undefined && ws.url && ws.url.includes(`:${port}`)) ws.terminate();
      }
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
      return r;
    })();
    return stopping;
  };

  // Wait until every listener accepts a connection, or the process dies, or the deadline.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 5000);
  if (opts.waitReady !== false) {
    if (!first) {
      await instance.stop('SIGKILL');
      throw new Error(`startPortico: the config has no listener to wait for\n${describe()}`);
    }
    for (;;) {
      if (exitInfo !== null) {
        throw new Error(
          `portico exited (code ${exitInfo.code}, signal ${exitInfo.signal}${exitInfo.error ? `, ${exitInfo.error.message}` : ''}) before listening\n${describe()}`,
        );
      }
      // every listener, not just the first: a test may use any of them
      const ok = await Promise.all(listen.filter((l) => l && (l.unixSocket || typeof l.port === 'number')).map((l) => canConnect(l.unixSocket ? { unixSocket: path.resolve(dir, l.unixSocket) } : connectTarget(l), 300)));
      if (ok.every(Boolean)) break;
      if (Date.now() > deadline) {
        await instance.stop('SIGKILL');
        throw new Error(`portico did not accept connections within ${opts.readyTimeoutMs ?? 5000} ms\n${describe()}`);
      }
      await sleep(25);
    }
  }
  return instance;
}

/** Starts portico and registers its stop with the test context. */
export async function startFor(t, config, opts) {
  const p = await startPortico(config, opts);
  t.after(() => p.stop('SIGKILL'));
  return p;
}

/**
 * Runs the binary to completion (for --check, --version, bad configs).
 * Resolves {code, signal, stdout, stderr, output (both)}; kills it after timeoutMs.
 */
export function runPortico(args, opts = {}) {
  return new Promise((resolve) => {
    const proc = spawn(opts.bin ?? PORTICO_BIN, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, opts.timeoutMs ?? 5000);
    const finish = (code, signal, error) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, signal, stdout, stderr, output: `${stdout}${stderr}`, timedOut, error });
    };
    proc.once('error', (e) => finish(null, null, e));
    proc.once('close', (code, signal) => finish(code, signal));
  });
}

/** Writes config JSON (object or raw text) to a fresh temp dir; returns {dir, file}. */
export async function writeTempConfig(config, name = 'portico.json') {
  const dir = await makeTempDir();
  const file = path.join(dir, name);
  await fsp.writeFile(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return { dir, file, cleanup: () => fsp.rm(dir, { recursive: true, force: true }) };
}

/* ------------------------------------------------------------------------------------------ */
/* WebSocket clients                                                                          */
/* ------------------------------------------------------------------------------------------ */

const openSockets = new Set();
const trackers = new WeakMap();

/** Starts recording messages, pings and the close of ws (call before any message can arrive). */
export function track(ws) {
  let tr = trackers.get(ws);
  if (tr) return tr;
  tr = { queue: [], waiters: [], pings: [], closed: null, closeWaiters: [], errors: [] };
  trackers.set(ws, tr);
  openSockets.add(ws);
  ws.on('message', (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const msg = { data: buf, isBinary, text: buf.toString('utf8'), at: Date.now() };
    const w = tr.waiters.shift();
    if (w) w.resolve(msg);
    else tr.queue.push(msg);
  });
  ws.on('ping', (data) => tr.pings.push({ data, at: Date.now() }));
  ws.on('error', (err) => tr.errors.push(err));
  ws.on('close', (code, reason) => {
    tr.closed = { code, reason: reason.toString('utf8'), at: Date.now() };
    openSockets.delete(ws);
    for (const w of tr.waiters.splice(0)) {
      w.reject(new Error(`socket closed (code ${code}, reason "${tr.closed.reason}") while waiting for a message`));
    }
    for (const w of tr.closeWaiters.splice(0)) w(tr.closed);
  });
  return tr;
}

/**
 * Opens a WebSocket. Resolves with the open socket; rejects on a non-101 answer with an Error
 * carrying .status, .headers and .body, or on a network error. Options go to ws; defaults:
 * perMessageDeflate false (deterministic frames), handshakeTimeout 5000, protocols none.
 */
export function openWs(url, opts = {}) {
  const { protocols, timeoutMs = 5000, ...wsOpts } = opts;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...wsOpts });
    track(ws);
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`WebSocket ${url}: no answer within ${timeoutMs} ms`)), timeoutMs + 500);
    function fail(err) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    }
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ws);
    });
    ws.on('error', (err) => fail(err));
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      const done = () => {
        const err = new Error(`Unexpected server response: ${res.statusCode}`);
        err.status = res.statusCode;
        err.headers = res.headers;
        err.body = Buffer.concat(chunks).toString('utf8');
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(err);
        }
        req.destroy();
        openSockets.delete(ws);
      };
      res.once('end', done);
      res.once('error', done);
      res.once('close', done);
    });
  });
}

/** Expects the handshake to be refused; resolves the HTTP status (fails if it opened). */
export async function handshakeStatus(url, opts) {
  try {
    const ws = await openWs(url, opts);
    ws.terminate();
    return 101;
  } catch (err) {
    if (err.status === undefined) throw err;
    return err.status;
  }
}

/** Next message received on ws: {data: Buffer, isBinary, text}. Rejects after ms or on close. */
export function nextMessage(ws, ms = 3000) {
  const tr = track(ws);
  if (tr.queue.length) return Promise.resolve(tr.queue.shift());
  if (tr.closed) {
    return Promise.reject(new Error(`socket already closed (code ${tr.closed.code}, reason "${tr.closed.reason}")`));
  }
  return new Promise((resolve, reject) => {
    const w = {
      resolve: (m) => {
        clearTimeout(timer);
        resolve(m);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
    const timer = setTimeout(() => {
      const i = tr.waiters.indexOf(w);
      if (i >= 0) tr.waiters.splice(i, 1);
      reject(new Error(`no message within ${ms} ms`));
    }, ms);
    tr.waiters.push(w);
  });
}

/** Next message, which must be a text message; returns its text. */
export async function nextText(ws, ms = 3000) {
  const m = await nextMessage(ws, ms);
  if (m.isBinary) throw new Error(`expected a text message, got a binary one: ${m.data.toString('hex').slice(0, 80)}`);
  return m.text;
}

/** Next message parsed as JSON. */
export async function nextJson(ws, ms = 3000) {
  const text = await nextText(ws, ms);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON message, got: ${text.slice(0, 200)}`);
  }
}

/** Resolves true if no message arrives within ms (messages already queued count). */
export async function noMessageWithin(ws, ms) {
  const tr = track(ws);
  if (tr.queue.length) return false;
  try {
    await nextMessage(ws, ms);
    return false;
  } catch {
    return true;
  }
}

/** Messages already received and not yet consumed. */
export function pending(ws) {
  return track(ws).queue.slice();
}

/** The close of ws: {code, reason, at}. Rejects if it does not close within ms. */
export function closeEvent(ws, ms = 3000) {
  const tr = track(ws);
  if (tr.closed) return Promise.resolve(tr.closed);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const i = tr.closeWaiters.indexOf(done);
      if (i >= 0) tr.closeWaiters.splice(i, 1);
      reject(new Error(`socket did not close within ${ms} ms`));
    }, ms);
    function done(c) {
      clearTimeout(timer);
      resolve(c);
    }
    tr.closeWaiters.push(done);
  });
}

/** Pings received from the server so far: [{data, at}]. */
export function pings(ws) {
  return track(ws).pings.slice();
}

/** Asks the server for the connection's id through the `whoami` route (see WHOAMI). */
export async function connectionIdOf(ws, ms = 3000) {
  ws.send(JSON.stringify({ action: 'whoami' }));
  const m = await nextJson(ws, ms);
  if (typeof m.id !== 'string' || m.id === '') throw new Error(`whoami answered ${JSON.stringify(m)}`);
  return m.id;
}

/** Polls fn() until it returns a truthy value or the deadline passes; returns that value. */
export async function waitFor(fn, { timeoutMs = 3000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Management API                                                                             */
/* ------------------------------------------------------------------------------------------ */

/**
 * An ApiGatewayManagementApiClient for the stage at http://127.0.0.1:PORT{stagePath}.
 * maxAttempts defaults to 1: the SDK would otherwise retry 429/5xx and hide what the server did.
 */
export function mgmtClient(port, stagePath, opts = {}) {
  const client = new ApiGatewayManagementApiClient({
    endpoint: `http://127.0.0.1:${port}${stagePath}`,
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials ?? { accessKeyId: AKID, secretAccessKey: SECRET },
    maxAttempts: opts.maxAttempts ?? 1,
  });
  // An SDK error's message alone is often just "UnknownError"; a failing test should say which
  // exception and status it got. sdkError() gives the original message back.
  const send = client.send.bind(client);
  client.send = async (...args) => {
    try {
      return await send(...args);
    } catch (e) {
      if (e && typeof e === 'object' && e.sdkMessage === undefined) {
        e.sdkMessage = e.message;
        e.message = `${e.name} (HTTP ${e.$metadata?.httpStatusCode}): ${e.message}`;
      }
      throw e;
    }
  };
  return client;
}

/** Runs an SDK command that must fail; returns the error (with the SDK's own message). */
export async function sdkError(client, command) {
  try {
    const out = await client.send(command);
    const err = new Error(`expected the call to fail, it answered ${JSON.stringify(out)}`);
    err.unexpectedSuccess = true;
    throw err;
  } catch (e) {
    if (e.unexpectedSuccess) throw e;
    if (e.sdkMessage !== undefined) e.message = e.sdkMessage;
    return e;
  }
}

/** The wire form of a connection id in a management URL (as the SDKs encode it). */
export const encId = (id) => encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export { WebSocket, fs };

/* ------------------------------------------------------------------------------------------ */
/* Raw HTTP and hand-signed requests                                                          */
/* ------------------------------------------------------------------------------------------ */

/**
 * One HTTP request with node:http (full control of headers and the path as sent).
 * Resolves {status, headers (lowercase names), body: Buffer, text}.
 */
export function httpRequest({ port, host = '127.0.0.1', method = 'GET', path: reqPath, headers = {}, body, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: reqPath, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${reqPath}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * A SigV4-signed request (aws4, service execute-api). `path` is sent exactly as given
 * (already percent-encoded); aws4 applies the AWS rule for the canonical URI (encode once more).
 * opts: {accessKeyId, secretAccessKey, region, signQuery, headers, date (a Date to sign with)}.
 */
export async function signedRequest(port, method, reqPath, body, opts = {}) {
  const headers = { ...(opts.headers ?? {}) };
  if (opts.date) headers['X-Amz-Date'] = opts.date.toISOString().replace(/[:-]|\.\d{3}/g, '');
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/octet-stream';
  }
  const signed = aws4.sign(
    {
      host: `127.0.0.1:${port}`,
      method,
      path: reqPath,
      body,
      headers,
      service: 'execute-api',
      region: opts.region ?? 'us-east-1',
      signQuery: opts.signQuery ?? false,
    },
    { accessKeyId: opts.accessKeyId ?? AKID, secretAccessKey: opts.secretAccessKey ?? SECRET },
  );
  return httpRequest({ port, method, path: signed.path, headers: signed.headers, body });
}
