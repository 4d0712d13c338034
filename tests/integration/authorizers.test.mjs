// Authorization end to end (SPEC section 6, AWS-BEHAVIOUR section 4, issue #6): JWT authorizers
// with real tokens made by a real JWT library (jose: RS256, PS256, ES256 against a JWKS file or an
// http JWKS server, HS256 with a secret), REQUEST authorizers backed by AWS_PROXY and HTTP_PROXY
// (simple and IAM-policy answers, the result cache), AWS_IAM with aws4-signed requests, and API
// keys, on HTTP routes and on a WebSocket API's $connect. Every key pair and secret is made at run
// time; nothing secret is checked in.
//
// The JWKS refetch rule ("an unknown kid refetches at most once a minute") needs a minute to
// pass: the first test sets those servers up and the last one finishes them, so that minute runs
// alongside everything else.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import aws4 from 'aws4';
import * as jose from 'jose';
import {
  startFor,
  startPortico,
  runPortico,
  makeTempDir,
  writeTempConfig,
  httpRequest,
  signedRequest,
  openWs,
  handshakeStatus,
  nextJson,
  nextText,
  sleep,
  waitFor,
  AKID,
  SECRET,
  CREDENTIALS,
} from './lib/portico.mjs';
import { functionsFor, functionServer, backendFor, rawResult, deadPort } from './lib/backends.mjs';

const T = { timeout: 20000 };
const ISS = 'https://issuer.example.test';
const AUD = 'portico-api';
const now = () => Math.floor(Date.now() / 1000);
const enc = new TextEncoder();
const b64json = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

/* ------------------------------------------------------------------------------------------ */
/* Keys, made at run time                                                                     */
/* ------------------------------------------------------------------------------------------ */

async function keyPair(alg, kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, publicKey, privateKey, jwk, pem: await jose.exportSPKI(publicKey) };
}

const RS = await keyPair('RS256', 'rs-1');
const PS = await keyPair('PS256', 'ps-1');
const EC = await keyPair('ES256', 'ec-1');
const ATTACKER = await keyPair('RS256', 'rs-1'); // same kid, a key the server never saw
const HS_SECRET = crypto.randomBytes(36).toString('base64url'); // 48 characters
const JWKS_FILE = JSON.stringify({ keys: [RS.jwk, PS.jwk, EC.jwk] });

/** The claims of a good token; `over` replaces (undefined deletes) claims. */
function claims(over = {}) {
  const c = { iss: ISS, aud: AUD, sub: 'user-1', email: 'user-1@example.test', iat: now(), exp: now() + 600, ...over };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
}

/** A token signed by jose. key: a keyPair (its alg and kid unless given) or 'HS' (HS256 with HS_SECRET). */
async function sign(key = RS, over = {}, header = {}) {
  const payload = claims(over);
  if (key === 'HS') {
    return new jose.SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(enc.encode(HS_SECRET));
  }
  return new jose.SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

/** A token made by hand: header and payload as given (objects or raw JSON text), HS256 over `secret`, or `sig` as is. */
function handMade(header, payload, { secret, sig = '' } = {}) {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const s = secret !== undefined ? crypto.createHmac('sha256', secret).update(input).digest('base64url') : sig;
  return `${input}.${s}`;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

const lambda = (f, name, extra = {}) => ({ type: 'AWS_PROXY', uri: f.uri(name), ...extra });
const mockT = (body) => ({ type: 'MOCK', response: { statusCode: 200, body } });

/** The function every protected HTTP route calls: it answers with its requestContext. */
const appFn = (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ rc: event.requestContext }),
});

/** The WebSocket function: accepts $connect, answers messages with requestContext.authorizer and .identity. */
const wsFn = (event) => {
  if (event.requestContext.eventType !== 'MESSAGE') return { statusCode: 200 };
  return { statusCode: 200, body: JSON.stringify({ authorizer: event.requestContext.authorizer ?? null, identity: event.requestContext.identity ?? null }) };
};

const get = (p, path, headers = {}) => httpRequest({ port: p.port, path, headers });
const bearer = (tok) => ({ Authorization: `Bearer ${tok}` });

function assert401(r, what, description) {
  assert.equal(r.status, 401, `${what}: status (body ${r.text})`);
  assert.equal(r.text, '{"message":"Unauthorized"}', `${what}: body`);
  assert.equal(r.headers['x-amzn-errortype'], 'UnauthorizedException', `${what}: x-amzn-ErrorType`);
  assert.match(r.headers['content-type'] ?? '', /application\/json/, `${what}: content-type`);
  const www = r.headers['www-authenticate'];
  assert.ok(www && www.startsWith('Bearer'), `${what}: WWW-Authenticate ${www}`);
  if (description !== undefined) {
    assert.match(www, /error="invalid_token"/, `${what}: WWW-Authenticate ${www}`);
    assert.match(www, /error_description="[^"]+"/, `${what}: WWW-Authenticate ${www}`);
    if (description) assert.match(www, description, `${what}: WWW-Authenticate ${www}`);
  }
}

function assert403(r, what, type = 'ForbiddenException', message = 'Forbidden') {
  assert.equal(r.status, 403, `${what}: status (body ${r.text})`);
  assert.deepEqual(JSON.parse(r.text), { message }, `${what}: body`);
  assert.equal(r.headers['x-amzn-errortype'], type, `${what}: x-amzn-ErrorType`);
}

function assert500(r, what) {
  assert.equal(r.status, 500, `${what}: status (body ${r.text})`);
  assert.equal(r.text, '{"message":"Internal Server Error"}', `${what}: body`);
}

function assert200(r, what) {
  assert.equal(r.status, 200, `${what}: status ${r.status}, www-authenticate ${r.headers['www-authenticate']}, body ${r.text}`);
  return r.text.startsWith('{') ? JSON.parse(r.text) : r.text;
}

/** A JWKS server: .keys is what it serves; .mode 'ok' | 'error' (503) | 'hang'; .requests counts GETs. */
async function jwksServer(keys) {
  const sockets = new Set();
  const s = { keys, mode: 'ok', requests: [] };
  const server = http.createServer((req, res) => {
    s.requests.push({ url: req.url, at: Date.now() });
    if (s.mode === 'hang') return;
    if (s.mode === 'error') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down for maintenance');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=0' });
    res.end(JSON.stringify({ keys: s.keys }));
  });
  server.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  s.port = server.address().port;
  s.url = `http://127.0.0.1:${s.port}/.well-known/jwks.json`;
  s.close = () =>
    new Promise((r) => {
      for (const c of sockets) c.destroy();
      server.close(() => r());
    });
  return s;
}

