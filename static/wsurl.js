// Where this page's WebSockets are: next to the page itself; every page of the
// tutorial loads this file before its own script. Served directly
// (http://host:8888/chat.html) that is ws://host:8888/chat; behind
// jupyter-server-proxy (https://hub/user/ada/proxy/8888/chat.html) it is
// wss://hub/user/ada/proxy/8888/chat: same host, same path prefix, wss when
// the page came over https.
"use strict";

function wsScheme() {
  return location.protocol === "https:" ? "wss://" : "ws://";
}

// The folder the page was served from, e.g. "/" or "/user/ada/proxy/8888/".
function pageDir() {
  return location.pathname.replace(/[^\/]*$/, "");
}

// The page's port, also when the address has none (80 or 443).
function pagePort() {
  return location.port || (location.protocol === "https:" ? "443" : "80");
}

// wsUrl("chat") -> "ws://<this host>/<this folder>/chat"
function wsUrl(path) {
  return wsScheme() + location.host + pageDir() + String(path).replace(/^\//, "");
}
