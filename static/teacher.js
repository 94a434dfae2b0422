// The teacher's page: the progress board (students x exercises, live), who is
// connected on /chat, /ws and /streaming, and start/stop of the part-2 stream.
// Names, exercise names and reasons come from students: textContent only.
"use strict";

(function () {
  var status = document.getElementById("status");
  var list = document.getElementById("members");
  var count = document.getElementById("count");
  var stream = document.getElementById("stream");
  var start = document.getElementById("start");
  var stop = document.getElementById("stop");
  var head = document.getElementById("board-head");
  var body = document.getElementById("board-body");
  var foot = document.getElementById("board-foot");
  var empty = document.getElementById("board-empty");
  var token = new URLSearchParams(location.search).get("token") || "";
  // Read by the browser tests; the page itself draws from the same data.
  var state = window.teacherState = { members: [], running: null, exercises: [], students: {}, paths: {} };

  document.getElementById("chat-address").textContent = location.origin + pageDir() + "chat.html";
  document.getElementById("host").textContent = location.hostname;
  document.getElementById("port").textContent = pagePort();

  function fillList(element, names, more) {
    while (element.firstChild) { element.removeChild(element.firstChild); }
    names.forEach(function (name) {
      var item = document.createElement("li");
      item.textContent = name;
      element.appendChild(item);
    });
    if (more) {
      var rest = document.createElement("li");
      rest.textContent = "... and " + more + " more";
      element.appendChild(rest);
    }
  }

  function cell(result) {
    var td = document.createElement("td");
    if (!result) { td.className = "none"; td.textContent = "\u2013"; return td; }
    td.className = result.passed ? "passed" : "not-yet";
    td.textContent = result.passed ? "passed" : "not yet";
    td.title = result.reason;
    return td;
  }

  // The board is redrawn whole, at most a few times a second: thirty students
  // pressing Run All send their results within the same second.
  var drawPending = false;
  function drawBoard() {
    drawPending = false;
    while (head.children.length > 1) { head.removeChild(head.lastChild); }
    state.exercises.forEach(function (exercise) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = exercise;
      head.appendChild(th);
    });
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var names = Object.keys(state.students).sort(function (a, b) { return a.localeCompare(b); });
    names.forEach(function (name) {
      var row = document.createElement("tr");
      row.dataset.student = name;
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      if (state.members.indexOf(name) < 0) { row.className = "gone"; }
      row.appendChild(th);
      state.exercises.forEach(function (exercise) { row.appendChild(cell(state.students[name][exercise])); });
      body.appendChild(row);
    });
    // How many students passed each exercise: where to spend the next five minutes.
    while (foot.children.length > 1) { foot.removeChild(foot.lastChild); }
    state.exercises.forEach(function (exercise) {
      var passed = names.filter(function (name) {
        var result = state.students[name][exercise];
        return result && result.passed;
      }).length;
      var td = document.createElement("td");
      td.textContent = passed + " of " + names.length;
      foot.appendChild(td);
    });
    empty.hidden = names.length > 0;
  }
  function scheduleDraw() {
    if (!drawPending) { drawPending = true; setTimeout(drawBoard, 200); }
  }

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
      state.members = message.members;
      fillList(list, message.members, 0);
      count.textContent = String(message.members.length);
      scheduleDraw();
    } else if (message.type === "board") {
      state.exercises = message.exercises;
      state.students = message.students;
      scheduleDraw();
    } else if (message.type === "progress") {
      if (state.exercises.indexOf(message.exercise) < 0) { state.exercises.push(message.exercise); }
      var row = state.students[message.name] || (state.students[message.name] = {});
      row[message.exercise] = { passed: message.passed, reason: message.reason };
      scheduleDraw();
    } else if (message.type === "connections") {
      state.paths = message.paths;
      Array.prototype.forEach.call(document.querySelectorAll(".path-list"), function (element) {
        var path = element.dataset.path;
        var names = message.paths[path] || [];
        var more = (message.more || {})[path] || 0;
        fillList(element, names, more);
        document.querySelector('.path-count[data-path="' + path + '"]').textContent = String(names.length + more);
      });
    } else if (message.type === "stream") {
      state.running = message.running;
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