/** A TCP server that accepts connections and never answers (a JWKS endpoint that hangs). */
async function blackhole() {
  const sockets = new Set();
  let accepted = 0;
  const server = net.createServer((c) => {
    accepted++;
    sockets.add(c);
    c.on('error', () => {});
    c.on('close', () => sockets.delete(c));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}/jwks.json`,
    accepted: () => accepted,
    close: () =>
      new Promise((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTP API named `name` at basePath with stage $default (variables tier=gold). */
function httpApi(name, basePath, { authorizers, integrations, routes, ...rest }) {
  const api = { name, protocolType: 'HTTP', basePath, stages: { $default: { variables: { tier: 'gold' } } }, integrations, routes, ...rest };
  if (authorizers) api.authorizers = authorizers;
  return api;
}

/** A WebSocket API at basePath, stage dev. */
function wsApiAt(name, basePath, { authorizers, integrations, routes, ...rest }) {
  const api = { name, protocolType: 'WEBSOCKET', basePath, routeSelectionExpression: '$request.body.action', stages: { dev: {} }, integrations, routes, ...rest };
  if (authorizers) api.authorizers = authorizers;
  return api;
}

const jwtAuthorizer = (over = {}) => ({
  type: 'JWT',
  identitySource: '$request.header.Authorization',
  issuer: ISS,
  audience: [AUD, 'second-audience'],
  jwks: 'jwks.json',
  ...over,
});

/** Nothing in Portico's own log may carry a token, a key value or a secret. */
function assertNoSecretsLogged(p, secrets) {
  const text = [...p.logs(), ...p.stdout()].join('\n');
  for (const s of secrets) {
    const probe = s.length > 40 ? s.slice(-40) : s;
    assert.ok(!text.includes(probe), `the log carries a secret (…${probe.slice(-12)}):\n${text}`);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* JWKS over http: the refetch rule needs a minute, so it starts first and ends last          */
/* ------------------------------------------------------------------------------------------ */

const K1 = await keyPair('RS256', 'rot-1');
const K2 = await keyPair('ES256', 'rot-2');
const K3 = await keyPair('PS256', 'rot-3');
const KX = await keyPair('RS256', 'never-served');
const minute = {}; // state shared by the first and the last test
const background = [];
after(async () => {
  for (const c of background.splice(0)) await c();
});

/** Starts portico (not tied to a test) with one HTTP API whose GET /jwt uses a JWKS URL. */
async function jwksUrlPortico(url, extraRoutes = {}) {
  const f = await functionServer({ app: appFn });
  const p = await startPortico({
    apis: [
      httpApi('shop', '/', {
        authorizers: { remote: jwtAuthorizer({ jwks: url }) },
        integrations: { app: lambda(f, 'app'), open: mockT('open') },
        routes: { 'GET /jwt': { integration: 'app', authorizer: 'remote' }, 'GET /open': { integration: 'open' }, ...extraRoutes },
      }),
    ],
  });
  background.push(() => p.stop('SIGKILL'), () => f.close());
  return p;
}

test('JWKS URL, first minute: fetched once and cached; a new kid is not refetched within the minute; a server that goes down leaves the cached keys working', { timeout: 20000 }, async () => {
  // R: rotation. Serves rot-1 first.
  const J = await jwksServer([K1.jwk]);
  background.push(() => J.close());
  const R = await jwksUrlPortico(J.url);
  let t0 = Date.now();
  assert200(await get(R, '/jwt', bearer(await sign(K1))), 'rot-1 token, first request (waits for the first fetch)');
  assert.equal(J.requests.length, 1, 'one JWKS fetch');
  const many = await Promise.all(Array.from({ length: 8 }, async () => get(R, '/jwt', bearer(await sign(K1)))));
  many.forEach((r, i) => assert200(r, `cached keys, request ${i}`));
  assert.equal(J.requests.length, 1, 'cached: no more fetches');
  // The issuer rotates: rot-2 appears. Within a minute of the last fetch it is not fetched again.
  J.keys = [K1.jwk, K2.jwk];
  const t = Date.now();
  assert401(await get(R, '/jwt', bearer(await sign(K2))), 'rot-2 within the minute', /kid/);
  assert.ok(Date.now() - t < 1000, 'the refusal is immediate');
  assert.equal(J.requests.length, 1, 'an unknown kid within the minute makes no fetch');
  minute.R = { J, R, t0 };

  // D: a JWKS server that goes away after the first fetch (connection refused from then on).
  const J2 = await jwksServer([K1.jwk]);
  const D = await jwksUrlPortico(J2.url);
  t0 = Date.now();
  assert200(await get(D, '/jwt', bearer(await sign(K1))), 'D: first request');
  await J2.close();
  for (let i = 0; i < 3; i++) {
    const s = Date.now();
    assert200(await get(D, '/jwt', bearer(await sign(K1))), `D: the JWKS server is down, cached keys still verify (${i})`);
    assert.ok(Date.now() - s < 1000, 'without waiting for the dead server');
  }
  minute.D = { J2, D, t0 };

  // E: a JWKS server that starts failing with 503 after the first fetch.
  const J3 = await jwksServer([K1.jwk]);
  background.push(() => J3.close());
  const E = await jwksUrlPortico(J3.url);
  t0 = Date.now();
  assert200(await get(E, '/jwt', bearer(await sign(K1))), 'E: first request');
  J3.mode = 'error';
  assert200(await get(E, '/jwt', bearer(await sign(K1))), 'E: cached keys');
  minute.E = { J3, E, t0 };
});

/* ------------------------------------------------------------------------------------------ */
/* JWT on HTTP routes                                                                         */
/* ------------------------------------------------------------------------------------------ */

function jwtConfig(f) {
  return {
    apiKeys: [{ id: 'k-jwt', name: 'jwt-user', value: 'jwt-route-key-0123456789abcdef', enabled: true }],
    apis: [
      httpApi('shop', '/', {
        authorizers: {
          jwt: jwtAuthorizer(),
          hs: jwtAuthorizer({ jwks: undefined, secret: HS_SECRET, audience: [AUD] }),
          qs: jwtAuthorizer({ identitySource: '$request.querystring.token' }),
        },
        integrations: {
          app: lambda(f, 'app'),
          app1: lambda(f, 'app', { payloadFormatVersion: '1.0' }),
          claims: mockT('sub=$context.authorizer.claims.sub email=$context.authorizer.claims.email'),
          open: mockT('open'),
        },
        routes: {
          'GET /jwt': { integration: 'app', authorizer: 'jwt' },
          'GET /jwt-v1': { integration: 'app1', authorizer: 'jwt' },
          'GET /jwt-mock': { integration: 'claims', authorizer: 'jwt' },
          'GET /jwt-key': { integration: 'claims', authorizer: 'jwt', apiKeyRequired: true },
          'GET /hs': { integration: 'app', authorizer: 'hs' },
          'GET /qs': { integration: 'app', authorizer: 'qs' },
          'GET /scoped': { integration: 'app', authorizer: 'jwt', authorizationScopes: ['pets:read', 'admin'] },
          'GET /open': { integration: 'open' },
        },
      }),
    ],
  };
}

async function jwtPortico(t) {
  const f = await functionsFor(t, { app: appFn });
  const p = await startFor(t, jwtConfig(f), { files: { 'jwks.json': JWKS_FILE } });
  return { f, p };
}

test('JWT: RS256, PS256 and ES256 from a JWKS file and HS256 with a secret; with or without "Bearer "; claims reach payload 2.0', T, async (t) => {
  const { f, p } = await jwtPortico(t);
  for (const key of [RS, PS, EC]) {
    const tok = await sign(key, { sub: `sub-${key.alg}`, scope: 'openid pets:read' });
    const body = assert200(await get(p, '/jwt', bearer(tok)), `${key.alg} with Bearer`);
    assert.equal(body.rc.authorizer.jwt.claims.sub, `sub-${key.alg}`);
    assert.equal(body.rc.authorizer.jwt.claims.iss, ISS);
    assert.equal(body.rc.authorizer.jwt.claims.aud, AUD);
    assert.deepEqual(body.rc.authorizer.jwt.scopes, ['openid', 'pets:read'], 'requestContext.authorizer.jwt.scopes');
    assert200(await get(p, '/jwt', { Authorization: tok }), `${key.alg} bare`);
    assert200(await get(p, '/jwt', { Authorization: `bearer ${tok}` }), `${key.alg} lower-case bearer`);
  }
  const hs = await sign('HS', { sub: 'hs-user' });
  assert.equal(assert200(await get(p, '/hs', bearer(hs)), 'HS256').rc.authorizer.jwt.claims.sub, 'hs-user');
  assert200(await get(p, '/hs', { Authorization: hs }), 'HS256 bare');
  // Without a kid the key is chosen by algorithm.
  const noKid = await new jose.SignJWT(claims({ sub: 'no-kid' })).setProtectedHeader({ alg: 'ES256' }).sign(EC.privateKey);
  assert.equal(assert200(await get(p, '/jwt', bearer(noKid)), 'ES256 without kid').rc.authorizer.jwt.claims.sub, 'no-kid');
  // aud as an array holding one configured audience, and the second configured audience.
  assert200(await get(p, '/jwt', bearer(await sign(RS, { aud: ['someone-else', AUD] }))), 'aud array');
  assert200(await get(p, '/jwt', bearer(await sign(RS, { aud: 'second-audience' }))), 'second audience');
  // Payload 1.0 gets the claims flattened under requestContext.authorizer.claims.
  const v1 = assert200(await get(p, '/jwt-v1', bearer(await sign(PS, { sub: 'v1-user' }))), 'payload 1.0');
  assert.equal(v1.rc.authorizer.claims.sub, 'v1-user');
  assert.equal(v1.rc.authorizer.claims.email, 'user-1@example.test');
  // A MOCK template sees $context.authorizer.claims.NAME.
  assert.equal(assert200(await get(p, '/jwt-mock', bearer(await sign(EC, { sub: 'mocked' }))), 'mock'), 'sub=mocked email=user-1@example.test');
  // The query-string identity source.
  const q = await sign(RS, { sub: 'from-query' });
  assert.equal(assert200(await get(p, `/qs?a=1&token=${q}&b=2`), 'token in the query string').rc.authorizer.jwt.claims.sub, 'from-query');
  assert401(await get(p, '/qs', bearer(q)), 'query-string authorizer given a header');
  assert401(await get(p, '/qs?token='), 'empty query token');
  assertNoSecretsLogged(p, [hs, q, HS_SECRET]);
});

test('JWT: issuer, audience (client_id only without aud), exp/nbf/iat with 60 s leeway', T, async (t) => {
  const { f, p } = await jwtPortico(t);
  const calls = () => f.count((r) => r.name === 'app');
  const n = now();
  const good = [
    ['expired 30 s ago (within leeway)', { exp: n - 30 }],
    ['nbf 30 s ahead (within leeway)', { nbf: n + 30 }],
    ['iat 30 s ahead (within leeway)', { iat: n + 30 }],
    ['no aud, client_id is an audience', { aud: undefined, client_id: AUD }],
    ['no iat', { iat: undefined }],
  ];
  for (const [what, over] of good) assert200(await get(p, '/jwt', bearer(await sign(RS, over))), what);
  const before = calls();
  const bad = [
    ['wrong issuer', { iss: 'https://evil.example.test' }, /issuer/],
    ['issuer with a trailing slash', { iss: `${ISS}/` }, /issuer/],
    ['no issuer', { iss: undefined }, /issuer/],
    ['wrong audience', { aud: 'someone-else' }, /audience/],
    ['audience array without ours', { aud: ['a', 'b'] }, /audience/],
    ['no aud, client_id not an audience', { aud: undefined, client_id: 'other-client' }, /audience/],
    ['aud wrong, client_id right (aud decides)', { aud: 'someone-else', client_id: AUD }, /audience/],
    ['no aud, no client_id', { aud: undefined }, /audience/],
    ['expired 120 s ago (beyond leeway)', { exp: n - 120 }, /expired/],
    ['expired long ago', { exp: n - 86400, iat: n - 90000 }, /expired/],
    ['no exp', { exp: undefined }, /exp/],
    ['exp not a number', { exp: String(n + 600) }, /number/],
    ['nbf 300 s in the future', { nbf: n + 300 }, /not valid yet/],
    ['iat 300 s in the future', { iat: n + 300 }, /future/],
  ];
  for (const [what, over, why] of bad) assert401(await get(p, '/jwt', bearer(await sign(RS, over))), what, why);
  // HS256 follows the same rules.
  assert401(await get(p, '/hs', bearer(await sign('HS', { exp: n - 120 }))), 'HS256 expired', /expired/);
  assert401(await get(p, '/hs', bearer(await sign('HS', { iss: 'x' }))), 'HS256 wrong issuer', /issuer/);
  assert.equal(calls(), before, 'no refused token reached the integration');
});

test('JWT: alg none, algorithm confusion, forged and tampered signatures, unknown kids, odd tokens are 401', T, async (t) => {
  const { f, p } = await jwtPortico(t);
  const calls = () => f.count((r) => r.name === 'app');
  const before = calls();
  const c = claims({ sub: 'admin' });
  const good = await sign(RS);
  const [gh, gp, gs] = good.split('.');
  const otherPayload = b64json(claims({ sub: 'admin', scope: 'admin' }));
  const pemNoNewline = RS.pem.trim();
  const cases = [
    ['no token', {}, undefined],
    ['empty Bearer', { Authorization: 'Bearer ' }, null],
    ['Basic credentials', { Authorization: 'Basic dXNlcjpwYXNz' }, null],
    ['not a JWT', bearer('not-a-token'), /compact JWS/],
    ['alg none, empty signature', bearer(handMade({ alg: 'none', typ: 'JWT' }, c)), /algorithm/],
    ['alg none with the kid of a real key', bearer(handMade({ alg: 'none', kid: 'rs-1' }, c)), /algorithm/],
    ['alg NONE', bearer(handMade({ alg: 'NONE' }, c)), /algorithm/],
    ['alg none carrying a real signature', bearer(`${b64json({ alg: 'none' })}.${gp}.${gs}`), /algorithm/],
    ['algorithm confusion: HS256 keyed with the RSA public key PEM (jose)', bearer(await new jose.SignJWT(c).setProtectedHeader({ alg: 'HS256', kid: 'rs-1' }).sign(enc.encode(RS.pem))), /algorithm/],
    ['algorithm confusion: PEM without the final newline', bearer(handMade({ alg: 'HS256', kid: 'rs-1' }, c, { secret: pemNoNewline })), /algorithm/],
    ['algorithm confusion: the JWK JSON as the HMAC key', bearer(handMade({ alg: 'HS256', kid: 'rs-1' }, c, { secret: JSON.stringify(RS.jwk) })), /algorithm/],
    ['HS256 with the real secret on a JWKS-only authorizer', bearer(await sign('HS')), /algorithm/],
    ['alg RS512', bearer(handMade({ alg: 'RS512', kid: 'rs-1' }, c, { sig: gs })), /algorithm/],
    ['a forged RS256 signature (same kid, another key)', bearer(await sign(ATTACKER)), /signature/],
    ['a tampered payload', bearer(`${gh}.${otherPayload}.${gs}`), /signature/],
    ['a truncated signature', bearer(`${gh}.${gp}.${gs.slice(0, -4)}`), null],
    ['an unknown kid', bearer(await sign(RS, {}, { kid: 'rs-2' })), /kid/],
    ['the EC key named for an RS256 token', bearer(await sign(RS, {}, { kid: 'ec-1' })), /does not fit/],
    ['the RS256 key named for a PS256 token', bearer(await sign(PS, {}, { kid: 'rs-1' })), null],
    ['a crit header', bearer(handMade({ alg: 'HS256', crit: ['exp'], exp: 1 }, c, { secret: HS_SECRET })), /crit|algorithm/],
    ['four segments', bearer(`${good}.x`), /compact JWS/],
    ['a 15 000-byte token', bearer(`${gh}.${'A'.repeat(15000)}.${gs}`), null],
  ];
  for (const [what, headers, why] of cases) assert401(await get(p, '/jwt', headers), what, why);
  // On the HS256 authorizer: alg none, a wrong secret, RS256 without any JWKS, duplicate claims.
  const hsCases = [
    ['alg none', bearer(handMade({ alg: 'none' }, c)), /algorithm/],
    ['a wrong secret', bearer(handMade({ alg: 'HS256' }, c, { secret: `${HS_SECRET}x` })), /signature/],
    ['a 31-byte prefix of the secret', bearer(handMade({ alg: 'HS256' }, c, { secret: HS_SECRET.slice(0, 31) })), /signature/],
    ['RS256 where only HS256 is configured', bearer(await sign(RS)), /algorithm/],
    ['duplicate claim names', bearer(handMade({ alg: 'HS256' }, `{"iss":"${ISS}","aud":"${AUD}","exp":${now() + 600},"sub":"a","sub":"admin"}`, { secret: HS_SECRET })), null],
  ];
  for (const [what, headers, why] of hsCases) assert401(await get(p, '/hs', headers), `HS256: ${what}`, why);
  assert.equal(calls(), before, 'nothing refused reached the integration');
  // A head over 16 KB never reaches the authorizer; the server keeps serving.
  const huge = await get(p, '/jwt', bearer(`${gh}.${'A'.repeat(20000)}.${gs}`));
  assert.ok(huge.status === 431 || huge.status === 401, `a 20 KB token: ${huge.status}`);
  assert200(await get(p, '/jwt', bearer(good)), 'still serving after the oversize token');
  assertNoSecretsLogged(p, [good, HS_SECRET]);
});

test('JWT scopes: scope string or scp string/array with any one of the route scopes, else 403', T, async (t) => {
  const { p } = await jwtPortico(t);
  const ok = [
    ['scope string', { scope: 'openid pets:read' }, ['openid', 'pets:read']],
    ['scp array', { scp: ['profile', 'admin'] }, ['profile', 'admin']],
    ['scp string', { scp: 'admin other' }, ['admin', 'other']],
    ['scope without, scp with', { scope: 'openid', scp: ['pets:read'] }, ['openid', 'pets:read']],
  ];
  for (const [what, over, scopes] of ok) {
    const body = assert200(await get(p, '/scoped', bearer(await sign(EC, over))), what);
    assert.deepEqual(body.rc.authorizer.jwt.scopes, scopes, `${what}: requestContext.authorizer.jwt.scopes`);
  }
  const refused = [
    ['another scope', { scope: 'pets:write' }],
    ['no scope at all', {}],
    ['a longer scope', { scope: 'pets:readx admins' }],
    ['a prefix', { scp: ['pets'] }],
    ['case differs', { scope: 'PETS:READ' }],
    ['scope as an array (only scp may be one)', { scope: ['admin'] }],
  ];
  for (const [what, over] of refused) {
    const r = await get(p, '/scoped', bearer(await sign(EC, over)));
    assert403(r, what);
    assert.match(r.headers['www-authenticate'] ?? '', /insufficient_scope/, `${what}: WWW-Authenticate`);
  }
  // An invalid token on a scoped route is still 401, not 403.
  assert401(await get(p, '/scoped', bearer(await sign(EC, { scope: 'admin', exp: now() - 3600 }))), 'expired with the scope', /expired/);
});

test('JWT and API key on one route: the token is checked first (401), then the key (403)', T, async (t) => {
  const { p } = await jwtPortico(t);
  const tok = await sign(RS, { sub: 'both' });
  assert401(await get(p, '/jwt-key', { 'x-api-key': 'jwt-route-key-0123456789abcdef' }), 'key without a token');
  assert403(await get(p, '/jwt-key', bearer(tok)), 'token without a key');
  assert.equal(assert200(await get(p, '/jwt-key', { ...bearer(tok), 'x-api-key': 'jwt-route-key-0123456789abcdef' }), 'both'), 'sub=both email=user-1@example.test');
});

/* ------------------------------------------------------------------------------------------ */
/* JWKS URL: unreachable and hanging servers                                                  */
/* ------------------------------------------------------------------------------------------ */

test('JWKS URL: a fresh Portico whose JWKS server is unreachable answers 401 at once', T, async (t) => {
  const port = await deadPort();
  const f = await functionsFor(t, { app: appFn });
  const p = await startFor(t, {
    apis: [
      httpApi('shop', '/', {
        authorizers: { remote: jwtAuthorizer({ jwks: `http://127.0.0.1:${port}/jwks.json` }) },
        integrations: { app: lambda(f, 'app'), open: mockT('open') },
        routes: { 'GET /jwt': { integration: 'app', authorizer: 'remote' }, 'GET /open': { integration: 'open' } },
      }),
    ],
  });
  for (let i = 0; i < 3; i++) {
    const s = Date.now();
    assert401(await get(p, '/jwt', bearer(await sign(RS))), `request ${i}`, null);
    assert.ok(Date.now() - s < 1000, `request ${i} took ${Date.now() - s} ms`);
  }
  assert.equal(assert200(await get(p, '/open'), 'open route'), 'open');
  assert.equal(f.count(), 0);
});

