// A raw WebSocket client over a TCP socket, for frames no well-behaved library sends:
// unmasked frames, reserved opcodes and bits, oversized control frames, bad close codes.
import crypto from 'node:crypto';
import net from 'node:net';

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/** Encodes one frame. opts: {fin=true, rsv=0 (3 bits), opcode, payload, mask=true, len (override the length field)} */
export function encodeFrame({ fin = true, rsv = 0, opcode, payload = Buffer.alloc(0), mask = true }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = data.length;
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf)) >>> 0];
  const m = mask ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >> 8, n & 0xff);
  else {
    head.push(m | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(n));
    head.push(...big);
  }
  const parts = [Buffer.from(head)];
  if (mask) {
    const key = crypto.randomBytes(4);
    const masked = Buffer.alloc(n);
    for (let i = 0; i < n; i++) masked[i] = data[i] ^ key[i & 3];
    parts.push(key, masked);
  } else parts.push(data);
  return Buffer.concat(parts);
}

/** A close frame payload: 2-byte code and a reason. */
export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/**
 * Connects and performs the opening handshake. Resolves {sock, status, headers, send(frameOpts),
 * sendRaw(buf), nextFrame(ms), closed(ms)} when the status line and headers have arrived (101 or
 * not). Frames from the server are parsed into {fin, rsv, opcode, payload, code?, reason?}.
 * opts: {host, port, path, headers (extra or overriding request headers), timeoutMs}
 */
export function rawWs({ host = '127.0.0.1', port, path = '/', headers = {}, timeoutMs = 3000 }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const key = crypto.randomBytes(16).toString('base64');
    const reqHeaders = {
      Host: `${host}:${port}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
      ...headers,
    };
    let buf = Buffer.alloc(0);
    let handshaken = false;
    const frames = [];
    const waiters = [];
    let ended = false;
    const endWaiters = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw handshake to ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);

    function pushFrame(f) {
      const w = waiters.shift();
      if (w) w.resolve(f);
      else frames.push(f);
    }
    function parseFrames() {
      for (;;) {
        if (buf.length < 2) return;
        const b0 = buf[0];
        const b1 = buf[1];
        let len = b1 & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const masked = (b1 & 0x80) !== 0;
        if (masked) off += 4;
        if (buf.length < off + len) return;
        let payload = buf.subarray(off, off + len);
        if (masked) {
          const k = buf.subarray(off - 4, off);
          payload = Buffer.from(payload.map((x, i) => x ^ k[i & 3]));
        } else payload = Buffer.from(payload);
        const f = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, payload, masked };
        if (f.opcode === OP.CLOSE) {
          f.code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          f.reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
        }
        buf = buf.subarray(off + len);
        pushFrame(f);
      }
    }

    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!handshaken) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1').split('\r\n');
        buf = buf.subarray(end + 4);
        handshaken = true;
        clearTimeout(timer);
        const status = Number(head[0].split(' ')[1]);
        const hdrs = {};
        for (const line of head.slice(1)) {
          const i = line.indexOf(':');
          if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const expectAccept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        resolve({
          sock,
          status,
          headers: hdrs,
          acceptOk: hdrs['sec-websocket-accept'] === expectAccept,
          send: (f) => sock.write(encodeFrame(f)),
          sendRaw: (b) => sock.write(b),
          nextFrame(ms = 3000) {
            if (frames.length) return Promise.resolve(frames.shift());
            if (ended) return Promise.reject(new Error('connection ended while waiting for a frame'));
            return new Promise((res, rej) => {
              const w = {
                resolve: (f) => {
                  clearTimeout(t);
                  res(f);
                },
                reject: (e) => {
                  clearTimeout(t);
                  rej(e);
                },
              };
              const t = setTimeout(() => {
                const i = waiters.indexOf(w);
                if (i >= 0) waiters.splice(i, 1);
                rej(new Error(`no frame within ${ms} ms`));
              }, ms);
              waiters.push(w);
            });
          },
          /** Resolves when the server ends the TCP connection; rejects after ms. */
          closed(ms = 3000) {
            if (ended) return Promise.resolve();
            return new Promise((res, rej) => {
              const t = setTimeout(() => rej(new Error(`TCP connection still open after ${ms} ms`)), ms);
              endWaiters.push(() => {
                clearTimeout(t);
                res();
              });
            });
          },
          /** The next close frame (skipping data/ping frames); rejects if none within ms. */
          async closeFrame(ms = 3000) {
            const deadline = Date.now() + ms;
            for (;;) {
              const f = await this.nextFrame(Math.max(1, deadline - Date.now()));
              if (f.opcode === OP.CLOSE) return f;
            }
          },
        });
      }
      parseFrames();
    });
    const onEnd = () => {
      if (ended) return;
      ended = true;
      for (const w of waiters.splice(0)) w.reject(new Error('connection ended while waiting for a frame'));
      for (const w of endWaiters.splice(0)) w();
      if (!handshaken) {
        clearTimeout(timer);
        reject(new Error('connection ended before the handshake answer'));
      }
    };
    sock.on('end', onEnd);
    sock.on('close', onEnd);
    sock.on('error', (err) => {
      if (!handshaken) {
        clearTimeout(timer);
        reject(err);
      }
      onEnd();
    });
    sock.write(
      `GET ${path} HTTP/1.1\r\n` +
        Object.entries(reqHeaders)
          .filter(([, v]) => v !== undefined && v !== null)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    );
  });
}
