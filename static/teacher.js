// The teacher's page: the progress board (a row per student who joined, their
// last activity, each exercise's newest result, who is stuck), how students
// join (the address they can reach, a QR code of it), who is connected on
// /chat, /ws and /streaming, and start/stop of the part-2 stream.
// Names, exercise names and reasons come from students: textContent only, and
// kept in Map objects (a student called "constructor" or "__proto__" is a
// student like any other). Only the rows in view are drawn: 1,000 students
// cost what 40 do.
"use strict";

(function () {
  var ROW_HEIGHT = 23; // px: teacher.css's row height (22) and its border (1)
  var OVERSCAN = 4; // rows drawn above and below the view, for smooth scrolling
  var MAX_LISTED = 100; // names shown per connection list
  var MAX_STUCK_NAMES = 12;
  var RECONNECT_FIRST = 500; // ms; doubled after each failed attempt, up to RECONNECT_MAX
  var RECONNECT_MAX = 10000;
  var TICK = 5000; // ms between redraws for the clock alone (times since, stuck marks)

  function $(id) { return document.getElementById(id); }
  var status = $("status");
  var streamState = $("stream");
  var startButton = $("start");
  var stopButton = $("stop");
  var csvButton = $("csv");
  var scroller = $("board-scroll");
  var head = $("board-head");
  var body = $("board-body");
  var foot = $("board-foot");
  var empty = $("board-empty");
  var currentSelect = $("current");
  var stuckLine = $("stuck-line");
  var releaseButton = $("release");
  var collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

  // -- the token: out of the address bar at once, kept in this tab only --------------------------
  var TOKEN_KEY = "wstutorial-teacher-token:" + location.host + pageDir();
  var token = (function () {
    var address = new URL(location.href);
    var given = address.searchParams.get("token");
    if (given) {
      try { sessionStorage.setItem(TOKEN_KEY, given); } catch (e) { /* storage off: this load still works */ }
      address.searchParams.delete("token");
      history.replaceState(history.state, "", address.href);
      return given;
    }
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  })();

  // -- what the page knows (read by the browser tests through teacherRows()) ---------------------
  var state = window.teacherState = {
    room: "", rehearsal: false, stuckAfter: 300, exercises: [], core: [], homework: [],
    notebookOf: new Map(), // exercise -> "06"
    students: new Map(), // key -> {key, name, present, joined, active, bound, results: Map(exercise -> result)}
    order: [], // keys, sorted by name
    current: "", currentSince: 0, offset: 0, // offset: server's clock minus this browser's, in seconds
    members: [], running: null, paths: new Map(), selected: null, connected: false,
  };
  // How long each message's handling and each redraw took (ms, the newest 500): read by the browser tests.
  var timing = window.teacherTiming = { handle: [], render: [] };
  function took(list, ms) { list.push(ms); if (list.length > 500) { list.shift(); } }

  window.teacherRows = function () { // a plain copy of the board, for tests and the console
    return state.order.map(function (key) {
      var row = state.students.get(key);
      var results = {};
      row.results.forEach(function (result, exercise) { results[exercise] = { passed: result.passed, reason: result.reason }; });
      return { key: row.key, name: row.name, present: row.present, results: Object.assign(Object.create(null), results) };
    });
  };

  function serverNow() { return Date.now() / 1000 + state.offset; }

  // -- the rows ----------------------------------------------------------------------------------
  function findIndex(name) { // where a row called `name` goes in state.order (binary search)
    var low = 0, high = state.order.length;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (collator.compare(state.students.get(state.order[middle]).name, name) < 0) { low = middle + 1; } else { high = middle; }
    }
    return low;
  }

  function putStudent(data) {
    var row = state.students.get(data.key);
    if (!row) {
      row = { key: data.key, name: data.name, results: new Map() };
      state.students.set(data.key, row);
      state.order.splice(findIndex(data.name), 0, data.key);
    } else if (row.name !== data.name) {
      state.order.splice(state.order.indexOf(data.key), 1);
      row.name = data.name;
      state.order.splice(findIndex(data.name), 0, data.key);
    }
    row.present = data.present; row.joined = data.joined; row.active = data.active; row.bound = data.bound;
    return row;
  }

  function putResult(row, data) {
    row.results.set(data.exercise, {
      passed: data.passed, reason: data.reason, at: data.at, first: data.first, passed_at: data.passed_at,
    });
  }

  function loadBoard(message) {
    state.offset = message.now - Date.now() / 1000;
    state.exercises = message.exercises.map(function (e) { return e.name; });
    state.core = message.exercises.filter(function (e) { return e.core; }).map(function (e) { return e.name; });
    state.homework = message.exercises.filter(function (e) { return !e.core; }).map(function (e) { return e.name; });
    state.notebookOf = new Map(message.exercises.map(function (e) { return [e.name, e.notebook]; }));
    state.current = message.current; state.currentSince = message.current_since;
    state.students = new Map();
    message.students.forEach(function (data) {
      var row = { key: data.key, name: data.name, present: data.present, joined: data.joined, active: data.active,
                  bound: data.bound, results: new Map() };
      data.results.forEach(function (result) { putResult(row, result); });
      state.students.set(data.key, row);
    });
    state.order = Array.from(state.students.keys()).sort(function (a, b) {
      return collator.compare(state.students.get(a).name, state.students.get(b).name);
    });
    fillCurrentChoices();
    headKey = "";
  }

  // -- the class's current exercise, and who is stuck on it ---------------------------------------
  function currentExercise() {
    if (state.current) { return state.current; }
    // Automatic: the furthest exercise of the core path that somebody has a result for.
    var furthest = -1;
    state.students.forEach(function (row) {
      for (var i = state.core.length - 1; i > furthest; i -= 1) {
        if (row.results.has(state.core[i])) { furthest = i; break; }
      }
    });
    return furthest >= 0 ? state.core[furthest] : "";
  }

  function classSince(exercise) { // when the class started on `exercise`
    if (state.current === exercise && state.currentSince) { return state.currentSince; }
    var since = Infinity;
    state.students.forEach(function (row) {
      var result = row.results.get(exercise);
      if (result && result.first < since) { since = result.first; }
    });
    return since;
  }

  // Seconds `row` has been without a pass on `exercise` (since their first try, or since the class
  // started on it and they were there), when that is at least stuckAfter; else 0.
  function stuckFor(row, exercise, since, now) {
    if (!exercise || !row.present) { return 0; }
    var result = row.results.get(exercise);
    if (result && result.passed_at != null) { return 0; }
    var from = result ? result.first : Math.max(since, row.joined);
    var waited = now - from;
    return isFinite(waited) && waited >= state.stuckAfter ? waited : 0;
  }

  // -- drawing -------------------------------------------------------------------------------------
  function ago(seconds) { // minutes: the back of the room needs no seconds, and the cells change less often
    seconds = Math.max(0, seconds);
    if (seconds < 60) { return "< 1 min"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min"; }
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  // Redraws change only what changed: each element remembers the text and class it was given, so a
  // new result rewrites one cell and the totals, and the browser lays out those, not the whole table.
  function put(element, text, className) {
    if (element.shownText !== text) { element.shownText = text; element.textContent = text; }
    if (className !== undefined && element.shownClass !== className) { element.shownClass = className; element.className = className; }
  }

  var headKey = "";
  function drawHead(current) {
    var key = state.exercises.join(",") + "|" + current;
    if (key === headKey) { return; }
    var shape = state.exercises.join(",");
    var reshaped = headKey.split("|")[0] !== shape;
    headKey = key;
    var cells = [];
    function th(text, className, notebook) {
      var cell = document.createElement("th");
      cell.scope = "col";
      if (className) { cell.className = className; }
      if (notebook) {
        var nb = document.createElement("span");
        nb.className = "nb";
        nb.textContent = notebook;
        cell.appendChild(nb);
        cell.appendChild(document.createElement("br"));
      }
      cell.appendChild(document.createTextNode(text));
      cells.push(cell);
      return cell;
    }
    th("student", "name-col");
    th("last active", "active-col");
    state.core.forEach(function (exercise) {
      var cell = th(exercise, exercise === current ? "current" : "", state.notebookOf.get(exercise));
      cell.dataset.exercise = exercise;
      cell.title = "click: make it the current exercise";
    });
    th("homework", "homework-col", state.homework.length + " exercises");
    head.replaceChildren.apply(head, cells);
    if (reshaped) { // other columns: the rows and the totals are made anew
      inViewRows = new Map();
      spare = [];
      var totals = [document.createElement("th")];
      totals[0].scope = "row";
      totals[0].textContent = "passed";
      for (var i = 0; i < state.core.length + 2; i += 1) { totals.push(document.createElement("td")); }
      foot.replaceChildren.apply(foot, totals);
    }
  }

  // The table rows in view, by student: scrolling a little keeps most rows as they are; a row that
  // leaves the view is reused for one that enters it.
  var inViewRows = new Map(); // key -> tr
  var spare = [];
  function pooled(key) {
    var tr = inViewRows.get(key) || spare.pop();
    if (!tr) {
      tr = document.createElement("tr");
      var name = document.createElement("th");
      name.scope = "row";
      name.dataset.exercise = "";
      tr.appendChild(name);
      tr.appendChild(document.createElement("td"));
      state.core.forEach(function (exercise) {
        var cell = document.createElement("td");
        cell.dataset.exercise = exercise;
        tr.appendChild(cell);
      });
      var homework = document.createElement("td");
      homework.dataset.exercise = "";
      tr.appendChild(homework);
    }
    return tr;
  }

  function fillRow(tr, row, now, current, since) {
    var stuck = stuckFor(row, current, since, now);
    if (tr.dataset.key !== row.key) { tr.dataset.key = row.key; }
    put(tr, undefined, (row.present ? "" : "gone") + (stuck ? " stuck" : ""));
    var chosen = state.selected && state.selected.key === row.key ? state.selected.exercise : null;
    var cells = tr.children;
    put(cells[0], (stuck ? "\u26a0 " : "") + row.name, chosen === "" ? "selected" : "");
    put(cells[1], (row.present ? "" : "left ") + ago(now - row.active), "active");
    state.core.forEach(function (exercise, index) {
      var result = row.results.get(exercise);
      var text, className;
      if (exercise === current && stuck) {
        text = "stuck " + ago(stuck); className = "stuck";
      } else if (!result) {
        text = "\u2013"; className = "none";
      } else {
        text = result.passed ? "passed" : "not yet"; className = result.passed ? "passed" : "not-yet";
      }
      put(cells[index + 2], text, className + (chosen === exercise ? " selected" : ""));
    });
    var done = 0;
    state.homework.forEach(function (exercise) {
      var result = row.results.get(exercise);
      if (result && result.passed) { done += 1; }
    });
    put(cells[cells.length - 1], done ? done + " passed" : "\u2013", done ? "passed" : "none");
  }

  function makeSpacer() {
    var tr = document.createElement("tr");
    tr.className = "spacer";
    tr.setAttribute("aria-hidden", "true");
    tr.appendChild(document.createElement("td"));
    return tr;
  }
  var topSpacer = makeSpacer(), bottomSpacer = makeSpacer();
  function sized(spacer, rows) {
    var cell = spacer.firstChild;
    if (cell.colSpan !== state.core.length + 3) { cell.colSpan = state.core.length + 3; }
    var height = rows * ROW_HEIGHT + "px";
    if (cell.style.height !== height) { cell.style.height = height; }
    return spacer;
  }

  // Make ``parent``'s children ``wanted``, in order, moving as few as it can: a scroll of a few rows
  // takes a few rows off one end and puts a few on the other.
  function reconcile(parent, wanted) {
    var keep = new Set(wanted);
    Array.prototype.slice.call(parent.children).forEach(function (child) {
      if (!keep.has(child)) { parent.removeChild(child); }
    });
    for (var i = 0; i < wanted.length; i += 1) {
      var there = parent.children[i];
      if (there !== wanted[i]) { parent.insertBefore(wanted[i], there || null); }
    }
  }

  var renderPending = false;
  function scheduleRender() {
    if (!renderPending) { renderPending = true; requestAnimationFrame(render); }
  }

  function render() {
    renderPending = false;
    var started = performance.now();
    var now = serverNow();
    var current = currentExercise();
    var since = current ? classSince(current) : Infinity;
    drawHead(current);

    // Only the rows in view (and a few around): the board may hold 1,000 students.
    var total = state.order.length;
    var inView = Math.ceil((scroller.clientHeight || 800) / ROW_HEIGHT) + 1;
    var first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    var last = Math.min(total, first + inView + 2 * OVERSCAN);
    var rows = [];
    var keys = state.order.slice(first, last);
    var staying = new Set(keys);
    inViewRows.forEach(function (tr, key) {
      if (!staying.has(key)) { inViewRows.delete(key); spare.push(tr); }
    });
    if (first > 0) { rows.push(sized(topSpacer, first)); }
    keys.forEach(function (key) {
      var tr = pooled(key);
      inViewRows.set(key, tr);
      fillRow(tr, state.students.get(key), now, current, since);
      rows.push(tr);
    });
    if (last < total) { rows.push(sized(bottomSpacer, total - last)); }
    reconcile(body, rows);

    // Totals, present count and the stuck list: over every row (cheap: no DOM).
    var passed = state.core.map(function () { return 0; });
    var homework = 0, present = 0, stuck = [];
    state.order.forEach(function (key) {
      var row = state.students.get(key);
      if (row.present) { present += 1; }
      state.core.forEach(function (exercise, index) {
        var result = row.results.get(exercise);
        if (result && result.passed) { passed[index] += 1; }
      });
      state.homework.forEach(function (exercise) {
        var result = row.results.get(exercise);
        if (result && result.passed) { homework += 1; }
      });
      if (stuckFor(row, current, since, now)) { stuck.push(row.name); }
    });
    var totals = foot.children;
    put(totals[1], "");
    passed.forEach(function (count, index) { put(totals[index + 2], count + " of " + total); });
    put(totals[totals.length - 1], String(homework));
    if (empty.hidden !== total > 0) { empty.hidden = total > 0; }
    put($("count-joined"), String(total));
    put($("count-present"), String(present));
    put(currentSelect.options[0], "automatic" + (current && !state.current ? " (" + current + ")" : ""));
    put(stuckLine, stuck.length
      ? "stuck (" + ago(state.stuckAfter) + " without a pass on " + current + "): " +
        stuck.slice(0, MAX_STUCK_NAMES).join(", ") + (stuck.length > MAX_STUCK_NAMES ? " and " + (stuck.length - MAX_STUCK_NAMES) + " more" : "")
      : "");
    drawDetail(now, current, since);
    if (timing.withLayout) { void scroller.offsetHeight; } // the bench counts style and layout too
    took(timing.render, performance.now() - started);
  }

  // -- the detail of a cell or a row: the reasons, readable without hovering ----------------------
  var detailShown = "";
  function drawDetail(now, current, since) {
    var chosen = state.selected && state.students.get(state.selected.key);
    var exercise = chosen ? state.selected.exercise : "";
    var title = "", lines = [], items = [];
    if (chosen) {
      title = chosen.name + (exercise ? " \u00b7 " + exercise : "") + (chosen.present ? "" : " (left)");
      var stuck = stuckFor(chosen, current, since, now);
      if (exercise) {
        var result = chosen.results.get(exercise);
        lines.push(result
          ? (result.passed ? "passed" : "not yet") + ", checked " + ago(now - result.at) + " ago" +
            (result.passed ? "" : "; first tried " + ago(now - result.first) + " ago") + "\n" + (result.reason || "(no reason given)")
          : "no result yet");
        if (exercise === current && stuck) { lines.push("stuck: no pass for " + ago(stuck)); }
      } else {
        lines.push("joined " + ago(now - chosen.joined) + " ago; last active " + ago(now - chosen.active) + " ago");
        if (stuck) { lines.push("stuck on " + current + ": no pass for " + ago(stuck)); }
      }
      state.exercises.forEach(function (name) {
        var result = chosen.results.get(name);
        if (result) {
          items.push(state.notebookOf.get(name) + " " + name + ": " + (result.passed ? "passed" : "not yet") +
                     (result.reason ? " \u2013 " + result.reason : ""));
        }
      });
    }
    var shown = JSON.stringify([title, lines, items, Boolean(chosen && chosen.bound)]);
    if (shown === detailShown) { return; }
    detailShown = shown;
    $("detail-hint").hidden = Boolean(chosen);
    releaseButton.hidden = !(chosen && chosen.bound);
    $("detail-title").textContent = title;
    $("detail-text").textContent = lines.join("\n");
    $("detail-list").replaceChildren.apply($("detail-list"), items.map(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
  }

  function select(event) {
    var cell = event.target.closest("td, th");
    var tr = cell && cell.parentElement;
    if (!tr || !tr.dataset.key) { return; }
    state.selected = { key: tr.dataset.key, exercise: cell.dataset.exercise || "" };
    scheduleRender();
  }
  body.addEventListener("click", select);
  head.addEventListener("click", function (event) {
    var cell = event.target.closest("th");
    if (cell && cell.dataset.exercise) { send({ action: "current", exercise: cell.dataset.exercise }); }
  });
  scroller.addEventListener("scroll", scheduleRender, { passive: true });
  window.addEventListener("resize", scheduleRender);
  setInterval(scheduleRender, TICK);

  function fillCurrentChoices() {
    var options = [currentSelect.options[0]];
    [["core path", state.core], ["homework", state.homework]].forEach(function (group) {
      var optgroup = document.createElement("optgroup");
      optgroup.label = group[0];
      group[1].forEach(function (exercise) {
        var option = document.createElement("option");
        option.value = exercise;
        option.textContent = state.notebookOf.get(exercise) + " " + exercise;
        optgroup.appendChild(option);
      });
      options.push(optgroup);
    });
    currentSelect.replaceChildren.apply(currentSelect, options);
    currentSelect.value = state.current;
  }
  currentSelect.addEventListener("change", function () { send({ action: "current", exercise: currentSelect.value }); });
  releaseButton.addEventListener("click", function () {
    if (state.selected) { send({ action: "release", key: state.selected.key }); }
  });

  // -- how students join: the address they can reach, not this page's ----------------------------
  function showRoom(message) {
    state.room = message.room;
    state.rehearsal = message.rehearsal;
    state.stuckAfter = message.stuck_after;
    $("room-name").textContent = (message.rehearsal ? "rehearsal " : "") + "\u201c" + message.room + "\u201d";
    var join = message.join;
    $("join-url").textContent = join.urls[0] || "";
    $("join-host").textContent = join.hosts[0] || "";
    $("join-port").textContent = String(join.port);
    var qr = $("join-qr");
    if (typeof join.qr === "string" && join.qr.indexOf("data:image/svg+xml") === 0) { qr.src = join.qr; qr.hidden = false; }
    var more = join.urls.slice(1);
    $("join-more").textContent = join.local_only
      ? "Only this machine can join: the server listens on 127.0.0.1. For a class, start it without --host."
      : (more.length ? "or: " + more.join("  ") : "");
  }

  // -- connection lists ------------------------------------------------------------------------------
  function fillList(element, names, more) {
    var items = names.slice(0, MAX_LISTED).map(function (name) {
      var item = document.createElement("li");
      item.textContent = name;
      return item;
    });
    var hidden = (more || 0) + Math.max(0, names.length - MAX_LISTED);
    if (hidden) {
      var rest = document.createElement("li");
      rest.textContent = "... and " + hidden + " more";
      items.push(rest);
    }
    element.replaceChildren.apply(element, items);
  }

  // -- the connection to the server, which comes back by itself --------------------------------------
  var ws = null;
  var delay = RECONNECT_FIRST;

  function setStatus(text, className) { status.textContent = text; status.className = className || ""; }
  function send(message) { if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(message)); } }

  function handle(message) {
    switch (message.type) {
      case "room": showRoom(message); break;
      case "board": loadBoard(message); break;
      case "student": putStudent(message); break;
      case "progress": {
        var row = state.students.get(message.key);
        if (row) { putResult(row, message); }
        break;
      }
      case "activity":
        state.offset = message.now - Date.now() / 1000;
        message.students.forEach(function (pair) {
          var row = state.students.get(pair[0]);
          if (row) { row.active = pair[1]; }
        });
        break;
      case "current":
        state.current = message.exercise; state.currentSince = message.since;
        currentSelect.value = message.exercise;
        break;
      case "members":
        state.members = message.members;
        fillList($("members"), message.members, 0);
        $("count").textContent = String(message.members.length);
        return;
      case "connections":
        state.paths = new Map(Object.keys(message.paths).map(function (path) { return [path, message.paths[path]]; }));
        Array.prototype.forEach.call(document.querySelectorAll(".path-list"), function (element) {
          var path = element.dataset.path;
          var names = state.paths.get(path) || [];
          var more = (message.more && Object.prototype.hasOwnProperty.call(message.more, path)) ? message.more[path] : 0;
          fillList(element, names, more);
          document.querySelector('.path-count[data-path="' + path + '"]').textContent = String(names.length + more);
        });
        return;
      case "stream":
        state.running = message.running;
        streamState.textContent = message.running ? "running" : "stopped";
        startButton.disabled = message.running;
        stopButton.disabled = !message.running;
        return;
      case "notice": setStatus(message.text, ""); return;
      default: return;
    }
    scheduleRender();
  }

  function connect() {
    ws = new WebSocket(wsUrl("teacher") + "?token=" + encodeURIComponent(token));
    ws.onopen = function () {
      delay = RECONNECT_FIRST;
      state.connected = true;
      setStatus("connected", "open");
      csvButton.disabled = false;
    };
    ws.onmessage = function (evt) {
      var started = performance.now();
      var message;
      try { message = JSON.parse(evt.data); } catch (e) { return; }
      handle(message);
      took(timing.handle, performance.now() - started);
    };
    ws.onclose = function (evt) {
      state.connected = false;
      startButton.disabled = stopButton.disabled = true;
      var said = "code " + evt.code + (evt.reason ? ": " + evt.reason : "");
      if (evt.code === 1008) { // the token: trying again will not help
        setStatus("closed (" + said + ")", "closed");
        return;
      }
      var wait = Math.round(delay * (0.75 + Math.random() * 0.5)); // jitter: many pages do not knock at once
      delay = Math.min(RECONNECT_MAX, delay * 2);
      setStatus("lost the server (" + said + "); trying again in " + Math.max(1, Math.round(wait / 1000)) + " s", "closed");
      setTimeout(connect, wait);
    };
  }

  startButton.addEventListener("click", function () { send({ action: "start_stream" }); });
  stopButton.addEventListener("click", function () { send({ action: "stop_stream" }); });
  csvButton.addEventListener("click", function () {
    var name = "board.csv";
    fetch(pageDir() + "teacher/board.csv", { headers: { "X-Teacher-Token": token }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        var given = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
        if (given) { name = given[1]; }
        return response.blob();
      })
      .then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = name;
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
      })
      .catch(function (error) { setStatus("could not download the board (" + error.message + ")", "closed"); });
  });

  if (!token) {
    setStatus("No token: open the address printed on the teacher's terminal (teacher.html?token=...).", "closed");
    return;
  }
  connect();
})();