test('JWKS URL: a JWKS server that never answers costs the first request at most the 1.5 s fetch deadline and blocks no other route', T, async (t) => {
  const hole = await blackhole();
  t.after(() => hole.close());
  const f = await functionsFor(t, { app: appFn });
  const p = await startFor(t, {
    apis: [
      httpApi('shop', '/', {
        authorizers: { remote: jwtAuthorizer({ jwks: hole.url }) },
        integrations: { app: lambda(f, 'app'), open: mockT('open') },
        routes: { 'GET /jwt': { integration: 'app', authorizer: 'remote' }, 'GET /open': { integration: 'open' } },
      }),
    ],
  });
  const tok = await sign(RS);
  const s = Date.now();
  const pendingJwt = get(p, '/jwt', bearer(tok)).then((r) => ({ r, ms: Date.now() - s }));
  await waitFor(() => hole.accepted() > 0, { timeoutMs: 2000, what: 'the JWKS fetch to start' });
  // While the fetch hangs, other routes and other connections are served at once.
  for (let i = 0; i < 5; i++) {
    const s2 = Date.now();
    assert.equal(assert200(await get(p, '/open'), 'open route during the hanging fetch'), 'open');
    assert.ok(Date.now() - s2 < 300, `the open route took ${Date.now() - s2} ms`);
  }
  const { r, ms } = await pendingJwt;
  assert401(r, 'the request that waited for the hanging fetch', null);
  assert.ok(ms >= 1000 && ms < 4000, `answered after ${ms} ms (fetch deadline 1.5 s)`);
  const s3 = Date.now();
  assert401(await get(p, '/jwt', bearer(tok)), 'the next request', null);
  assert.ok(Date.now() - s3 < 500, `the next request took ${Date.now() - s3} ms: it must not wait again within the minute`);
  assert.equal(hole.accepted(), 1, 'one fetch attempt');
  assert.equal(f.count(), 0);
});

/* ------------------------------------------------------------------------------------------ */
/* JWT on WebSocket $connect                                                                  */
/* ------------------------------------------------------------------------------------------ */

function wsJwtConfig(f) {
  return {
    apis: [
      wsApiAt('chat', '/', {
        authorizers: { users: jwtAuthorizer({ identitySource: '$request.querystring.token' }) },
        integrations: { ws: lambda(f, 'ws'), ctx: mockT('$context.authorizer.claims.sub/$context.authorizer.claims.email') },
        routes: {
          $connect: { integration: 'ws', authorizer: 'users' },
          $disconnect: { integration: 'ws' },
          $default: { integration: 'ws', routeResponse: true },
          ctx: { integration: 'ctx', routeResponse: true },
        },
      }),
      wsApiAt('scoped', '/scoped', {
        authorizers: { users: jwtAuthorizer({ identitySource: '$request.querystring.token', jwks: undefined, secret: HS_SECRET }) },
        integrations: { ws: lambda(f, 'ws') },
        routes: { $connect: { integration: 'ws', authorizer: 'users', authorizationScopes: ['chat:join'] }, $default: { integration: 'ws', routeResponse: true } },
      }),
    ],
  };
}

