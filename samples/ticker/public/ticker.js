// Live prices from a Portico channel, drawn on a canvas with plain JS.
//
//   {"action":"subscribe","channel":"prices"}   -> {"subscribed":"prices"}   (CHANNEL subscribe)
//   then, whenever publisher.mjs posts to /ws/live/@channels/prices:
//   {"t":1764150000000,"seq":42,"quotes":{"ACME":123.45,"GLOBEX":48.61,...}}
'use strict';

(() => {
  const KEEP = 300; // points kept per symbol
  const $ = (sel) => document.querySelector(sel);
  const params = new URLSearchParams(location.search);
  const WS_URL = params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/live`;
  const CHANNEL = params.get('channel') || 'prices';

  const series = new Map(); // symbol -> {points: [{t, p}], open, card}
  let selected = '';
  let updates = 0;
  let ws = null;
  let attempt = 0;
  let drawPending = false;

  $('#channel').textContent = CHANNEL;

  /* ---- The connection, reconnecting by itself ---- */

  function setStatus(kind, text) {
    $('#status').className = `status ${kind}`;
    $('#status').textContent = text;
  }

  function connect() {
    setStatus(attempt ? 'reconnecting' : 'connecting', attempt ? 'reconnecting…' : 'connecting…');
    const sock = new WebSocket(WS_URL);
    ws = sock;
    sock.onopen = () => {
      attempt = 0;
      setStatus('connected', 'live');
      sock.send(JSON.stringify({ action: 'subscribe', channel: CHANNEL }));
    };
    sock.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m && typeof m.quotes === 'object' && m.quotes !== null) onQuotes(m);
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      const base = Math.min(5000, 500 * 2 ** attempt++);
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      setStatus('reconnecting', `reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
      setTimeout(connect, delay);
    };
  }

  /* ---- Data ---- */

  function onQuotes(m) {
    const t = Number.isFinite(m.t) ? m.t : Date.now();
    for (const [sym, p] of Object.entries(m.quotes)) {
      if (typeof p !== 'number' || !Number.isFinite(p) || !/^[A-Za-z0-9._-]{1,12}$/.test(sym)) continue;
      let s = series.get(sym);
      if (!s) {
        s = { points: [], open: p, card: makeCard(sym) };
        series.set(sym, s);
        if (!selected) select(sym);
      }
      s.points.push({ t, p });
      if (s.points.length > KEEP) s.points.splice(0, s.points.length - KEEP);
    }
    updates++;
    $('#updates').textContent = String(updates);
    $('#updated').textContent = `updated ${new Date(t).toLocaleTimeString()}`;
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(() => {
        drawPending = false;
        render();
      });
    }
  }

  function makeCard(sym) {
    $('#waiting')?.remove();
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'card';
    b.dataset.symbol = sym;
    const name = document.createElement('span');
    name.className = 'sym';
    name.textContent = sym;
    const price = document.createElement('span');
    price.className = 'price';
    const chg = document.createElement('span');
    chg.className = 'chg';
    const spark = document.createElement('canvas');
    b.append(name, price, chg, spark);
    b.addEventListener('click', () => select(sym));
    $('#cards').append(b);
    return { b, price, chg, spark };
  }

  function select(sym) {
    selected = sym;
    for (const [k, s] of series) s.card.b.classList.toggle('selected', k === sym);
    render();
  }

  const fmt = (p) => p.toFixed(2);
  function change(s) {
    const last = s.points[s.points.length - 1].p;
    const d = last - s.open;
    return { last, d, pct: (d / s.open) * 100, cls: d >= 0 ? 'up' : 'down', sign: d >= 0 ? '+' : '−' };
  }

  /* ---- Drawing ---- */

  function render() {
    for (const s of series.values()) {
      if (!s.points.length) continue;
      const c = change(s);
      s.card.price.textContent = fmt(c.last);
      s.card.chg.textContent = `${c.sign}${Math.abs(c.pct).toFixed(2)}%`;
      s.card.chg.className = `chg ${c.cls}`;
      drawLine(s.card.spark, s.points, { spark: true, color: c.d >= 0 ? '#34d399' : '#f87171' });
    }
    const s = series.get(selected);
    if (!s || !s.points.length) return;
    const c = change(s);
    $('#symbol').textContent = selected;
    $('#last-price').textContent = fmt(c.last);
    $('#change').textContent = `${c.sign}${Math.abs(c.d).toFixed(2)} (${c.sign}${Math.abs(c.pct).toFixed(2)}%) since the page opened`;
    $('#change').className = `change ${c.cls}`;
    drawLine($('#chart'), s.points, { spark: false, color: c.d >= 0 ? '#34d399' : '#f87171' });
  }

  /** Sizes the canvas to its CSS box at the device's pixel ratio; returns the 2D context and size. */
  function fit(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { ctx, w, h };
  }

  /** Round steps (1, 2, 5 × 10^n) for about n grid lines between lo and hi. */
  function niceStep(range, n) {
    const raw = range / n;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
  }

  function drawLine(canvas, points, { spark, color }) {
    const { ctx, w, h } = fit(canvas);
    if (points.length === 0 || w === 0 || h === 0) return;
    const pad = spark ? { l: 1, r: 1, t: 2, b: 2 } : { l: 8, r: 64, t: 10, b: 26 };
    let lo = Infinity;
    let hi = -Infinity;
    for (const { p } of points) {
      lo = Math.min(lo, p);
      hi = Math.max(hi, p);
    }
    if (hi - lo < 1e-9) {
      hi += 0.5;
      lo -= 0.5;
    }
    const margin = (hi - lo) * 0.08;
    lo -= margin;
    hi += margin;
    const t0 = points[0].t;
    const t1 = Math.max(points[points.length - 1].t, t0 + 1);
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * pw;
    const y = (p) => pad.t + (1 - (p - lo) / (hi - lo)) * ph;

    if (!spark) {
      // Grid: prices on the right, times along the bottom.
      ctx.font = '12px system-ui, sans-serif';
      ctx.lineWidth = 1;
      const step = niceStep(hi - lo, 5);
      ctx.textBaseline = 'middle';
      for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
        ctx.strokeStyle = '#25324f';
        ctx.beginPath();
        ctx.moveTo(pad.l, Math.round(y(v)) + 0.5);
        ctx.lineTo(w - pad.r, Math.round(y(v)) + 0.5);
        ctx.stroke();
        ctx.fillStyle = '#9aa7bd';
        ctx.fillText(v.toFixed(step < 1 ? 2 : 0), w - pad.r + 8, y(v));
      }
      const span = (t1 - t0) / 1000;
      const every = [1, 2, 5, 10, 15, 30, 60, 120, 300].find((s) => span / s <= 6) || 600;
      ctx.textBaseline = 'top';
      ctx.textAlign = 'center';
      for (let s = Math.ceil(t0 / 1000 / every) * every; s * 1000 <= t1; s += every) {
        const xx = Math.round(x(s * 1000)) + 0.5;
        ctx.strokeStyle = '#1d2942';
        ctx.beginPath();
        ctx.moveTo(xx, pad.t);
        ctx.lineTo(xx, h - pad.b);
        ctx.stroke();
        ctx.fillStyle = '#9aa7bd';
        ctx.fillText(new Date(s * 1000).toLocaleTimeString([], { hour12: false }), xx, h - pad.b + 6);
      }
      ctx.textAlign = 'left';
    }

    // The area under the line, then the line.
    ctx.beginPath();
    points.forEach(({ t, p }, i) => (i ? ctx.lineTo(x(t), y(p)) : ctx.moveTo(x(t), y(p))));
    ctx.lineTo(x(points[points.length - 1].t), h - pad.b);
    ctx.lineTo(x(points[0].t), h - pad.b);
    ctx.closePath();
    const grad = ctx.createLinearGradient(0, pad.t, 0, h - pad.b);
    grad.addColorStop(0, `${color}55`);
    grad.addColorStop(1, `${color}00`);
    ctx.fillStyle = grad;
    ctx.fill();

    ctx.beginPath();
    points.forEach(({ t, p }, i) => (i ? ctx.lineTo(x(t), y(p)) : ctx.moveTo(x(t), y(p))));
    ctx.strokeStyle = color;
    ctx.lineWidth = spark ? 1.5 : 2;
    ctx.lineJoin = 'round';
    ctx.stroke();

    if (!spark) {
      // The last price: a dot and a tag on the axis.
      const last = points[points.length - 1];
      const lx = x(last.t);
      const ly = y(last.p);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(lx, ly, 3.5, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillRect(w - pad.r + 2, ly - 10, pad.r - 4, 20);
      ctx.fillStyle = '#0f1626';
      ctx.textBaseline = 'middle';
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText(fmt(last.p), w - pad.r + 7, ly);
    }
  }

  window.addEventListener('resize', () => render());
  connect();
})();
