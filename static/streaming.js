// Part 2 of the tutorial: receive the stream and show it, newest first.
// Message text goes in with textContent, never innerHTML: anything a server or
// another student sends is data, not markup.
"use strict";

(function () {
  var MAX_LOG_LINES = 200; // the page stays fast however long the stream runs
  var ws = null;
  var received = 0;
  var url = document.getElementById("url");
  var log = document.getElementById("log");
  var status = document.getElementById("status");
  var count = document.getElementById("count");
  var openButton = document.getElementById("open");
  var closeButton = document.getElementById("close");
  // About 30 messages in view: at the original's one message every 2 s, the last minute.
  var plot = new LivePlot(document.getElementById("plot"), {points: 30, yLabel: "n in \"message: n\""});
  window.streamingPlot = plot; // the browser tests read plot.drawCount

  if (location.host) {
    // Next to the page, also behind jupyter-server-proxy (/user/ada/proxy/8888/).
    url.value = wsUrl("streaming"); // wsurl.js
  }

  function addLine(text) {
    var line = document.createElement("div");
    line.className = "line";
    line.textContent = text;
    log.insertBefore(line, log.firstChild);
    while (log.childNodes.length > MAX_LOG_LINES) { log.removeChild(log.lastChild); }
  }

  function setOpen(isOpen, text) {
    openButton.disabled = isOpen;
    closeButton.disabled = !isOpen;
    status.textContent = text;
    status.className = isOpen ? "open" : "closed";
  }

  openButton.addEventListener("click", function () {
    if (ws) { ws.onclose = null; ws.close(); }
    var address = url.value.trim();
    var socket;
    try {
      socket = new WebSocket(address);
    } catch (error) {
      ws = null;
      setOpen(false, "not a WebSocket address: " + address + " (it looks like " + wsUrl("streaming") + ")");
      return;
    }
    var opened = false;
    ws = socket;
    setOpen(true, "connecting ...");
    ws.onopen = function () { opened = true; setOpen(true, "open"); };
    ws.onmessage = function (evt) {
      received += 1;
      count.textContent = String(received);
      addLine(String(evt.data));
      var match = /-?\d+(\.\d+)?(e-?\d+)?/.exec(String(evt.data));
      if (match) { plot.add(parseFloat(match[0])); }
    };
    ws.onclose = function (evt) {
      addLine("Connection close");
      if (opened) {
        setOpen(false, "closed (code " + evt.code + ")");
        return;
      }
      // Never opened: the code is always 1006; find out what probably went wrong.
      setOpen(false, "could not open " + address + " (code " + evt.code + "); checking why ...");
      var parts = new URL(address);
      var port = parts.port || (parts.protocol === "wss:" ? "443" : "80");
      explainFailure(parts.hostname, port, parts.pathname, "/streaming", function (why) {
        if (ws === socket) { status.textContent = "could not open " + address + ": " + why; }
      });
    };
  });

  closeButton.addEventListener("click", function () { if (ws) { ws.close(1000, "bye"); } });

  // Open at once, as the original's streaming page did.
  openButton.click();
})();