test('WebSocket $connect with a JWT in the query string: RS256/PS256/ES256/HS256 accepted, claims in every event and template', T, async (t) => {
  const f = await functionsFor(t, { ws: wsFn });
  const p = await startFor(t, wsJwtConfig(f), { files: { 'jwks.json': JWKS_FILE } });
  for (const key of [RS, PS, EC]) {
    const ws = await openWs(`${p.wsUrl}/dev?token=${await sign(key, { sub: `ws-${key.alg}` })}`);
    t.after(() => ws.terminate());
    const connect = await f.waitFor((r) => r.event?.requestContext?.eventType === 'CONNECT' && r.event.requestContext.authorizer?.claims?.sub === `ws-${key.alg}`);
    assert.equal(connect.event.requestContext.authorizer.claims.iss, ISS, '$connect event: requestContext.authorizer.claims');
    for (let i = 0; i < 2; i++) {
      ws.send(JSON.stringify({ action: 'hello', i }));
      const m = await nextJson(ws);
      assert.equal(m.authorizer?.claims?.sub, `ws-${key.alg}`, `message ${i}: the $connect claims stay with the connection`);
    }
    ws.send(JSON.stringify({ action: 'ctx' }));
    assert.equal(await nextText(ws), `ws-${key.alg}/user-1@example.test`, 'MOCK $context.authorizer.claims.NAME on a later message');
  }
  // HS256 with a required scope on the second API.
  const ok = await openWs(`${p.wsUrl}/scoped/dev?token=${await sign('HS', { sub: 'hs-ws', scope: 'chat:join' })}`);
  t.after(() => ok.terminate());
  ok.send('{"action":"x"}');
  assert.equal((await nextJson(ok)).authorizer.claims.sub, 'hs-ws');
  assert.equal(await handshakeStatus(`${p.wsUrl}/scoped/dev?token=${await sign('HS', { scope: 'chat:read' })}`), 403, 'a token without the scope');
  assert.equal(await handshakeStatus(`${p.wsUrl}/scoped/dev?token=${await sign('HS', { scope: 'chat:join', exp: now() - 120 })}`), 401, 'expired, with the scope');
});

test('WebSocket $connect refuses bad JWTs with 401 before calling the integration', T, async (t) => {
  const f = await functionsFor(t, { ws: wsFn });
  const p = await startFor(t, wsJwtConfig(f), { files: { 'jwks.json': JWKS_FILE } });
  const c = claims();
  const good = await sign(RS);
  const [gh, , gs] = good.split('.');
  const cases = [
    ['no token', ''],
    ['empty token', '?token='],
    ['wrong issuer', `?token=${await sign(RS, { iss: 'https://evil.example.test' })}`],
    ['wrong audience', `?token=${await sign(EC, { aud: 'nope' })}`],
    ['aud wrong, client_id right', `?token=${await sign(EC, { aud: 'nope', client_id: AUD })}`],
    ['expired beyond leeway', `?token=${await sign(PS, { exp: now() - 120 })}`],
    ['nbf in the future', `?token=${await sign(PS, { nbf: now() + 300 })}`],
    ['alg none', `?token=${handMade({ alg: 'none' }, c)}`],
    ['algorithm confusion', `?token=${handMade({ alg: 'HS256', kid: 'rs-1' }, c, { secret: RS.pem })}`],
    ['forged signature', `?token=${await sign(ATTACKER)}`],
    ['tampered payload', `?token=${gh}.${b64json(claims({ sub: 'root' }))}.${gs}`],
    ['unknown kid', `?token=${await sign(EC, {}, { kid: 'ec-9' })}`],
    ['a different query parameter', `?access_token=${good}`],
  ];
  for (const [what, q] of cases) {
    let err;
    try {
      const ws = await openWs(`${p.wsUrl}/dev${q}`);
      ws.terminate();
    } catch (e) {
      err = e;
    }
    assert.equal(err?.status, 401, `${what}: handshake ${err?.status ?? 101}`);
    assert.equal(err.body, '{"message":"Unauthorized"}', `${what}: body`);
  }
  // A token in the Authorization header does not count: the identity source is the query string.
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`, { headers: bearer(good) }), 401, 'token in a header');
  assert.equal(f.count((r) => r.event?.requestContext?.eventType === 'CONNECT'), 0, 'the $connect integration never ran');
  // The good one still works, and a 20 KB query string is refused without harm.
  const big = await handshakeStatus(`${p.wsUrl}/dev?token=${gh}.${'A'.repeat(20000)}.${gs}`);
  assert.ok(big >= 400 && big < 500, `a 20 KB token: ${big}`);
  const ws = await openWs(`${p.wsUrl}/dev?token=${good}`);
  ws.terminate();
});

/* ------------------------------------------------------------------------------------------ */
/* REQUEST authorizers on HTTP routes                                                         */
/* ------------------------------------------------------------------------------------------ */

/** Simple-response authorizer (AWS_PROXY): decides by its first identity source value. */
function simpleAuthorizer(event) {
  const v = event.identitySource[0];
  if (v.startsWith('allow')) return { isAuthorized: true, context: { user: v, n: 7, admin: true } };
  if (v === 'deny') return { isAuthorized: false, context: { why: 'no' } };
  if (v === 'garbage') return rawResult('this is not JSON');
  if (v === 'array') return rawResult('[1,2,3]');
  if (v === 'nobool') return { isAuthorized: 'yes' };
  if (v === 'null') return null;
  throw new Error('authorizer crashed');
}

const policy = (effect, extra = {}, action = 'execute-api:Invoke') => ({
  principalId: 'user-9',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: action, Effect: effect, Resource: 'arn:aws:execute-api:us-east-1:123456789012:other/prod/GET/elsewhere' }] },
  context: { role: 'admin', level: 3, vip: false },
  ...extra,
});

/** Policy-response authorizer (HTTP_PROXY): decides by x-token. */
function policyAnswer(rec) {
  const ev = JSON.parse(rec.text);
  const tok = ev.identitySource[0];
  switch (tok) {
    case 'allow':
      return { body: policy('Allow') };
    case 'deny':
      return { body: policy('Deny') };
    case 'both': {
      const b = policy('Allow');
      b.policyDocument.Statement.push({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' });
      return { body: b };
    }
    case 'other-action':
      return { body: policy('Allow', {}, 's3:GetObject') };
    case 'no-document':
      return { body: { principalId: 'user-9', context: {} } };
    case 'status500':
      return { status: 500, body: policy('Allow') };
    case 'not-json':
      return { body: 'Allow' };
    default:
      return { status: 404, body: 'unknown token' };
  }
}

async function requestPortico(t) {
  const f = await functionsFor(t, { app: appFn, authz: simpleAuthorizer });
  const b = await backendFor(t, policyAnswer);
  const dead = await deadPort();
  const p = await startFor(t, {
    apis: [
      httpApi('gate', '/', {
        authorizers: {
          simple: { type: 'REQUEST', integration: 'authfn', identitySource: ['$request.header.Authorization'], simpleResponses: true },
          nocache: { type: 'REQUEST', integration: 'authfn', identitySource: '$request.header.Authorization', resultTtlSeconds: 0, simpleResponses: true },
          policy: { type: 'REQUEST', integration: 'authhttp', identitySource: ['$request.header.x-token', '$request.querystring.tenant'], resultTtlSeconds: 300 },
          dead: { type: 'REQUEST', integration: 'authdead', identitySource: ['$request.header.x-token'] },
        },
        integrations: {
          authfn: lambda(f, 'authz'),
          authhttp: { type: 'HTTP_PROXY', uri: `${b.url}/authorize` },
          authdead: { type: 'HTTP_PROXY', uri: `http://127.0.0.1:${dead}/authorize` },
          app: lambda(f, 'app'),
          app1: lambda(f, 'app', { payloadFormatVersion: '1.0' }),
          simpleMock: mockT('user=$context.authorizer.user n=$context.authorizer.n admin=$context.authorizer.admin'),
          policyMock: mockT('principal=$context.authorizer.principalId role=$context.authorizer.role level=$context.authorizer.level'),
        },
        routes: {
          'GET /simple': { integration: 'app', authorizer: 'simple' },
          'GET /simple-v1': { integration: 'app1', authorizer: 'simple' },
          'GET /simple-mock': { integration: 'simpleMock', authorizer: 'simple' },
          'GET /nocache': { integration: 'app', authorizer: 'nocache' },
          'POST /policy/{id}': { integration: 'app', authorizer: 'policy' },
          'GET /policy-v1': { integration: 'app1', authorizer: 'policy' },
          'GET /policy-mock': { integration: 'policyMock', authorizer: 'policy' },
          'GET /dead': { integration: 'app', authorizer: 'dead' },
        },
      }),
    ],
  });
  return { f, b, p, authzCalls: () => f.count((r) => r.name === 'authz'), appCalls: () => f.count((r) => r.name === 'app') };
}

test('REQUEST (AWS_PROXY, simple responses): the event, the context in 2.0, 1.0 and MOCK, the cache, deny', T, async (t) => {
  const { f, p, authzCalls, appCalls } = await requestPortico(t);
  const r = await httpRequest({ port: p.port, path: '/simple?x=1&y=two', headers: { Authorization: 'allow-1', 'X-Custom-Header': 'Mixed' } });
  const body = assert200(r, 'allowed');
  assert.deepEqual(body.rc.authorizer.lambda, { user: 'allow-1', n: 7, admin: true }, '2.0: requestContext.authorizer.lambda keeps JSON types');
  // The event the authorizer got.
  assert.equal(authzCalls(), 1);
  const ev = f.events('authz')[0];
  assert.equal(ev.type, 'REQUEST');
  assert.equal(ev.version, '2.0');
  assert.match(ev.routeArn, /^arn:aws:execute-api:[^:]+:\d+:gate\/\$default\/GET\/simple$/, `routeArn ${ev.routeArn}`);
  assert.deepEqual(ev.identitySource, ['allow-1']);
  assert.equal(ev.routeKey, 'GET /simple');
  assert.equal(ev.rawPath, '/simple');
  assert.equal(ev.rawQueryString, 'x=1&y=two');
  assert.equal(ev.headers.authorization, 'allow-1');
  assert.equal(ev.headers['x-custom-header'], 'Mixed', 'header names are lower-case');
  assert.ok(Object.keys(ev.headers).every((k) => k === k.toLowerCase()), `header names: ${Object.keys(ev.headers)}`);
  assert.deepEqual(ev.stageVariables, { tier: 'gold' });
  assert.equal(ev.requestContext.apiId, 'gate');
  assert.equal(ev.requestContext.stage, '$default');
  assert.equal(ev.requestContext.routeKey, 'GET /simple');
  assert.equal(ev.requestContext.requestId, r.headers['apigw-requestid'], 'the request id of the request');
  assert.deepEqual(ev.requestContext.http, { method: 'GET', path: '/simple', sourceIp: '127.0.0.1' });
  // Cached for the same identity value (on any route of the authorizer); a new value calls again.
  for (let i = 0; i < 3; i++) assert200(await get(p, '/simple', { Authorization: 'allow-1' }), `cached ${i}`);
  assert.equal(authzCalls(), 1, 'cache hits make no call');
  const v1 = assert200(await get(p, '/simple-v1', { Authorization: 'allow-1' }), 'payload 1.0');
  assert.equal(authzCalls(), 1, 'the cache is per authorizer and identity values, not per route');
  assert.equal(v1.rc.authorizer.user, 'allow-1', '1.0: context flattened into requestContext.authorizer');
  assert.equal(v1.rc.authorizer.n, '7', '1.0: numbers become strings');
  assert.equal(v1.rc.authorizer.admin, 'true', '1.0: booleans become strings');
  assert.equal(assert200(await get(p, '/simple-mock', { Authorization: 'allow-2' }), 'mock'), 'user=allow-2 n=7 admin=true');
  assert.equal(authzCalls(), 2, 'a new identity value is a new call');
  // Deny is 403, and cached too.
  const appBefore = appCalls();
  assert403(await get(p, '/simple', { Authorization: 'deny' }), 'deny');
  assert403(await get(p, '/simple', { Authorization: 'deny' }), 'deny (cached)');
  assert.equal(authzCalls(), 3, 'a deny is cached');
  // A missing or empty identity source is 401 without a call.
  const noHeader = await get(p, '/simple');
  assert.equal(noHeader.status, 401);
  assert.equal(noHeader.text, '{"message":"Unauthorized"}');
  assert.equal(noHeader.headers['x-amzn-errortype'], 'UnauthorizedException');
  assert.equal((await get(p, '/simple', { Authorization: '' })).status, 401, 'an empty identity source');
  assert.equal(authzCalls(), 3, 'no call for a missing identity source');
  assert.equal(appCalls(), appBefore, 'nothing refused reached the integration');
});

