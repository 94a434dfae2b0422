// The teacher's page: who is in the chat (live), and start/stop of the
// part-2 stream for everyone. Names are shown with textContent only.
"use strict";

(function () {
  var status = document.getElementById("status");
  var list = document.getElementById("members");
  var count = document.getElementById("count");
  var stream = document.getElementById("stream");
  var start = document.getElementById("start");
  var stop = document.getElementById("stop");
  var token = new URLSearchParams(location.search).get("token") || "";
  window.teacherState = { members: [], running: null }; // read by the browser tests

  document.getElementById("chat-address").textContent = location.origin + pageDir() + "chat.html";
  document.getElementById("host").textContent = location.hostname;
  document.getElementById("port").textContent = pagePort();

  if (!token) {
    status.textContent = "No token: open the address printed on the teacher's terminal (teacher.html?token=...).";
    return;
  }
  var ws = new WebSocket(wsUrl("teacher") + "?token=" + encodeURIComponent(token));
  ws.onopen = function () { status.textContent = "connected"; status.className = "open"; };
  ws.onclose = function (evt) {
    status.textContent = "closed (code " + evt.code + (evt.reason ? ": " + evt.reason : "") + ")";
    status.className = "closed";
    start.disabled = stop.disabled = true;
  };
  ws.onmessage = function (evt) {
    var message = JSON.parse(evt.data);
    if (message.type === "members") {
      window.teacherState.members = message.members;
      while (list.firstChild) { list.removeChild(list.firstChild); }
      message.members.forEach(function (name) {
        var item = document.createElement("li");
        item.textContent = name;
        list.appendChild(item);
      });
      count.textContent = String(message.members.length);
    } else if (message.type === "stream") {
      window.teacherState.running = message.running;
      stream.textContent = message.running ? "running" : "stopped";
      start.disabled = message.running;
      stop.disabled = !message.running;
    } else if (message.type === "notice") {
      status.textContent = message.text;
    }
  };
  start.addEventListener("click", function () { ws.send(JSON.stringify({ action: "start_stream" })); });
  stop.addEventListener("click", function () { ws.send(JSON.stringify({ action: "stop_stream" })); });
})();
