// A WebSocket client that stays connected: notebook 07 explains each part.
//  - messages are JSON objects with a "type" (the server's /json protocol);
//  - heartbeat: a page cannot send WebSocket ping frames, so it sends
//    {"type": "ping", "id": n} every few seconds and expects the matching pong;
//    no pong in time means the connection is dead even if no close event came;
//  - reconnection: after a loss, wait a random time up to a cap that doubles
//    after each failed attempt (exponential backoff with full jitter, as
//    RFC 6455 section 7.2.3 asks), so a restarted server is not hit by every
//    client at once.
// Everything received is shown with textContent: it is data, never markup.
"use strict";

(function () {
  var params = new URLSearchParams(location.search);
  function seconds(name, fallback) {
    var value = parseFloat(params.get(name));
    return value > 0 ? value : fallback;
  }
  var PATH = params.get("path") || "json";
  var HEARTBEAT = seconds("heartbeat", 5);  // seconds between pings
  var TIMEOUT = seconds("timeout", 3);      // seconds to wait for the pong
  var INITIAL = seconds("initial", 1);      // first backoff cap, seconds
  var MAXIMUM = seconds("max", 30);         // longest backoff cap, seconds
  var MAX_LOG_LINES = 200;
  // Close codes that say the client itself is wrong (protocol error, data it
  // cannot accept, invalid data, policy, a message too big, an extension the
  // server lacks): connecting again gets the same answer. (A page never sees
  // the HTTP status of a refused handshake: that is a close with 1006, retried.)
  var GIVE_UP_CODES = [1002, 1003, 1007, 1008, 1009, 1010];

  var url = wsUrl(PATH);
  var ws = null;
  var wanted = true;       // false after "disconnect": then do not reconnect
  var failed = 0;          // failed attempts since the last connection
  var retryTimer = null;
  var pingTimer = null;
  var pongTimer = null;
  var nextPingId = 1;
  var pendingPing = null;  // {id, sent} of the ping waiting for its pong
  var state = { connections: 0, attempts: 0, pongs: 0, status: "", scheduled: false };
  window.reconnectState = state;  // the browser tests read it

  var statusText = document.getElementById("status");
  var log = document.getElementById("log");
  var startButton = document.getElementById("start");
  var stopButton = document.getElementById("stop");
  document.getElementById("url").textContent = url;

  function show(id, value) { document.getElementById(id).textContent = String(value); }

  function setStatus(text, isOpen) {
    state.status = text;
    statusText.textContent = text;
    statusText.className = isOpen ? "open" : "closed";
  }

  function addLine(text) {
    var line = document.createElement("div");
    line.className = "line";
    line.textContent = new Date().toLocaleTimeString() + " " + text;
    log.insertBefore(line, log.firstChild);
    while (log.childNodes.length > MAX_LOG_LINES) { log.removeChild(log.lastChild); }
  }

  // Attempt k waits a random time between 0 and min(MAXIMUM, INITIAL * 2^(k-1)).
  function backoffDelay(attempt) {
    var cap = Math.min(MAXIMUM, INITIAL * Math.pow(2, Math.min(attempt - 1, 30)));
    return Math.random() * cap;
  }

  function scheduleReconnect() {
    if (!wanted || retryTimer !== null) { return; }
    var delay = backoffDelay(failed + 1);
    setStatus("reconnecting in " + delay.toFixed(1) + " s (attempt " + (failed + 1) + ")", false);
    state.scheduled = true;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      state.scheduled = false;
      connect();
    }, delay * 1000);
  }

  function stopHeartbeat() {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    pingTimer = pongTimer = null;
  }

  function sendPing() {
    if (!ws || ws.readyState !== WebSocket.OPEN || pongTimer !== null) { return; }
    var id = nextPingId++;
    var sent = performance.now();
    ws.send(JSON.stringify({ type: "ping", id: id }));
    pongTimer = setTimeout(function () {
      addLine("no pong within " + TIMEOUT + " s: the connection is dead, dropping it");
      dropConnection();
    }, TIMEOUT * 1000);
    pendingPing = { id: id, sent: sent };
  }

  function onPong(message) {
    if (pendingPing === null || message.id !== pendingPing.id) { return; }
    clearTimeout(pongTimer);
    pongTimer = null;
    state.pongs += 1;
    show("pong", Math.round(performance.now() - pendingPing.sent) + " ms round trip");
    pendingPing = null;
  }

  // A dead connection may never fire "close" (no close frame arrives), so
  // forget it at once: no more events from it, and connect anew.
  function dropConnection() {
    stopHeartbeat();
    pendingPing = null;
    if (ws) {
      var old = ws;
      ws = null;
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      old.close();
    }
    scheduleReconnect();
  }

  function connect() {
    if (ws) { return; }
    setStatus("connecting (attempt " + (failed + 1) + ")", false);
    var socket = new WebSocket(url);
    var opened = false;
    ws = socket;
    socket.onopen = function () {
      opened = true;
      failed = 0;
      state.connections += 1;
      show("connections", state.connections);
      setStatus("connected", true);
      addLine("connected (connection " + state.connections + ")");
      pingTimer = setInterval(sendPing, HEARTBEAT * 1000);
    };
    socket.onmessage = function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        addLine("not JSON: " + String(event.data));
        return;
      }
      if (message.type === "pong") { onPong(message); }
      else if (message.type === "echo") { addLine("echo: " + String(message.text)); }
      else if (message.type === "error") { addLine("error from the server: " + String(message.error)); }
      else { addLine(String(event.data)); }
    };
    // A failed connection fires "error" then "close"; "close" handles both.
    socket.onclose = function (event) {
      ws = null;
      stopHeartbeat();
      pendingPing = null;
      if (opened) {
        addLine("connection lost (code " + event.code + (event.reason ? ", " + event.reason : "") + ")");
        if (GIVE_UP_CODES.indexOf(event.code) >= 0) {
          wanted = false;
          setStatus("gave up: the server closed with " + event.code + "; connecting again would get the same answer", false);
          startButton.disabled = false;
          stopButton.disabled = true;
          return;
        }
      } else {
        failed += 1;
        state.attempts += 1;
        show("attempts", state.attempts);
        addLine("attempt " + failed + " failed (code " + event.code + ")");
      }
      scheduleReconnect();
    };
  }

  document.getElementById("say").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      addLine("not sent: not connected right now");
      return;
    }
    ws.send(JSON.stringify({ type: "echo", text: document.getElementById("text").value }));
  });

  document.getElementById("bad").addEventListener("click", function () {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify({ text: "no type" })); }
  });

  stopButton.addEventListener("click", function () {
    wanted = false;
    clearTimeout(retryTimer);
    retryTimer = null;
    state.scheduled = false;
    stopHeartbeat();
    if (ws) {
      var old = ws;
      ws = null;
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      old.close(1000, "bye");
    }
    setStatus("disconnected", false);
    addLine("disconnected");
    startButton.disabled = false;
    stopButton.disabled = true;
  });

  startButton.addEventListener("click", function () {
    wanted = true;
    failed = 0;
    startButton.disabled = true;
    stopButton.disabled = false;
    connect();
  });

  connect();
})();