test('REQUEST (AWS_PROXY): malformed answers and a failing function are 500 and are not cached; resultTtlSeconds 0 calls every time', T, async (t) => {
  const { p, authzCalls, appCalls } = await requestPortico(t);
  for (const v of ['garbage', 'array', 'nobool', 'null', 'throw']) {
    const before = authzCalls();
    assert500(await get(p, '/simple', { Authorization: v }), v);
    assert500(await get(p, '/simple', { Authorization: v }), `${v} again`);
    assert.equal(authzCalls(), before + 2, `${v}: a failure is not cached`);
  }
  assert.equal(appCalls(), 0);
  const before = authzCalls();
  for (let i = 0; i < 3; i++) assert200(await get(p, '/nocache', { Authorization: 'allow-ttl0' }), `TTL 0, request ${i}`);
  assert.equal(authzCalls(), before + 3, 'resultTtlSeconds 0: one call per request');
});

test('REQUEST (HTTP_PROXY, IAM policy): POSTed event, Allow/Deny (Deny wins, Resource not matched), two identity sources, cache, 500s', T, async (t) => {
  const { b, p } = await requestPortico(t);
  const authCalls = () => b.count((r) => r.path === '/authorize');
  const post = (path, token, body = '{"hello":1}') => httpRequest({ port: p.port, method: 'POST', path, headers: token ? { 'X-Token': token, 'content-type': 'application/json' } : {}, body });
  const body = assert200(await post('/policy/42?tenant=acme', 'allow'), 'allow');
  assert.deepEqual(body.rc.authorizer.lambda, { role: 'admin', level: 3, vip: false }, '2.0: requestContext.authorizer.lambda');
  assert.equal(authCalls(), 1);
  const rec = b.requests[0];
  assert.equal(rec.method, 'POST');
  assert.match(rec.headers['content-type'] ?? '', /application\/json/);
  const ev = JSON.parse(rec.text);
  assert.equal(ev.type, 'REQUEST');
  assert.equal(ev.version, '2.0');
  assert.match(ev.routeArn, /gate\/\$default\/POST\/policy\/42$/);
  assert.deepEqual(ev.identitySource, ['allow', 'acme']);
  assert.equal(ev.routeKey, 'POST /policy/{id}');
  assert.equal(ev.rawPath, '/policy/42');
  assert.equal(ev.rawQueryString, 'tenant=acme');
  assert.equal(ev.headers['x-token'], 'allow');
  assert.equal(ev.requestContext.http.method, 'POST');
  assert.equal(ev.requestContext.http.path, '/policy/42');
  // Cache key: every identity source value.
  assert200(await post('/policy/43?tenant=acme', 'allow'), 'cached (other path, same values)');
  assert.equal(authCalls(), 1, 'cached');
  assert200(await post('/policy/42?tenant=globex', 'allow'), 'other tenant');
  assert.equal(authCalls(), 2, 'a different second identity value is a new call');
  // principalId and context in payload 1.0 and in a MOCK template.
  const v1 = assert200(await get(p, '/policy-v1?tenant=acme', { 'X-Token': 'allow' }), 'payload 1.0');
  assert.equal(v1.rc.authorizer.principalId, 'user-9');
  assert.equal(v1.rc.authorizer.role, 'admin');
  assert.equal(v1.rc.authorizer.level, '3');
  assert.equal(v1.rc.authorizer.vip, 'false');
  assert.equal(assert200(await get(p, '/policy-mock?tenant=acme', { 'X-Token': 'allow' }), 'mock'), 'principal=user-9 role=admin level=3');
  // Refusals.
  assert403(await post('/policy/1?tenant=acme', 'deny'), 'Deny');
  assert403(await post('/policy/1?tenant=acme', 'both'), 'Allow and Deny: Deny wins');
  assert403(await post('/policy/1?tenant=acme', 'other-action'), 'Allow for another action only');
  assert500(await post('/policy/1?tenant=acme', 'no-document'), 'no policyDocument');
  assert500(await post('/policy/1?tenant=acme', 'status500'), 'authorizer answered 500');
  assert500(await post('/policy/1?tenant=acme', 'not-json'), 'authorizer answered text');
  assert500(await get(p, '/dead', { 'X-Token': 'allow' }), 'authorizer unreachable');
  // One of two identity sources missing: 401 and no call.
  const before = authCalls();
  assert.equal((await post('/policy/1', 'allow')).status, 401, 'no tenant');
  assert.equal((await post('/policy/1?tenant=acme', null)).status, 401, 'no x-token');
  assert.equal(authCalls(), before, 'no call without every identity source');
});

/* ------------------------------------------------------------------------------------------ */
/* REQUEST authorizer on WebSocket $connect                                                   */
/* ------------------------------------------------------------------------------------------ */

test('REQUEST on WebSocket $connect: the CONNECT event, the context on $connect and every later message, 401/403/500 handshakes, cache', T, async (t) => {
  const f = await functionsFor(t, {
    ws: wsFn,
    wsauth: (event) => {
      const tok = event.identitySource[0];
      if (tok.startsWith('good')) return policy('Allow', { principalId: `p-${tok}`, context: { role: 'member', level: 2, vip: false } });
      if (tok === 'deny') return policy('Deny');
      if (tok === 'broken') return rawResult('{');
      throw new Error('boom');
    },
  });
  const p = await startFor(t, {
    apis: [
      wsApiAt('chat', '/', {
        authorizers: { gate: { type: 'REQUEST', integration: 'auth', identitySource: ['$request.querystring.token'] } },
        integrations: { auth: lambda(f, 'wsauth'), ws: lambda(f, 'ws'), ctx: mockT('$context.authorizer.principalId:$context.authorizer.role:$context.authorizer.level') },
        routes: {
          $connect: { integration: 'ws', authorizer: 'gate' },
          $default: { integration: 'ws', routeResponse: true },
          ctx: { integration: 'ctx', routeResponse: true },
        },
      }),
    ],
  });
  const authCalls = () => f.count((r) => r.name === 'wsauth');
  const ws = await openWs(`${p.wsUrl}/dev?token=good-1&room=5`, { headers: { 'X-Client': 'Test' } });
  t.after(() => ws.terminate());
  const ev = f.events('wsauth')[0];
  assert.equal(ev.type, 'REQUEST');
  assert.match(ev.methodArn, /^arn:aws:execute-api:[^:]+:\d+:chat\/dev\/\$connect$/, `methodArn ${ev.methodArn}`);
  assert.equal(ev.routeArn, undefined, 'WebSocket authorizers get methodArn');
  assert.deepEqual(ev.identitySource, ['good-1']);
  assert.equal(ev.routeKey, '$connect');
  assert.equal(ev.rawQueryString, 'token=good-1&room=5');
  assert.equal(ev.headers['x-client'], 'Test');
  assert.equal(ev.requestContext.eventType, 'CONNECT');
  assert.equal(ev.requestContext.routeKey, '$connect');
  assert.equal(ev.requestContext.stage, 'dev');
  assert.equal(ev.requestContext.identity.sourceIp, '127.0.0.1');
  const connect = f.events('ws').find((e) => e.requestContext.eventType === 'CONNECT');
  assert.deepEqual(connect.requestContext.authorizer, { principalId: 'p-good-1', role: 'member', level: '2', vip: 'false' }, '$connect event: flattened, string values');
  for (let i = 0; i < 3; i++) {
    ws.send(JSON.stringify({ n: i }));
    const m = await nextJson(ws);
    assert.deepEqual(m.authorizer, { principalId: 'p-good-1', role: 'member', level: '2', vip: 'false' }, `message ${i}: context persists`);
  }
  ws.send('{"action":"ctx"}');
  assert.equal(await nextText(ws), 'p-good-1:member:2', 'MOCK $context.authorizer.principalId and .NAME');
  // A second connection with the same token: served from the cache.
  const ws2 = await openWs(`${p.wsUrl}/dev?token=good-1`);
  ws2.terminate();
  assert.equal(authCalls(), 1, 'cached for the same identity value');
  const connectsBefore = f.count((r) => r.name === 'ws' && r.event?.requestContext?.eventType === 'CONNECT');
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev?token=deny`), 403, 'Deny');
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev?token=broken`), 500, 'malformed answer');
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev?token=crash`), 500, 'the authorizer function failed');
  const callsBefore = authCalls();
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev`), 401, 'no token');
  assert.equal(await handshakeStatus(`${p.wsUrl}/dev?token=`), 401, 'empty token');
  assert.equal(authCalls(), callsBefore, 'no authorizer call without the identity source');
  assert.equal(f.count((r) => r.name === 'ws' && r.event?.requestContext?.eventType === 'CONNECT'), connectsBefore, 'refused handshakes never reach $connect');
});

/* ------------------------------------------------------------------------------------------ */
/* AWS_IAM                                                                                    */
/* ------------------------------------------------------------------------------------------ */

