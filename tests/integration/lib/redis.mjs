// A real redis-server for cluster tests: one per test, on a free loopback port, nothing saved to
// disk, stopped when the test ends. stop() and start() again on the same port let a test take
// Redis away and bring it back.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort, sleep } from './portico.mjs';

export const REDIS_SERVER = process.env.PORTICO_REDIS_SERVER || 'redis-server';

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * Starts redis-server (with `password`, it requires one); resolves
 * { port, url, stop(), start(), command(...args) }.
 */
export async function redisFor(t, { password } = {}) {
  const port = await freePort();
  let proc = null;
  const auth = password ? ['--requirepass', password] : [];
  const redis = {
    port,
    url: `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}/0`,
    async start() {
      proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore' });
      const deadline = Date.now() + 5000;
      while (!(await canConnect(port))) {
        if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
        await sleep(20);
      }
    },
    async stop() {
      if (proc === null) return;
      const p = proc;
      proc = null;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    },
    /** One command through redis-cli; resolves its output. */
    command(...args) {
      return new Promise((resolve, reject) => {
        const c = spawn('redis-cli', ['-p', String(port), ...(password ? ['-a', password, '--no-auth-warning'] : []), ...args]);
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.on('error', reject);
        c.on('close', () => resolve(out.trim()));
      });
    },
  };
  await redis.start();
  t.after(() => redis.stop());
  return redis;
}
