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
    ws = new WebSocket(scheme + host + ":" + port + uri);
    ws.onmessage = function (evt) { alert("message received: " + evt.data); };
    ws.onclose = function (evt) {
      paint("#ff0000");
      status.textContent = "closed (code " + evt.code + ")";
      alert("Connection close");
    };
    ws.onopen = function () {
      paint("#00ff00");
      status.textContent = "open: " + scheme + host + ":" + port + uri;
    };
  });
})();
