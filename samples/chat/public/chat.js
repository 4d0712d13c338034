// A chat room with no backend: Portico's CHANNEL routes carry everything.
//
//   {"action":"whoami"}                      -> {"type":"welcome","id":"<connection id>"}
//   {"action":"join","room":R}               -> {"subscribed":R}     (CHANNEL subscribe)
//   {"action":"leave","room":R}              -> {"unsubscribed":R}   (CHANNEL unsubscribe)
//   {"action":"say","room":R,"data":{...}}   -> every subscriber of R gets
//                                               {"data":{...},"from":"<sender's connection id>"}
//
// Presence lives in the page: on joining, a page says "hello" to the room, everyone there answers
// "here", pages repeat "here" every HEARTBEAT_MS, say "bye" when they leave, and an entry not
// heard from for EXPIRE_MS is dropped (a tab that crashed or lost its network). Every text from
// the room goes into the DOM with textContent, never as HTML.
'use strict';

(() => {
  const HEARTBEAT_MS = 20000;
  const EXPIRE_MS = 90000; // generous: browsers slow down timers in background tabs
  const MAX_BYTES = 120000; // Portico's limits.messageBytes is 131072 by default
  const MAX_NAME = 32;
  const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

  const $ = (sel) => document.querySelector(sel);
  const params = new URLSearchParams(location.search);
  const WS_URL = params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/chat`;

  // This tab's identity in the room: stable across reconnects (the connection id is not).
  const sid = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');

  const state = {
    name: '',
    room: '',
    ws: null,
    connId: '',
    joined: false, // subscribed on the current connection
    wanted: false, // the user is in a room (reconnect when the connection drops)
    attempt: 0,
    retryTimer: null,
    people: new Map(), // sid -> {user, id, seen}
  };

  /* ---------------------------------------------------------------------------------------- */
  /* The connection                                                                           */
  /* ---------------------------------------------------------------------------------------- */

  function setStatus(kind, text) {
    const el = $('#status');
    el.className = `status ${kind}`;
    el.textContent = text;
  }

  function send(obj) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  function say(data) {
    return send({ action: 'say', room: state.room, data: { ...data, sid, user: state.name } });
  }

  function connect() {
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    setStatus(state.attempt ? 'reconnecting' : 'connecting', state.attempt ? 'reconnecting…' : 'connecting…');
    let ws;
    try {
      ws = new WebSocket(WS_URL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.onopen = () => {
      state.attempt = 0;
      setStatus('connected', 'connected');
      send({ action: 'whoami' });
      send({ action: 'join', room: state.room });
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return; // not one of ours
      }
      if (m && typeof m === 'object') onMessage(m);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.joined = false;
      enableCompose(false);
      if (state.wanted) scheduleReconnect();
      else setStatus('offline', 'offline');
    };
  }

  function scheduleReconnect() {
    // 0.5 s, 1 s, 2 s, 4 s, then every 5 s, each with some jitter so a restarted server is not
    // hit by every page at the same instant.
    const base = Math.min(5000, 500 * 2 ** state.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    state.attempt++;
    setStatus('reconnecting', `reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connect, delay);
  }

  function onMessage(m) {
    if (m.type === 'welcome' && typeof m.id === 'string') {
      state.connId = m.id;
      $('#conn-id').textContent = m.id;
    } else if (typeof m.subscribed === 'string') {
      if (m.subscribed !== state.room) return;
      state.joined = true;
      // A new connection: whoever is still here answers our hello.
      state.people.clear();
      upsert(sid, state.name, state.connId);
      renderPeople();
      enableCompose(true);
      say({ type: 'hello' });
    } else if (m.data && typeof m.data === 'object' && typeof m.from === 'string') {
      onRoomEvent(m.data, m.from);
    } else if (typeof m.message === 'string') {
      notice(`Portico: ${m.message}`);
    }
  }

  function onRoomEvent(d, from) {
    if (typeof d.type !== 'string' || typeof d.user !== 'string') return;
    const user = cleanName(d.user) || '?';
    const mine = d.sid === sid;
    // Presence is kept per tab id; a message from a client without one is still shown.
    if (d.type !== 'msg' && typeof d.sid !== 'string') return;
    switch (d.type) {
      case 'hello':
        if (mine) return;
        if (!state.people.has(d.sid)) notice(`${user} joined`);
        upsert(d.sid, user, from);
        say({ type: 'here' });
        break;
      case 'here':
        if (!mine) upsert(d.sid, user, from);
        break;
      case 'bye': {
        // Only the connection that said hello can say bye for it.
        const p = state.people.get(d.sid);
        if (mine || !p || p.id !== from) return;
        state.people.delete(d.sid);
        notice(`${user} left`);
        break;
      }
      case 'msg':
        if (typeof d.text !== 'string') return;
        addMessage(user, d.text, mine);
        break;
      default:
        return;
    }
    renderPeople();
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Presence                                                                                 */
  /* ---------------------------------------------------------------------------------------- */

  function upsert(key, user, id) {
    state.people.set(key, { user, id, seen: Date.now() });
  }

  function renderPeople() {
    const ul = $('#presence');
    const list = [...state.people.entries()].sort((a, b) => a[1].user.localeCompare(b[1].user));
    ul.replaceChildren(
      ...list.map(([key, p]) => {
        const li = document.createElement('li');
        li.textContent = key === sid ? `${p.user} (you)` : p.user;
        li.dataset.user = p.user;
        if (key === sid) li.className = 'me';
        if (p.id) li.title = `connection ${p.id}`;
        return li;
      }),
    );
    $('#presence-count').textContent = String(list.length);
  }

  setInterval(() => {
    if (!state.joined) return;
    say({ type: 'here' });
  }, HEARTBEAT_MS);

  setInterval(() => {
    const now = Date.now();
    let changed = false;
    for (const [key, p] of state.people) {
      if (key !== sid && now - p.seen > EXPIRE_MS) {
        state.people.delete(key);
        notice(`${p.user} went away`);
        changed = true;
      }
    }
    if (changed) renderPeople();
  }, 5000);

  /* ---------------------------------------------------------------------------------------- */
  /* Messages                                                                                 */
  /* ---------------------------------------------------------------------------------------- */

  function stickToBottom(fn) {
    const box = $('#messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    fn(box);
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function addMessage(user, text, mine) {
    stickToBottom((box) => {
      const li = document.createElement('li');
      li.className = mine ? 'msg mine' : 'msg';
      const meta = document.createElement('div');
      meta.className = 'meta';
      const who = document.createElement('span');
      who.className = 'user';
      who.textContent = mine ? 'you' : user;
      const when = document.createElement('time');
      when.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      meta.append(who, when);
      const body = document.createElement('div');
      body.className = 'text';
      body.textContent = text;
      li.append(meta, body);
      box.append(li);
    });
  }

  function notice(text) {
    stickToBottom((box) => {
      const li = document.createElement('li');
      li.className = 'notice';
      li.textContent = text;
      box.append(li);
    });
  }

  function enableCompose(on) {
    $('#text').disabled = !on;
    $('#send').disabled = !on;
  }

  function showError(sel, text) {
    const el = $(sel);
    el.textContent = text;
    el.hidden = !text;
  }

  /* ---------------------------------------------------------------------------------------- */
  /* The forms                                                                                */
  /* ---------------------------------------------------------------------------------------- */

  function cleanName(s) {
    // eslint-disable-next-line no-control-regex
    return String(s).replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME);
  }

  function enterRoom(name, room) {
    state.name = name;
    state.room = room;
    state.wanted = true;
    state.attempt = 0;
    state.people.clear();
    try {
      localStorage.setItem('portico-chat-name', name);
    } catch {
      /* storage may be off */
    }
    if (location.hash !== `#${room}`) history.replaceState(null, '', `#${room}`);
    $('#room-title').textContent = `# ${room}`;
    $('#messages').replaceChildren();
    $('#join-form').hidden = true;
    $('#chat').hidden = false;
    renderPeople();
    connect();
    $('#text').focus();
  }

  function leaveRoom() {
    state.wanted = false;
    clearTimeout(state.retryTimer);
    if (state.joined) {
      say({ type: 'bye' });
      send({ action: 'leave', room: state.room });
    }
    if (state.ws) state.ws.close(1000, 'left the room');
    state.joined = false;
    state.people.clear();
    $('#room-title').textContent = '';
    $('#chat').hidden = true;
    $('#join-form').hidden = false;
    enableCompose(false);
  }

  $('#join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = cleanName($('#name').value);
    const room = $('#room').value.trim();
    if (!name) return showError('#join-error', 'Pick a name.');
    if (!ROOM_RE.test(room)) return showError('#join-error', "A room name has 1 to 64 letters, digits, '.', '_' or '-'.");
    showError('#join-error', '');
    enterRoom(name, room);
  });

  $('#leave').addEventListener('click', leaveRoom);

  $('#send-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const box = $('#text');
    const text = box.value;
    if (!text.trim() || !state.joined) return;
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > MAX_BYTES) {
      showError('#send-error', `That message is ${bytes} bytes; the limit is ${MAX_BYTES}.`);
      return;
    }
    showError('#send-error', '');
    if (say({ type: 'msg', text })) box.value = '';
  });

  $('#text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('#send-form').requestSubmit();
    }
  });

  // Say goodbye when the tab goes away (the others would drop us after EXPIRE_MS anyway).
  window.addEventListener('pagehide', () => {
    if (state.joined) say({ type: 'bye' });
  });

  // Prefill: the last name used here, the room from the address (#room or ?room=).
  try {
    $('#name').value = params.get('name') || localStorage.getItem('portico-chat-name') || '';
  } catch {
    $('#name').value = params.get('name') || '';
  }
  let roomFromUrl = params.get('room') || '';
  try {
    roomFromUrl = decodeURIComponent(location.hash.slice(1)) || roomFromUrl;
  } catch {
    /* a malformed #fragment: ignore it */
  }
  if (ROOM_RE.test(roomFromUrl)) $('#room').value = roomFromUrl;
})();
