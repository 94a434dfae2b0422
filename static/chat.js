// The classroom chat: join with a name, see everyone's messages and readings.
// Everything another student sends goes in with textContent: it is data, and
// names are keys of a Map only (a student called "constructor" is a student).
// The room gives a new name a rejoin secret in its welcome: this browser keeps
// it (localStorage, per server and name) and brings it back on every join, so
// the name and its row on the teacher's board stay this student's.
"use strict";

(function () {
  var MAX_LOG_LINES = 200;
  var MAX_CHARTS = 12; // a class of 30 sending readings must not freeze the page
  var ws = null;
  var nameField = document.getElementById("name");
  var joinButton = document.getElementById("join");
  var leaveButton = document.getElementById("leave");
  var status = document.getElementById("status");
  var members = document.getElementById("members");
  var count = document.getElementById("count");
  var log = document.getElementById("log");
  var textField = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var charts = document.getElementById("charts");
  var plots = new Map(); // sender name -> LivePlot
  window.chatState = { received: 0, plots: plots }; // read by the browser tests

  var wanted = new URLSearchParams(location.search).get("name");
  if (wanted) { nameField.value = wanted; }

  function addLine(who, text) {
    var line = document.createElement("div");
    line.className = "line";
    if (who) {
      var name = document.createElement("b");
      name.textContent = who + ": ";
      line.appendChild(name);
    }
    line.appendChild(document.createTextNode(text));
    log.insertBefore(line, log.firstChild);
    while (log.childNodes.length > MAX_LOG_LINES) { log.removeChild(log.lastChild); }
  }

  var current = []; // who is in the room: the welcome's list, then the changes

  function showMembers(list) {
    current = list.slice();
    members.textContent = list.join(", ");
    count.textContent = String(list.length);
  }

  function applyPresence(joined, left) {
    var now = current.filter(function (name) { return left.indexOf(name) < 0; });
    joined.forEach(function (name) { if (now.indexOf(name) < 0) { now.push(name); } });
    now.sort(function (a, b) { return a.localeCompare(b); });
    showMembers(now);
    if (joined.length) { addLine("", joined.join(", ") + " joined"); }
    if (left.length) { addLine("", left.join(", ") + " left"); }
  }

  function plotReading(who, value) {
    var plot = plots.get(who);
    if (!plot) {
      if (plots.size >= MAX_CHARTS) { return; }
      var box = document.createElement("div");
      var title = document.createElement("div");
      title.textContent = who;
      var canvas = document.createElement("canvas");
      canvas.width = 600; canvas.height = 120;
      box.appendChild(title); box.appendChild(canvas);
      charts.appendChild(box);
      plot = new LivePlot(canvas, 120);
      plots.set(who, plot);
    }
    plot.add(value);
  }

  function secretKey(name) { return "wstutorial-rejoin:" + location.host + pageDir() + ":" + name.toLowerCase(); }
  function keptSecret(name) {
    try { return localStorage.getItem(secretKey(name)) || ""; } catch (e) { return ""; }
  }
  function keepSecret(name, secret) {
    try { localStorage.setItem(secretKey(name), secret); } catch (e) { /* storage off: this tab keeps it */ }
  }

  function setJoined(joined, text) {
    joinButton.disabled = joined;
    nameField.disabled = joined;
    leaveButton.disabled = !joined;
    textField.disabled = !joined;
    sendButton.disabled = !joined;
    status.textContent = text;
    status.className = joined ? "open" : "closed";
  }

  function handle(message) {
    window.chatState.received += 1;
    switch (message.type) {
      case "welcome":
        if (typeof message.secret === "string" && message.secret) { keepSecret(message.name, message.secret); }
        setJoined(true, "joined as " + message.name);
        showMembers(message.members);
        message.history.forEach(function (m) { addLine(m.name, m.text); });
        break;
      case "presence": applyPresence(message.joined || [], message.left || []); break;
      case "chat": addLine(message.name, message.text); break;
      case "reading": plotReading(message.name, Number(message.value)); break;
      case "stream": addLine("", "the teacher " + (message.running ? "started" : "stopped") + " the stream"); break;
      case "notice": addLine("", "(only you see this) " + message.text); break;
      default: addLine("", "unknown message: " + JSON.stringify(message));
    }
  }

  joinButton.addEventListener("click", function () {
    var name = nameField.value.trim();
    if (!name) { status.textContent = "Type your name first."; return; }
    if (ws) { ws.onclose = null; ws.close(); }
    setJoined(true, "connecting ...");
    var secret = keptSecret(name);
    ws = new WebSocket(wsUrl("chat") + "?name=" + encodeURIComponent(name) + (secret ? "&secret=" + encodeURIComponent(secret) : ""));
    ws.onmessage = function (evt) {
      var message;
      try { message = JSON.parse(evt.data); } catch (e) { addLine("", String(evt.data)); return; }
      handle(message);
    };
    ws.onclose = function (evt) {
      setJoined(false, "closed (code " + evt.code + (evt.reason ? ": " + evt.reason : "") + ")");
    };
  });

  leaveButton.addEventListener("click", function () { if (ws) { ws.close(1000, "bye"); } });

  document.getElementById("say").addEventListener("submit", function (evt) {
    evt.preventDefault();
    var text = textField.value;
    if (!ws || ws.readyState !== WebSocket.OPEN || !text.trim()) { return; }
    ws.send(JSON.stringify({ type: "chat", text: text }));
    textField.value = "";
  });

  if (wanted) { joinButton.click(); }
})();
