// In-process backends for the integration tests: an HTTP server that records every request and
// answers as the test says, and a function server speaking the Lambda Invoke API
// (POST /2015-03-31/functions/NAME/invocations), as the Lambda runtime interface emulator and
// `sam local start-lambda` do. Both listen on 127.0.0.1, port 0, and expose .port, .requests,
// .close(). Every wait has a deadline.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Reads a whole request body. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Headers as [name, value] pairs in the order and case they were sent. */
function headerPairs(rawHeaders) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) out.push([rawHeaders[i], rawHeaders[i + 1]]);
  return out;
}

/** Listens on 127.0.0.1:0; tracks sockets so close() also ends hanging requests. */
function listen(server) {
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Polls until `pick()` returns something truthy; throws a helpful error after timeoutMs. */
async function waitUntil(pick, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = pick();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * An HTTP backend. `answer` is an object or a function (request record) → object (or a promise of
 * one), with:
 *   status (200), headers ({}), body ('' | string | Buffer | object → JSON),
 *   delayMs (0): wait before answering,
 *   hang (false): never answer (the request stays open until the client gives up or close()),
 *   destroy (false): close the socket without answering.
 * Every request is recorded in .requests as
 *   {method, url, path, query (URLSearchParams), headers (lowercase names), rawHeaders ([name, value]),
 *    body (Buffer), text, at (ms), eventType, connectionId, routeKey, remotePort (which connection)}.
 * .answer may be replaced at any time. .waitFor(pred, ms) resolves the first recorded request
 * matching pred (already recorded ones count); .count(pred) counts them.
 */
export async function httpBackend(answer = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req).catch(() => Buffer.alloc(0));
    const url = new URL(req.url, 'http://backend.invalid');
    const rec = {
      method: req.method,
      url: req.url,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawHeaders: headerPairs(req.rawHeaders),
      body,
      text: body.toString('utf8'),
      at: Date.now(),
      eventType: req.headers.eventtype,
      connectionId: req.headers.connectionid,
      routeKey: req.headers.routekey,
      remotePort: req.socket.remotePort,
    };
    requests.push(rec);
    let spec;
    try {
      spec = typeof backend.answer === 'function' ? await backend.answer(rec) : backend.answer;
    } catch (e) {
      spec = { status: 599, body: `backend answer() threw: ${e.message}` };
    }
    spec = spec ?? {};
    if (spec.delayMs) await sleep(spec.delayMs);
    if (spec.hang) return; // never answered; close() ends it
    if (spec.destroy) {
      req.socket.destroy();
      return;
    }
    let out = spec.body ?? '';
    const headers = { ...(spec.headers ?? {}) };
    if (typeof out === 'object' && !Buffer.isBuffer(out)) {
      out = JSON.stringify(out);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
    if (res.destroyed) return;
    res.writeHead(spec.status ?? 200, headers);
    res.end(out);
  });
  server.keepAliveTimeout = 30000;
  const l = await listen(server);
  const backend = {
    port: l.port,
    url: `http://127.0.0.1:${l.port}`,
    requests,
    answer,
    server,
    close: l.close,
    count: (pred = () => true) => requests.filter(pred).length,
    waitFor: (pred = () => true, timeoutMs = 3000, what = 'a backend request') =>
      waitUntil(() => requests.find(pred), timeoutMs, what),
  };
  return backend;
}

/** A result the function server sends as is (not JSON-encoded): for malformed results. */
export function rawResult(text) {
  return { [RAW]: text };
}
const RAW = Symbol('raw result');

/**
 * A Lambda Invoke API function server: POST /2015-03-31/functions/NAME/invocations calls
 * functions[NAME](event, {name, headers}) and answers 200 with JSON.stringify(its result)
 * (undefined → null), or 200 with X-Amz-Function-Error: Unhandled and
 * {errorMessage, errorType, stackTrace} when it throws, or 404 ResourceNotFoundException for an
 * unknown function. A handler may return rawResult(text) to send text that is not JSON.
 * .requests holds {name, event (parsed, or null), body (string), headers, at}; .events(name)
 * the events sent to one function; .waitFor(pred, ms) as for httpBackend.
 */
