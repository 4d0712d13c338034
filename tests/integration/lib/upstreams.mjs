// Test upstreams for the HTTP API tests: an HTTP echo server that reports what it received and
// can answer with a chosen status, headers, body and delay, and a Lambda Invoke API server
// (POST /2015-03-31/functions/NAME/invocations) that records events and answers with a JS
// handler's result. Both listen on 127.0.0.1 port 0; close() ends hanging requests too.
import http from 'node:http';

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

async function serve(onRequest) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((e) => {
      res.statusCode = 599;
      res.end(String(e && e.stack ? e.stack : e));
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Waits until fn() is truthy (polling), or throws after ms. */
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An HTTP echo server. Every request is recorded as {method, url, headers (lowercase names,
 * Node's joining), rawHeaders ([name, value] pairs as sent), body (Buffer)}. By default it
 * answers 200 application/json {method, url, headers, rawHeaders, body (utf8), bodyBase64}.
 * setReply(fn) makes fn(record) decide: {status, headers: [[name, value], ...], body, delayMs};
 * any field left out keeps the default.
 */
export async function startEcho() {
  const requests = [];
  let reply = null;
  const srv = await serve(async (req, res) => {
    const body = await readAll(req);
    const rawHeaders = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const rec = { method: req.method, url: req.url, headers: req.headers, rawHeaders, body };
    requests.push(rec);
    const r = (reply && (await reply(rec))) || {};
    if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
    const out =
      r.body !== undefined
        ? Buffer.from(r.body)
        : Buffer.from(
            JSON.stringify({
              method: req.method,
              url: req.url,
              headers: req.headers,
              rawHeaders,
              body: body.toString('utf8'),
              bodyBase64: body.toString('base64'),
            }),
          );
    const headers = r.headers ?? [['Content-Type', 'application/json']];
    const flat = [];
    for (const [k, v] of headers) flat.push(k, v);
    if (!res.destroyed) {
      res.writeHead(r.status ?? 200, flat);
      res.end(out);
    }
  });
  return {
    port: srv.port,
    url: `http://127.0.0.1:${srv.port}`,
    requests,
    setReply(fn) {
      reply = fn;
    },
    /** Waits for the n-th request (1-based) and returns it. */
    nth: (n, ms = 3000) => until(() => requests[n - 1], ms, `request #${n} at the echo upstream`),
    close: srv.close,
  };
}

/**
 * A Lambda Invoke API server. Each invocation's event (parsed JSON) is recorded in .events (and
 * the function name in .names); the handler (setHandler(fn), fn(event, name)) returns the result,
 * which is sent as JSON. A handler may return {$raw: 'text'} to send those bytes as they are,
 * {$functionError: 'Unhandled', payload} for a function error, or {$status: N} for an Invoke API
 * error. The default handler answers {statusCode: 200, body: "ok"}.
 */
export async function startLambda() {
  const events = [];
  const names = [];
  let handler = () => ({ statusCode: 200, body: 'ok' });
  const srv = await serve(async (req, res) => {
    const body = await readAll(req);
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url.split('?')[0]);
    if (req.method !== 'POST' || !m) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ Type: 'User', message: 'Function not found' }));
      return;
    }
    const event = JSON.parse(body.toString('utf8'));
    events.push(event);
    names.push(decodeURIComponent(m[1]));
    const result = await handler(event, decodeURIComponent(m[1]));
    if (result && result.$status) {
      res.writeHead(result.$status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ Type: 'Service', message: 'Invoke failed' }));
    } else if (result && result.$functionError) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Amz-Function-Error': result.$functionError });
      res.end(JSON.stringify(result.payload ?? { errorMessage: 'boom', errorType: 'Error' }));
    } else if (result && result.$raw !== undefined) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(result.$raw);
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(result === undefined ? 'null' : JSON.stringify(result));
    }
  });
  return {
    port: srv.port,
    uri: (fn = 'fn') => `http://127.0.0.1:${srv.port}/2015-03-31/functions/${fn}/invocations`,
    events,
    names,
    setHandler(fn) {
      handler = fn;
    },
    /** Waits for the n-th event (1-based) and returns it. */
    nth: (n, ms = 3000) => until(() => events[n - 1], ms, `event #${n} at the Lambda endpoint`),
    close: srv.close,
  };
}