test('AWS_IAM on HTTP routes and $connect: aws4-signed requests pass, the access key reaches events and templates; unsigned, bad, unknown and stale signatures are 403', T, async (t) => {
  const f = await functionsFor(t, { app: appFn, ws: wsFn });
  const p = await startFor(t, {
    credentials: [...CREDENTIALS, { accessKeyId: 'AKIDSECOND', secretAccessKey: 'second-secret-key-for-the-tests-0123456789' }],
    apis: [
      httpApi('shop', '/', {
        integrations: { app: lambda(f, 'app'), app1: lambda(f, 'app', { payloadFormatVersion: '1.0' }), who: mockT('key=$context.identity.accessKey') },
        routes: {
          'ANY /iam': { integration: 'app', authorizer: 'AWS_IAM' },
          'GET /iam-v1': { integration: 'app1', authorizer: 'AWS_IAM' },
          'GET /iam-mock': { integration: 'who', authorizer: 'AWS_IAM' },
        },
      }),
      wsApiAt('chat', '/ws', {
        integrations: { ws: lambda(f, 'ws') },
        routes: { $connect: { integration: 'ws', authorizer: 'AWS_IAM' }, $default: { integration: 'ws', routeResponse: true } },
      }),
    ],
  });
  const appCalls = () => f.count((r) => r.name === 'app');
  const ok = assert200(await signedRequest(p.port, 'GET', '/iam?b=2&a=1'), 'signed GET');
  assert.equal(ok.rc.authorizer.iam.accessKey, AKID, '2.0: requestContext.authorizer.iam.accessKey');
  const post = assert200(await signedRequest(p.port, 'POST', '/iam', '{"order":1}', { headers: { 'content-type': 'application/json' } }), 'signed POST with a body');
  assert.equal(post.rc.authorizer.iam.accessKey, AKID);
  const second = assert200(await signedRequest(p.port, 'PUT', '/iam', 'x', { accessKeyId: 'AKIDSECOND', secretAccessKey: 'second-secret-key-for-the-tests-0123456789', region: 'eu-west-1' }), 'another key, another region');
  assert.equal(second.rc.authorizer.iam.accessKey, 'AKIDSECOND');
  assert.equal(assert200(await signedRequest(p.port, 'GET', '/iam', undefined, { signQuery: true }), 'presigned query').rc.authorizer.iam.accessKey, AKID);
  assert.equal(assert200(await signedRequest(p.port, 'GET', '/iam-v1'), 'payload 1.0').rc.identity.accessKey, AKID, '1.0: requestContext.identity.accessKey');
  assert.equal(assert200(await signedRequest(p.port, 'GET', '/iam-mock'), 'mock'), `key=${AKID}`);
  // Within the 15-minute window either way; the same signed request may be replayed inside it.
  assert200(await signedRequest(p.port, 'GET', '/iam', undefined, { date: new Date(Date.now() - 10 * 60000) }), 'signed 10 minutes ago');
  const replay = aws4.sign({ host: `127.0.0.1:${p.port}`, method: 'GET', path: '/iam', service: 'execute-api', region: 'us-east-1' }, { accessKeyId: AKID, secretAccessKey: SECRET });
  for (let i = 0; i < 2; i++) assert200(await httpRequest({ port: p.port, path: replay.path, headers: replay.headers }), `replayed signed request ${i}`);
  const before = appCalls();
  const unsigned = await get(p, '/iam');
  assert403(unsigned, 'unsigned', 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  assert.equal(unsigned.text, '{"message":"Missing Authentication Token"}');
  assert.equal((await signedRequest(p.port, 'GET', '/iam', undefined, { secretAccessKey: `${SECRET}x` })).headers['x-amzn-errortype'], 'InvalidSignatureException', 'wrong secret');
  const wrong = await signedRequest(p.port, 'GET', '/iam', undefined, { secretAccessKey: 'not-the-secret' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.headers['x-amzn-errortype'], 'InvalidSignatureException');
  const unknown = await signedRequest(p.port, 'GET', '/iam', undefined, { accessKeyId: 'AKIDUNKNOWN' });
  assert.equal(unknown.status, 403);
  assert.equal(unknown.headers['x-amzn-errortype'], 'UnrecognizedClientException');
  for (const [what, ms] of [['20 minutes ago', -20 * 60000], ['20 minutes ahead', 20 * 60000]]) {
    const r = await signedRequest(p.port, 'GET', '/iam', undefined, { date: new Date(Date.now() + ms) });
    assert.equal(r.status, 403, `signed ${what}`);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException', `signed ${what}`);
  }
  // The body is signed: another body is another signature.
  const s = aws4.sign({ host: `127.0.0.1:${p.port}`, method: 'POST', path: '/iam', body: 'amount=1', service: 'execute-api', region: 'us-east-1', headers: { 'content-type': 'text/plain' } }, { accessKeyId: AKID, secretAccessKey: SECRET });
  const tampered = await httpRequest({ port: p.port, method: 'POST', path: '/iam', headers: { ...s.headers, 'Content-Length': '9' }, body: 'amount=9!' });
  assert.equal(tampered.status, 403, 'tampered body');
  assert.equal(tampered.headers['x-amzn-errortype'], 'InvalidSignatureException');
  // Another path than the one signed.
  const moved = await httpRequest({ port: p.port, path: '/iam-v1', headers: replay.headers });
  assert.equal(moved.status, 403, 'signature for another path');
  assert.equal(appCalls(), before, 'nothing refused reached the integration');

  // $connect: a presigned URL (the way browsers sign a WebSocket handshake).
  const pre = aws4.sign({ host: `127.0.0.1:${p.port}`, method: 'GET', path: '/ws/dev?room=1', service: 'execute-api', region: 'us-east-1', signQuery: true }, { accessKeyId: AKID, secretAccessKey: SECRET });
  const ws = await openWs(`${p.wsUrl}${pre.path}`);
  t.after(() => ws.terminate());
  const connect = f.events('ws').find((e) => e.requestContext.eventType === 'CONNECT');
  assert.equal(connect.requestContext.identity.accessKey, AKID, '$connect event: requestContext.identity.accessKey');
  ws.send('{"action":"hi"}');
  assert.equal((await nextJson(ws)).identity.accessKey, AKID, 'later messages: requestContext.identity.accessKey');
  assert.equal(await handshakeStatus(`${p.wsUrl}/ws/dev?room=1`), 403, 'unsigned handshake');
  const badPre = aws4.sign({ host: `127.0.0.1:${p.port}`, method: 'GET', path: '/ws/dev', service: 'execute-api', region: 'us-east-1', signQuery: true }, { accessKeyId: AKID, secretAccessKey: 'nope' });
  assert.equal(await handshakeStatus(`${p.wsUrl}${badPre.path}`), 403, 'badly signed handshake');
  assertNoSecretsLogged(p, [SECRET, 'second-secret-key-for-the-tests-0123456789']);
});

/* ------------------------------------------------------------------------------------------ */
/* API keys                                                                                   */
/* ------------------------------------------------------------------------------------------ */

test('API keys: valid, unknown, disabled, missing; apiKeySelectionExpression header and usageIdentifierKey; $connect; keys never logged', T, async (t) => {
  const KEY_A = `alice-${crypto.randomBytes(18).toString('base64url')}`;
  const KEY_B = `bob-${crypto.randomBytes(18).toString('base64url')}`;
  const KEY_C = `carol-${crypto.randomBytes(40).toString('hex')}`; // long: 86 characters
  const f = await functionsFor(t, {
    app: appFn,
    ws: wsFn,
    keyauth: (event) => {
      const user = event.identitySource[0];
      const keys = { alice: KEY_A, bob: KEY_B, mallory: `${KEY_A.slice(0, -1)}${KEY_A.endsWith('Z') ? 'Y' : 'Z'}`, carol: KEY_C };
      const out = { principalId: `user-${user}`, policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }] } };
      if (keys[user]) out.usageIdentifierKey = keys[user];
      return out;
    },
  });
  const keyed = { integration: 'who', apiKeyRequired: true };
  const p = await startFor(t, {
    apiKeys: [
      { id: 'k-alice', name: 'alice', value: KEY_A, enabled: true },
      { id: 'k-bob', name: 'bob', value: KEY_B, enabled: false },
      { id: 'k-carol', name: 'carol', value: KEY_C },
    ],
    apis: [
      httpApi('keys', '/', {
        integrations: { who: mockT('key=$context.identity.apiKeyId'), app1: lambda(f, 'app', { payloadFormatVersion: '1.0' }), free: mockT('free') },
        routes: { 'GET /keyed': keyed, 'GET /keyed-v1': { integration: 'app1', apiKeyRequired: true }, 'GET /free': { integration: 'free' } },
      }),
      httpApi('hdr', '/hdr', {
        apiKeySelectionExpression: '$request.header.X-Portico-Key',
        integrations: { who: mockT('key=$context.identity.apiKeyId') },
        routes: { 'GET /keyed': keyed },
      }),
      httpApi('ak', '/ak', {
        apiKeySelectionExpression: '$context.authorizer.usageIdentifierKey',
        authorizers: { users: { type: 'REQUEST', integration: 'auth', identitySource: '$request.header.x-user', resultTtlSeconds: 0 } },
        integrations: { auth: lambda(f, 'keyauth'), who: mockT('key=$context.identity.apiKeyId principal=$context.authorizer.principalId') },
        routes: { 'GET /keyed': { integration: 'who', authorizer: 'users', apiKeyRequired: true } },
      }),
      wsApiAt('chat', '/ws', {
        integrations: { ws: lambda(f, 'ws') },
        routes: { $connect: { integration: 'ws', apiKeyRequired: true }, $default: { integration: 'ws', routeResponse: true } },
      }),
    ],
  });
  assert.equal(assert200(await get(p, '/keyed', { 'x-api-key': KEY_A }), 'valid key'), 'key=k-alice');
  assert.equal(assert200(await get(p, '/keyed', { 'X-API-KEY': KEY_C }), 'valid key, header name in capitals; enabled by default'), 'key=k-carol');
  assert.equal(assert200(await get(p, '/keyed-v1', { 'x-api-key': KEY_A }), 'payload 1.0').rc.identity.apiKeyId, 'k-alice', '1.0: requestContext.identity.apiKeyId');
  const refused = [
    ['missing', {}],
    ['empty', { 'x-api-key': '' }],
    ['disabled', { 'x-api-key': KEY_B }],
    ['unknown, same length', { 'x-api-key': `${KEY_A.slice(0, -1)}${KEY_A.endsWith('Z') ? 'Y' : 'Z'}` }],
    ['a prefix of a key', { 'x-api-key': KEY_A.slice(0, -1) }],
    ['a key plus one character', { 'x-api-key': `${KEY_A}x` }],
    ['the key id', { 'x-api-key': 'k-alice' }],
    ['the key name', { 'x-api-key': 'alice' }],
    ['the key in another header', { 'x-portico-key': KEY_A }],
  ];
  for (const [what, headers] of refused) assert403(await get(p, '/keyed', headers), what);
  assert.equal(assert200(await get(p, '/free'), 'a route without apiKeyRequired'), 'free');
  // apiKeySelectionExpression: another header.
  assert.equal(assert200(await get(p, '/hdr/keyed', { 'x-portico-key': KEY_A }), 'the chosen header'), 'key=k-alice');
  assert403(await get(p, '/hdr/keyed', { 'x-api-key': KEY_A }), 'x-api-key where another header is chosen');
  assert403(await get(p, '/hdr/keyed', { 'x-portico-key': KEY_B }), 'disabled key in the chosen header');
  // usageIdentifierKey from a REQUEST authorizer.
  assert.equal(assert200(await get(p, '/ak/keyed', { 'x-user': 'alice' }), 'usageIdentifierKey of alice'), 'key=k-alice principal=user-alice');
  assert.equal(assert200(await get(p, '/ak/keyed', { 'x-user': 'carol' }), 'usageIdentifierKey of carol'), 'key=k-carol principal=user-carol');
  assert403(await get(p, '/ak/keyed', { 'x-user': 'bob' }), 'usageIdentifierKey of a disabled key');
  assert403(await get(p, '/ak/keyed', { 'x-user': 'mallory' }), 'usageIdentifierKey of no key');
  assert403(await get(p, '/ak/keyed', { 'x-user': 'nobody', 'x-api-key': KEY_A }), 'no usageIdentifierKey: the x-api-key header does not count');
  assert.equal((await get(p, '/ak/keyed', { 'x-api-key': KEY_A })).status, 401, 'no identity source: the authorizer refuses first');
  // $connect with apiKeyRequired.
  assert.equal(await handshakeStatus(`${p.wsUrl}/ws/dev`), 403, '$connect without a key');
  assert.equal(await handshakeStatus(`${p.wsUrl}/ws/dev`, { headers: { 'x-api-key': KEY_B } }), 403, '$connect with a disabled key');
  const ws = await openWs(`${p.wsUrl}/ws/dev`, { headers: { 'x-api-key': KEY_A } });
  t.after(() => ws.terminate());
  const connect = f.events('ws').find((e) => e.requestContext.eventType === 'CONNECT');
  assert.equal(connect.requestContext.identity.apiKeyId, 'k-alice', '$connect event: requestContext.identity.apiKeyId');
  ws.send('{"a":1}');
  assert.equal((await nextJson(ws)).identity.apiKeyId, 'k-alice', 'later messages keep the key id');
  assertNoSecretsLogged(p, [KEY_A, KEY_B, KEY_C]);
});

