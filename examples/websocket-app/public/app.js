/* global io */
// Client of the replica demo. Every URL is relative to the page, so the page works both at "/"
// and behind a path prefix that the proxy strips (for example "/wsk/").
// Loaded by the inline loader in index.html (possibly before the body is parsed).
function startApp() {
  'use strict';

  // "/wsk/" -> "/wsk", "/wsk/index.html" -> "/wsk", "/" -> ""
  function pathPrefix(pathname) {
    return pathname.replace(/\/[^/]*$/, '');
  }

  var REPLICA_TTL_MS = 10000;
  var MAX_ITEMS = 200;

  var $ = function (id) {
    return document.getElementById(id);
  };
  var statusEl = $('status');
  var statusDetailEl = $('status-detail');
  var replicaEl = $('replica');
  var transportEl = $('transport');
  var messagesEl = $('messages');
  var eventsEl = $('events');
  var replicasBody = $('replicas').tBodies[0];
  var textEl = $('text');
  var sendEl = $('send');

  var myReplica = null;
  var replicas = new Map(); // replica -> { clients, seen (ms, local clock) }

  function setStatus(state, detail) {
    statusEl.textContent = state; // exactly "connected" or "disconnected"
    statusEl.dataset.state = state;
    statusDetailEl.textContent = detail ? '(' + detail + ')' : '';
    statusEl.className = 'badge ' + state;
    sendEl.disabled = state !== 'connected';
  }

  function setTransport(name) {
    transportEl.textContent = name;
    transportEl.dataset.transport = name;
  }

  function timeEl(at) {
    var time = document.createElement('time');
    var when = at ? new Date(at) : new Date();
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString();
    return time;
  }

  function prependCapped(list, li) {
    list.prepend(li);
    while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
  }

  // #messages holds broadcasts only: one <li data-from-replica="..."> per chat message.
  function addMessage(m) {
    var li = document.createElement('li');
    li.dataset.fromReplica = m.fromReplica;
    var tag = document.createElement('span');
    tag.className = 'from';
    tag.textContent = m.fromReplica;
    if (m.fromReplica === myReplica) tag.classList.add('mine');
    var body = document.createElement('span');
    body.className = 'text';
    body.textContent = m.text;
    li.append(timeEl(m.at), tag, body);
    prependCapped(messagesEl, li);
  }

  // #events: what happened to this page's connection (connects, upgrades, disconnects).
  function addEvent(text) {
    var li = document.createElement('li');
    var body = document.createElement('span');
    body.textContent = text;
    li.append(timeEl(), body);
    prependCapped(eventsEl, li);
  }

  function renderReplicas() {
    var now = Date.now();
    replicas.forEach(function (r, id) {
      if (now - r.seen > REPLICA_TTL_MS) replicas.delete(id);
    });
    var ids = Array.from(replicas.keys()).sort();
    replicasBody.replaceChildren.apply(
      replicasBody,
      ids.map(function (id) {
        var r = replicas.get(id);
        var tr = document.createElement('tr');
        tr.dataset.replica = id;
        if (id === myReplica) tr.className = 'mine';
        var name = document.createElement('td');
        name.textContent = id === myReplica ? id + ' (this page)' : id;
        var clients = document.createElement('td');
        clients.className = 'clients';
        clients.textContent = String(r.clients);
        var age = document.createElement('td');
        age.textContent = Math.round((now - r.seen) / 1000) + ' s ago';
        tr.append(name, clients, age);
        return tr;
      }),
    );
  }

  // Polling first, then upgrade to websocket (the default): the polling requests of one session
  // must reach the same replica, which is what the proxy's sticky cookie is for.
  var socket = io({
    path: pathPrefix(location.pathname) + '/socket.io',
    transports: ['polling', 'websocket'],
  });

  // Every (re)connection opens a new engine: watch it for the polling -> websocket upgrade.
  socket.io.on('open', function () {
    var engine = socket.io.engine;
    engine.on('upgrade', function (transport) {
      setTransport(transport.name);
      addEvent('transport upgraded to ' + transport.name);
    });
  });

  socket.on('connect', function () {
    setStatus('connected');
    setTransport(socket.io.engine.transport.name);
  });

  socket.on('disconnect', function (reason) {
    setStatus('disconnected', reason);
    setTransport('–');
    addEvent(
      'disconnected from replica ' + (myReplica || '?') + ': ' + reason + (socket.active ? ' (reconnecting)' : ''),
    );
  });

  socket.on('connect_error', function (err) {
    setStatus('disconnected', err && err.message);
  });

  socket.on('welcome', function (w) {
    myReplica = w.replica;
    replicaEl.textContent = w.replica;
    document.body.dataset.replica = w.replica;
    setTransport(socket.io.engine.transport.name);
    addEvent('connected to replica ' + w.replica + ' over ' + w.transport);
    renderReplicas();
  });

  // The server's view of the upgrade (same information as the engine's "upgrade" event).
  socket.on('transport', function (t) {
    setTransport(t.transport);
  });

  socket.on('replicas', function (snapshot) {
    var now = Date.now();
    Object.keys(snapshot || {}).forEach(function (id) {
      var r = snapshot[id];
      replicas.set(id, { clients: r.clients, seen: now - (r.ageMs || 0) });
    });
    renderReplicas();
  });

  socket.on('tick', function (t) {
    replicas.set(t.fromReplica, { clients: t.clients, seen: Date.now() });
    renderReplicas();
  });

  socket.on('bye', function (b) {
    replicas.delete(b.fromReplica);
    renderReplicas();
    addEvent('replica ' + b.fromReplica + ' is shutting down');
  });

  socket.on('chat', addMessage);

  $('chat-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = textEl.value.trim();
    if (!text || !socket.connected) return;
    socket.emit('chat', { text: text });
    textEl.value = '';
    textEl.focus();
  });

  setStatus('disconnected', 'connecting');
  setInterval(renderReplicas, 1000);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startApp);
else startApp();
