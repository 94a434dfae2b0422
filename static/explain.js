// Why a WebSocket did not open, in one sentence (pages load it after wsurl.js).
// A WebSocket that could not open always reports code 1006: the browser hides
// the reason from the page on purpose. An ordinary request to the same address
// tells the usual mistakes apart, as the notebook's panel does.
"use strict";

var LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]", "::1"];

// explainFailure("localhost", "8888", "/wrong", "/ws", done): done(sentence) once known.
function explainFailure(host, port, path, example, done) {
  var sameServer = String(port) === pagePort() &&
    (host === location.hostname ||
     (LOOPBACK_NAMES.indexOf(host) >= 0 && LOOPBACK_NAMES.indexOf(location.hostname) >= 0));
  var where = host + ":" + port;
  if (sameServer) {
    // The page's own server: its answer can be read.
    fetch(path, {cache: "no-store"}).then(function (response) {
      if (response.status === 404) {
        done("the server has no WebSocket at " + path + " (404 Not Found); check the uri, e.g. " + example);
      } else if (response.status === 400 || response.status === 426) {
        done("there is a WebSocket at " + path + ", but the server refused this connection; its events say why (e.g. origin rejected)");
      } else {
        done(path + " is a page (HTTP " + response.status + "), not a WebSocket; check the uri, e.g. " + example);
      }
    }, function () {
      done("the server at " + where + " does not answer any more; is it still running?");
    });
    return;
  }
  // Another server: the browser lets the page learn only whether anything answers.
  var http = (wsScheme() === "wss://" ? "https://" : "http://") + where;
  fetch(http + "/", {mode: "no-cors", cache: "no-store"}).then(function () {
    if (!location.host) {
      // file://: the browser sends "Origin: null", which a careful server refuses (403).
      done("this page was opened from disk, and the server refuses pages without an origin; " +
        "open it from the server instead: " + http + "/" + pageName());
      return;
    }
    done("something answers at " + where + ", but not with a WebSocket at " + path +
      "; check the uri (e.g. " + example + "), and that this server lets pages from " + location.host + " connect");
  }, function () {
    done("nothing answers at " + where + "; is the server started, and are host and port right?");
  });
}

// The page's own file name, e.g. "hello.html".
function pageName() {
  return document.location.href.split(/[?#]/)[0].replace(/^.*\//, "") || "hello.html";
}