test('--check: auth config errors (key lengths and duplicates, short secrets, JWKS sources, TTL range, authorizers off $connect, usage plans)', T, async (t) => {
  const cases = [
    ['a 19-character key', { apiKeys: [{ id: 'a', value: 'x'.repeat(19) }] }, /apiKeys\[0\]\.value.*20 to 128/],
    ['a 129-character key', { apiKeys: [{ id: 'a', value: 'x'.repeat(129) }] }, /apiKeys\[0\]\.value.*20 to 128/],
    ['duplicate key values', { apiKeys: [{ id: 'a', value: 'y'.repeat(20) }, { id: 'b', value: 'y'.repeat(20) }] }, /apiKeys\[1\].*same value/],
    ['a 31-byte HS256 secret', { authorizers: { a: jwtAuthorizer({ jwks: undefined, secret: 's'.repeat(31) }) } }, /secret.*32 bytes/],
    ['a JWKS URL of another scheme', { authorizers: { a: jwtAuthorizer({ jwks: 'ftp://issuer.example.test/jwks.json' }) } }, /jwks/],
    ['neither jwks nor secret', { authorizers: { a: jwtAuthorizer({ jwks: undefined }) } }, /needs "jwks".*"secret"/],
    ['resultTtlSeconds 3601', { authorizers: { a: { type: 'REQUEST', integration: 'echo', identitySource: ['$request.header.a'], resultTtlSeconds: 3601 } } }, /resultTtlSeconds/],
    ['an authorizer on a message route', { authorizers: { a: jwtAuthorizer({ jwks: undefined, secret: 's'.repeat(32) }) }, routes: { $default: { integration: 'echo', authorizer: 'a' } } }, /only \$connect/],
    ['a query-string apiKeySelectionExpression', { apiKeySelectionExpression: '$request.querystring.key' }, /apiKeySelectionExpression/],
  ];
  for (const [what, over, want] of cases) {
    const { apiKeys, ...apiOver } = over;
    const cfg = {
      ...(apiKeys ? { apiKeys } : {}),
      apis: [wsApiAt('chat', '/', { integrations: { echo: mockT('$request.body') }, routes: { $default: { integration: 'echo' } }, ...apiOver, ...(apiOver.routes ? { routes: apiOver.routes } : {}) })],
    };
    const c = await writeTempConfig(cfg);
    t.after(c.cleanup);
    const r = await runPortico(['--check', c.file]);
    assert.equal(r.code, 1, `${what}: --check should fail\n${r.output}`);
    assert.match(r.output, want, `${what}\n${r.output}`);
  }
  // A usage plan naming a key that exists passes (throttle.test.mjs covers plans).
  const plans = await writeTempConfig({ usagePlans: [{ name: 'gold', apiKeys: ['a'] }], apiKeys: [{ id: 'a', value: 'z'.repeat(20) }], apis: [wsApiAt('chat', '/', { integrations: { echo: mockT('x') }, routes: { $default: { integration: 'echo' } } })] });
  t.after(plans.cleanup);
  const r = await runPortico(['--check', plans.file]);
  assert.equal(r.code, 0, r.output);
});

test('JWKS URL: an oversize, malformed or keyless JWKS document gives no keys (401 at once), never a crash', T, async (t) => {
  const docs = [
    ['over 150000 bytes', JSON.stringify({ keys: [RS.jwk], padding: 'x'.repeat(160000) })],
    ['not JSON', '<html>login first</html>'],
    ['no keys array', JSON.stringify({ jwks: [RS.jwk] })],
    ['only an HMAC (oct) key', JSON.stringify({ keys: [{ kty: 'oct', kid: 'rs-1', k: Buffer.from(HS_SECRET).toString('base64url') }] })],
  ];
  for (const [what, doc] of docs) {
    const srv = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(doc);
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => srv.close(() => r())));
    const p = await startFor(t, {
      apis: [
        httpApi('shop', '/', {
          authorizers: { remote: jwtAuthorizer({ jwks: `http://127.0.0.1:${srv.address().port}/jwks.json` }) },
          integrations: { open: mockT('open') },
          routes: { 'GET /jwt': { integration: 'open', authorizer: 'remote' }, 'GET /open': { integration: 'open' } },
        }),
      ],
    });
    const s = Date.now();
    assert401(await get(p, '/jwt', bearer(await sign(RS))), what, null);
    assert401(await get(p, '/jwt', bearer(handMade({ alg: 'HS256', kid: 'rs-1' }, claims(), { secret: HS_SECRET }))), `${what}: HS256 against an oct JWK`, null);
    assert.ok(Date.now() - s < 1500, `${what}: ${Date.now() - s} ms`);
    assert.equal(assert200(await get(p, '/open'), `${what}: still serving`), 'open');
    assert.equal(p.hasExited(), false);
  }
});

/** A self-signed certificate (SAN `san`) made with the openssl CLI in dir: {cert, key, certFile}. */
function makeCert(dir, name, san) {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256', '-days', '2',
        '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`],
      async (err, _out, stderr) => {
        if (err) return reject(new Error(`openssl req failed: ${stderr}`));
        resolve({ cert: await fsp.readFile(certFile), key: await fsp.readFile(keyFile), certFile });
      },
    );
  });
}

test('JWKS over https: the certificate is verified (untrusted or misnamed: no keys, 401); trusted through SSL_CERT_FILE: the keys verify', T, async (t) => {
  const dir = await makeTempDir('portico-authz-tls-');
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const good = await makeCert(dir, 'jwks-local', 'DNS:localhost,IP:127.0.0.1');
  const other = await makeCert(dir, 'elsewhere', 'DNS:elsewhere.example.test');
  const servers = [];
  const serve = async (c) => {
    const gets = [];
    const srv = https.createServer({ cert: c.cert, key: c.key }, (req, res) => {
      gets.push(req.url);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JWKS_FILE);
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    servers.push(srv);
    return { url: `https://127.0.0.1:${srv.address().port}/jwks.json`, gets };
  };
  t.after(() => Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections?.(); s.close(() => r()); }))));
  const goodSrv = await serve(good);
  const otherSrv = await serve(other);
  const start = (url, env) =>
    startFor(t, {
      apis: [httpApi('shop', '/', {
        authorizers: { remote: jwtAuthorizer({ jwks: url }) },
        integrations: { open: mockT('in') },
        routes: { 'GET /jwt': { integration: 'open', authorizer: 'remote' } },
      })],
    }, { env });
  const tok = await sign(EC);
  // Not trusted: the self-signed certificate is not in the trust store.
  const untrusted = await start(goodSrv.url, { SSL_CERT_FILE: other.certFile, SSL_CERT_DIR: dir + '/none' });
  assert401(await get(untrusted, '/jwt', bearer(tok)), 'untrusted certificate', null);
  assert.equal(goodSrv.gets.length, 0, 'no JWKS request went over an unverified connection');
  // Trusted, but it names another host.
  const misnamed = await start(otherSrv.url, { SSL_CERT_FILE: other.certFile, SSL_CERT_DIR: dir + '/none' });
  assert401(await get(misnamed, '/jwt', bearer(tok)), 'a trusted certificate for another name', null);
  assert.equal(otherSrv.gets.length, 0, 'no JWKS request to a host whose certificate names another');
  // Trusted and named: the keys load.
  const trusted = await start(goodSrv.url, { SSL_CERT_FILE: good.certFile, SSL_CERT_DIR: dir + '/none' });
  assert.equal(assert200(await get(trusted, '/jwt', bearer(tok)), 'trusted https JWKS'), 'in');
  assert.equal(goodSrv.gets.length, 1);
});