export async function functionServer(functions = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const body = (await readBody(req).catch(() => Buffer.alloc(0))).toString('utf8');
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/.exec(req.url);
    const send = (status, headers, text) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(text);
    };
    if (req.method !== 'POST' || !m) {
      send(404, { 'x-amzn-ErrorType': 'UnknownOperationException' }, JSON.stringify({ Type: 'User', message: 'Unknown operation' }));
      return;
    }
    const name = decodeURIComponent(m[1]);
    let event = null;
    try {
      event = JSON.parse(body);
    } catch {
      /* recorded as null */
    }
    const rec = { name, event, body, headers: req.headers, at: Date.now() };
    requests.push(rec);
    const fn = fs.functions[name];
    if (typeof fn !== 'function') {
      send(
        404,
        { 'x-amzn-ErrorType': 'ResourceNotFoundException' },
        JSON.stringify({ Type: 'User', message: `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${name}` }),
      );
      return;
    }
    let result;
    try {
      result = await fn(event, { name, headers: req.headers });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      send(
        200,
        { 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Executed-Version': '$LATEST' },
        JSON.stringify({ errorMessage: err.message, errorType: err.name || 'Error', stackTrace: [] }),
      );
      return;
    }
    if (result && typeof result === 'object' && RAW in result) {
      send(200, { 'X-Amz-Executed-Version': '$LATEST' }, result[RAW]);
      return;
    }
    send(200, { 'X-Amz-Executed-Version': '$LATEST' }, JSON.stringify(result === undefined ? null : result));
  });
  server.keepAliveTimeout = 30000;
  const l = await listen(server);
  const fs = {
    port: l.port,
    url: `http://127.0.0.1:${l.port}`,
    /** The Invoke API URI of a function, for an AWS_PROXY integration. */
    uri: (name) => `http://127.0.0.1:${l.port}/2015-03-31/functions/${name}/invocations`,
    requests,
    functions,
    server,
    close: l.close,
    events: (name) => requests.filter((r) => r.name === name).map((r) => r.event),
    count: (pred = () => true) => requests.filter(pred).length,
    waitFor: (pred = () => true, timeoutMs = 3000, what = 'a function invocation') =>
      waitUntil(() => requests.find(pred), timeoutMs, what),
  };
  return fs;
}

/** True when a connection to 127.0.0.1:<port> is refused (nothing listens there). */
function refused(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/**
 * A loopback port with nothing listening. It is taken below 1024: the kernel never hands those
 * out for port 0, so no server that another test starts meanwhile can land on it (a freed
 * ephemeral port can, and then the "dead" backend answers).
 */
export async function deadPort() {
  for (const port of [1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]) {
    if (await refused(port)) return port;
  }
  throw new Error('deadPort: something listens on every low port tried');
}

/** Starts a backend and registers its close with the test context. */
export async function backendFor(t, answer) {
  const b = await httpBackend(answer);
  t.after(() => b.close());
  return b;
}

/** Starts a function server and registers its close with the test context. */
export async function functionsFor(t, functions) {
  const f = await functionServer(functions);
  t.after(() => f.close());
  return f;
}

/* ------------------------------------------------------------------------------------------ */
/* The same backends in a child process                                                       */
/* ------------------------------------------------------------------------------------------ */

// Where latency is measured, the backends should not share an event loop with the clients that
// measure it. `node backends.mjs --serve` runs an HTTP backend and a function server whose
// behaviour is chosen by the request itself:
//   HTTP: a query parameter delay=MS delays the answer, hang=1 never answers; otherwise 200 with
//         the body "http:" + the request body.
//   Functions: "fast" answers {statusCode: 200, body: "fn:" + event.body}; "sleepMS" (e.g.
//         sleep4000) answers {statusCode: 200, body: "slow fn done"} after MS ms.
// It prints {"httpPort":N,"fnPort":M} and then one JSON line per request received.

async function serve() {
  const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const b = await httpBackend((r) => {
    emit({ kind: 'http', path: r.path, query: Object.fromEntries(r.query), eventType: r.eventType, connectionId: r.connectionId, at: r.at });
    if (r.query.get('hang')) return { hang: true };
    return { delayMs: Number(r.query.get('delay') ?? 0), status: 200, body: `http:${r.text}` };
  });
  const functions = new Proxy(
    {},
    {
      get(_, name) {
        if (name === 'fast') {
          return (e) => {
            emit({ kind: 'fn', name, eventType: e?.requestContext?.eventType, at: Date.now() });
            return { statusCode: 200, body: `fn:${e?.body}` };
          };
        }
        const m = /^sleep(\d+)$/.exec(String(name));
        if (!m) return undefined;
        return (e) => {
          emit({ kind: 'fn', name, eventType: e?.requestContext?.eventType, at: Date.now() });
          return sleep(Number(m[1])).then(() => ({ statusCode: 200, body: 'slow fn done' }));
        };
      },
    },
  );
  const f = await functionServer(functions);
  emit({ httpPort: b.port, fnPort: f.port });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop); // the parent went away
  process.stdin.resume();
}

/**
 * Starts `node backends.mjs --serve` (see above) and registers its end with t. Resolves
 * {httpUrl, fnUri(name), requests (the JSON lines so far), waitFor(pred, ms), close()}.
 */
export async function backendProcessFor(t) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const requests = [];
  let ports = null;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      let o;
      try {
        o = JSON.parse(line);
      } catch {
        return;
      }
      if (o.httpPort !== undefined && ports === null) {
        ports = o;
        resolve();
      } else {
        requests.push(o);
      }
    });
    proc.once('exit', (code) => reject(new Error(`backend process exited (${code}) before listening`)));
    setTimeout(() => reject(new Error('backend process did not start within 5000 ms')), 5000).unref();
  });
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
  t.after(close);
  await ready;
  return {
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
    fnUri: (name) => `http://127.0.0.1:${ports.fnPort}/2015-03-31/functions/${name}/invocations`,
    requests,
    waitFor: (pred = () => true, timeoutMs = 3000, what = 'a backend request') =>
      waitUntil(() => requests.find(pred), timeoutMs, what),
    close,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--serve') {
  serve().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
