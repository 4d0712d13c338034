#!/usr/bin/env node
// Publishes made-up stock prices to a Portico channel several times a second:
//   POST {endpoint}/@channels/{channel}   body {"t":ms,"seq":n,"quotes":{"ACME":123.45,...}}
// signed with SigV4 (service execute-api), as any backend would. Node 18 or later, no packages.
//
// Environment (all optional):
//   PORTICO_ENDPOINT  the WebSocket API stage       default http://127.0.0.1:8080/ws/live
//   CHANNEL           the channel                   default prices
//   RATE              updates per second            default 4
//   DURATION          stop after this many seconds  default 0 (run until Ctrl-C)
//   SYMBOLS           comma-separated symbols       default ACME,GLOBEX,INITECH,UMBRELLA,HOOLI
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION   default: the sample's credentials
import crypto from 'node:crypto';

const endpoint = (process.env.PORTICO_ENDPOINT || 'http://127.0.0.1:8080/ws/live').replace(/\/+$/, '');
const channel = process.env.CHANNEL || 'prices';
const rate = Math.min(50, Math.max(0.1, Number(process.env.RATE || 4)));
const duration = Number(process.env.DURATION || 0);
const symbols = (process.env.SYMBOLS || 'ACME,GLOBEX,INITECH,UMBRELLA,HOOLI').split(',').map((s) => s.trim()).filter(Boolean);
const accessKeyId = process.env.AWS_ACCESS_KEY_ID || 'AKIDEXAMPLE';
const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY || 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const region = process.env.AWS_REGION || 'us-east-1';

/* ---- SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) ---- */

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
// RFC 3986: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded.
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function sign(method, url, body) {
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, ''); // 20261126T101500Z
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/execute-api/aws4_request`;
  const headers = { host: url.host, 'x-amz-content-sha256': sha256(body), 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  // Services other than S3 encode the (already encoded) path once more.
  const canonicalUri = url.pathname.split('/').map(rfc3986).join('/');
  const canonical = [
    method,
    canonicalUri,
    '', // no query string
    ...names.map((n) => `${n}:${headers[n]}`),
    '',
    names.join(';'),
    headers['x-amz-content-sha256'],
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, date);
  for (const part of [region, 'execute-api', 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/* ---- Prices: a random walk per symbol ---- */

const prices = Object.fromEntries(symbols.map((s, i) => [s, [120, 48.5, 310, 75, 1450][i % 5] * (1 + i * 0.01)]));

function gaussian() {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

function tick() {
  for (const s of symbols) prices[s] = Math.max(0.01, prices[s] * Math.exp(0.003 * gaussian()));
  return Object.fromEntries(symbols.map((s) => [s, Math.round(prices[s] * 100) / 100]));
}

/* ---- The loop ---- */

const url = new URL(`${endpoint}/@channels/${rfc3986(channel)}`);
let seq = 0;
let delivered = 0;
let sent = 0;
let failing = false;
let lastReport = Date.now();
let stopped = false;

async function publish() {
  const body = JSON.stringify({ t: Date.now(), seq: ++seq, quotes: tick() });
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...sign('POST', url, body), 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(2000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.headers.get('x-amzn-errortype') || ''} ${text}`.trim());
  sent++;
  delivered += JSON.parse(text).delivered ?? 0;
}

async function main() {
  console.log(`publishing ${symbols.join(', ')} to ${url.href} ${rate} times a second${duration ? ` for ${duration} s` : ''} (Ctrl-C stops)`);
  const started = Date.now();
  const period = 1000 / rate;
  let next = Date.now();
  while (!stopped && (!duration || Date.now() - started < duration * 1000)) {
    try {
      await publish();
      if (failing) console.log('publishing again');
      failing = false;
    } catch (e) {
      // Portico restarting or not up yet: keep trying, say so once.
      if (!failing) console.error(`publish failed: ${e.cause?.code || e.message}; retrying`);
      failing = true;
    }
    if (Date.now() - lastReport >= 5000) {
      console.log(`${sent} updates published, ${delivered} deliveries to subscribers`);
      lastReport = Date.now();
    }
    next += period;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else next = Date.now(); // fell behind: don't burst to catch up
  }
  console.log(`done: ${sent} updates published, ${delivered} deliveries`);
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (stopped ? process.exit(0) : (stopped = true)));
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