test('AWS_IAM presigned URLs: X-Amz-Expires bounds the URL; without it the 15-minute window applies', T, async (t) => {
  const f = await functionsFor(t, { app: appFn });
  const p = await startFor(t, {
    credentials: CREDENTIALS,
    apis: [httpApi('shop', '/', { integrations: { app: lambda(f, 'app') }, routes: { 'GET /iam': { integration: 'app', authorizer: 'AWS_IAM' } } })],
  });
  const amzDate = (ms) => new Date(Date.now() + ms).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const presign = (query) =>
    aws4.sign({ host: `127.0.0.1:${p.port}`, method: 'GET', path: `/iam?${query}`, service: 'execute-api', region: 'us-east-1', signQuery: true }, { accessKeyId: AKID, secretAccessKey: SECRET }).path;
  const cases = [
    ['signed 5 minutes ago, X-Amz-Expires 600', `X-Amz-Expires=600&X-Amz-Date=${amzDate(-300000)}`, 200],
    ['signed 5 minutes ago, X-Amz-Expires 60', `X-Amz-Expires=60&X-Amz-Date=${amzDate(-300000)}`, 403],
    ['signed 10 minutes ago, no X-Amz-Expires', `X-Amz-Date=${amzDate(-600000)}`, 200],
    ['signed 20 minutes ago, no X-Amz-Expires', `X-Amz-Date=${amzDate(-1200000)}`, 403],
    ['signed an hour ago, X-Amz-Expires 7200', `X-Amz-Expires=7200&X-Amz-Date=${amzDate(-3600000)}`, 200],
    ['X-Amz-Expires over 7 days', `X-Amz-Expires=604801&X-Amz-Date=${amzDate(0)}`, 403],
  ];
  for (const [what, query, want] of cases) {
    const r = await httpRequest({ port: p.port, path: presign(query) });
    assert.equal(r.status, want, `${what}: ${r.status} ${r.headers['x-amzn-errortype']} ${r.text}`);
    if (want === 200) assert.equal(JSON.parse(r.text).rc.authorizer.iam.accessKey, AKID);
  }
});

test('REQUEST: after a reload that gives the authorizer another integration, cached verdicts of the old one are not used', T, async (t) => {
  const f = await functionsFor(t, { yes: () => ({ isAuthorized: true }), no: () => ({ isAuthorized: false }) });
  const cfg = (fn) => ({
    apis: [httpApi('gate', '/', {
      authorizers: { a: { type: 'REQUEST', integration: 'auth', identitySource: ['$request.header.x-token'], simpleResponses: true } },
      integrations: { auth: lambda(f, fn), m: mockT('in') },
      routes: { 'GET /m': { integration: 'm', authorizer: 'a' } },
    })],
  });
  const p = await startFor(t, cfg('yes'));
  assert200(await get(p, '/m', { 'x-token': 'alice' }), 'allowed by the first authorizer (and cached for 300 s)');
  await p.writeConfig(cfg('no'));
  p.signal('SIGHUP');
  await waitFor(() => p.logs().some((l) => l.includes('config reloaded')), { what: 'the reload' });
  assert403(await get(p, '/m', { 'x-token': 'bob' }), 'a new identity: the new authorizer denies');
  const r = await get(p, '/m', { 'x-token': 'alice' });
  assert.equal(r.status, 403, `the identity cached before the reload: expected the new authorizer's 403, got ${r.status} (calls: ${f.requests.map((x) => x.name).join(',')})`);
});

test('REQUEST: an authorizer that takes longer than 10 s is cut off with 500 (AWS HTTP APIs: 10 000 ms) and blocks no other request', { timeout: 30000 }, async (t) => {
  const f = await functionsFor(t, {
    app: appFn,
    slowauth: async () => {
      await sleep(12500);
      return { isAuthorized: true };
    },
  });
  const p = await startFor(t, {
    apis: [
      httpApi('gate', '/', {
        authorizers: { slow: { type: 'REQUEST', integration: 'auth', identitySource: ['$request.header.x-token'], simpleResponses: true } },
        integrations: { auth: lambda(f, 'slowauth'), app: lambda(f, 'app'), open: mockT('open') },
        routes: { 'GET /slow': { integration: 'app', authorizer: 'slow' }, 'GET /open': { integration: 'open' } },
      }),
    ],
  });
  const s = Date.now();
  const pendingSlow = httpRequest({ port: p.port, path: '/slow', headers: { 'x-token': 'patient' }, timeoutMs: 20000 }).then((r) => ({ r, ms: Date.now() - s }));
  await f.waitFor((r) => r.name === 'slowauth');
  const s2 = Date.now();
  assert.equal(assert200(await get(p, '/open'), 'another route while the authorizer is slow'), 'open');
  assert.ok(Date.now() - s2 < 300, `the other route took ${Date.now() - s2} ms`);
  const { r, ms } = await pendingSlow;
  assert.equal(r.status, 500, `a 12.5 s authorizer: expected 500 after about 10 s, got ${r.status} after ${ms} ms (body ${r.text})`);
  assert.equal(r.text, '{"message":"Internal Server Error"}');
  assert.ok(ms >= 9500 && ms < 11500, `cut off after ${ms} ms, expected about 10 000`);
  assert.equal(f.count((x) => x.name === 'app'), 0, 'the integration never ran');
});

test('--check: a JWT authorizer must name an issuer and at least one audience (else iss and aud go unchecked)', T, async (t) => {
  const cases = [
    ['no issuer', { audience: [AUD] }],
    ['no audience', { issuer: ISS }],
    ['an empty audience list', { issuer: ISS, audience: [] }],
  ];
  const accepted = [];
  for (const [what, over] of cases) {
    const a = { type: 'JWT', identitySource: '$request.header.Authorization', secret: HS_SECRET, ...over };
    const c = await writeTempConfig({ apis: [httpApi('shop', '/', { authorizers: { a }, integrations: { m: mockT('x') }, routes: { 'GET /x': { integration: 'm', authorizer: 'a' } } })] });
    t.after(c.cleanup);
    const r = await runPortico(['--check', c.file]);
    if (r.code !== 1 || !/authorizers\.a/.test(r.output)) accepted.push(`${what}: exit ${r.code}: ${r.output.trim()}`);
  }
  assert.deepEqual(accepted, [], 'configs --check should have refused');
});

test('--check: a REQUEST authorizer must call an AWS_PROXY or HTTP_PROXY integration', T, async (t) => {
  const accepted = [];
  for (const [what, integration] of [
    ['MOCK', mockT('{"isAuthorized":true}')],
    ['CHANNEL', { type: 'CHANNEL', action: 'publish', channel: 'auth' }],
  ]) {
    const c = await writeTempConfig({
      apis: [
        httpApi('shop', '/', {
          authorizers: { a: { type: 'REQUEST', integration: 'authz', identitySource: ['$request.header.x'], simpleResponses: true } },
          integrations: { authz: integration, m: mockT('x') },
          routes: { 'GET /x': { integration: 'm', authorizer: 'a' } },
        }),
      ],
    });
    t.after(c.cleanup);
    const r = await runPortico(['--check', c.file]);
    if (r.code !== 1 || !/authorizers\.a\.integration/.test(r.output)) accepted.push(`${what}: exit ${r.code}: ${r.output.trim()}`);
  }
  assert.deepEqual(accepted, [], 'configs --check should have refused');
});

/* ------------------------------------------------------------------------------------------ */
/* JWKS URL, after the minute                                                                 */
/* ------------------------------------------------------------------------------------------ */

test('JWKS URL, after a minute: a new kid is fetched once (parallel requests share it), the next unknown kid waits another minute; a dead or failing JWKS server keeps the old keys', { timeout: 90000 }, async () => {
  assert.ok(minute.R && minute.D && minute.E, 'the first test set the servers up');
  const start = Math.max(minute.R.t0, minute.D.t0, minute.E.t0) + 61500;
  if (Date.now() < start) await sleep(start - Date.now());
  const { J, R } = minute.R;

  const results = await Promise.all(Array.from({ length: 6 }, async (_, i) => get(R, '/jwt', bearer(await sign(K2, { sub: `rot-${i}` })))));
  results.forEach((r, i) => assert200(r, `rot-2 after the minute, request ${i}`));
  assert.equal(J.requests.length, 2, 'the parallel requests shared one refetch');
  assert200(await get(R, '/jwt', bearer(await sign(K2))), 'rot-2 now cached');
  assert.equal(J.requests.length, 2);
  // The issuer rotates again (rot-1 retired, rot-3 new): within a minute of the refetch rot-3 is refused without a fetch.
  J.keys = [K2.jwk, K3.jwk];
  assert401(await get(R, '/jwt', bearer(await sign(K3))), 'rot-3 within a minute of the refetch', /kid/);
  assert401(await get(R, '/jwt', bearer(await sign(KX))), 'a kid never served', /kid/);
  assert.equal(J.requests.length, 2, 'no fetch for unknown kids within the minute');
  assert200(await get(R, '/jwt', bearer(await sign(K1))), 'rot-1 stays in the cached set until the next fetch');

  // D: the JWKS server is gone. An unknown kid tries a refetch, which fails at once; the old keys stay.
  const { D } = minute.D;
  let s = Date.now();
  assert401(await get(D, '/jwt', bearer(await sign(KX))), 'D: unknown kid, refetch fails', /kid|algorithm/);
  assert.ok(Date.now() - s < 1500, `D: refusal took ${Date.now() - s} ms`);
  s = Date.now();
  assert200(await get(D, '/jwt', bearer(await sign(K1))), 'D: the old keys still verify after the failed refetch');
  assert.ok(Date.now() - s < 1000);

  // E: the JWKS server answers 503. The refetch is made once and fails; the old keys stay.
  const { J3, E } = minute.E;
  assert.equal(J3.requests.length, 1);
  assert401(await get(E, '/jwt', bearer(await sign(KX))), 'E: unknown kid, refetch answered 503', /kid|algorithm/);
  assert.equal(J3.requests.length, 2, 'E: one refetch attempt');
  assert200(await get(E, '/jwt', bearer(await sign(K1))), 'E: the old keys still verify');
  assert401(await get(E, '/jwt', bearer(await sign(KX))), 'E: unknown kid again');
  assert.equal(J3.requests.length, 2, 'E: no second attempt within the minute');
});
