// Part 1 of the tutorial: open a WebSocket from three fields (host, port, uri).
// Fields are red until the connection opens, then green; every message pops up
// "message received: <data>"; closing pops up "Connection close" (as the
// original did). Messages are shown with alert()/textContent, never as HTML.
"use strict";

(function () {
  var ws = null;
  var fields = ["host", "port", "uri"].map(function (id) { return document.getElementById(id); });
  var status = document.getElementById("status");

  // The page is served by the tutorial's server: default to its port, and to
  // its host when it was opened from another machine (a classroom).
  if (location.port) { document.getElementById("port").value = location.port; }
  var loopback = ["localhost", "127.0.0.1", "[::1]", "::1"];
  if (location.hostname && loopback.indexOf(location.hostname) < 0) {
    document.getElementById("host").value = location.hostname;
  }
  // Behind jupyter-server-proxy (https://hub/user/ada/proxy/8888/hello.html)
  // the WebSocket is next to the page: the page's own host and port, its
  // folder before "ws" in the uri, and wss when the page came over https.
  // (pageDir, pagePort and wsScheme are in wsurl.js.)
  var dir = pageDir();
  if (dir !== "/") {
    // The proxy's login cookie belongs to the page's host name exactly.
    document.getElementById("host").value = location.hostname;
    document.getElementById("port").value = pagePort();
    document.getElementById("uri").value = dir + "ws";
  }

  // What the close codes a learner meets mean (RFC 6455, section 7.4.1).
  var CODES = {
    1000: "normal closure",
    1001: "going away: the server stopped, or the page is leaving",
    1006: "the connection dropped without a close frame",
    1008: "policy violation",
    1009: "message too big",
    1011: "the server hit an unexpected error"
  };
  function paint(color) {
    fields.forEach(function (field) { field.style.background = color; });
  }

  document.getElementById("open").addEventListener("click", function (evt) {
    evt.preventDefault();
    var host = document.getElementById("host").value.trim();
    var port = document.getElementById("port").value.trim();
    var uri = document.getElementById("uri").value.trim();
    if (!host || !/^\d+$/.test(port) || uri.charAt(0) !== "/") {
      status.textContent = "Fill in a host, a port number and a uri starting with '/'.";
      return;
    }
    if (ws) { ws.onclose = null; ws.close(); }
    var scheme = wsScheme();
    status.textContent = "connecting to " + scheme + host + ":" + port + uri + " ...";
    var url = scheme + host + ":" + port + uri;
    var opened = false;
    var socket = ws = new WebSocket(url);
    ws.onmessage = function (evt) { alert("message received: " + evt.data); };
    ws.onclose = function (evt) {
      paint("#ff0000");
      var meaning = CODES[evt.code] ? ": " + CODES[evt.code] : "";
      var reason = evt.reason ? ", reason '" + evt.reason + "'" : "";
      if (opened) {
        status.textContent = "closed (code " + evt.code + meaning + reason + ")";
      } else {
        status.textContent = "could not open " + url + " (code " + evt.code + "); checking why ...";
        explainFailure(host, port, uri, "/ws", function (why) {
          if (ws === socket) { status.textContent = "could not open " + url + ": " + why; }
        });
      }
      alert("Connection close");
    };
    ws.onopen = function () {
      opened = true;
      paint("#00ff00");
      status.textContent = "open: " + url;
    };
  });
})();
