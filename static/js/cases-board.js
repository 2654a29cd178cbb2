/* The township board, live (docs/cases.md). The page works without it: its counts are current
 * when it loads, and a "refresh" link reloads them.
 * The socket (ws/cases/boards/<id>/) says only that a case under this council moved; the counts
 * come from the server's own fragment (cases:board_counts), read at most once every few
 * seconds however many cases move, so a busy morning costs the screen a read every few seconds.
 */
(function () {
  "use strict";
  var box = document.getElementById("board-counts");
  if (!box || !window.WebSocket || !window.fetch) { return; }
  var wsPath = box.getAttribute("data-ws");
  var countsUrl = box.getAttribute("data-counts-url");
  var liveLine = document.getElementById("board-live-state");
  var t = function (key) { return box.getAttribute("data-i18n-" + key) || ""; };
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var REFRESH_MS = 3000;
  var delay = 1000;
  var lastSeq = null;
  var timer = null;
  var lastRead = 0;

  function setLive(state) {
    box.setAttribute("data-live-state", state);
    if (liveLine) { liveLine.textContent = state === "live" ? t("live") : t("offline"); }
  }

  function read() {
    timer = null;
    lastRead = Date.now();
    fetch(countsUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        // Our own server's fragment, rendered and escaped by its template; a parsed document
        // runs no script, and its nodes are copied in as they are.
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("board-counts");
        if (!fresh) { return; }
        box.replaceChildren.apply(box, Array.prototype.map.call(fresh.childNodes, function (node) {
          return document.importNode(node, true);
        }));
      })
      .catch(function () { setLive("reconnecting"); });
  }

  function soon() {
    if (timer !== null) { return; }
    timer = setTimeout(read, Math.max(0, lastRead + REFRESH_MS - Date.now()));
  }

  function connect() {
    var socket = new WebSocket(scheme + location.host + wsPath);
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "live") { setLive(frame.status === "unavailable" ? "reconnecting" : "live"); return; }
      if (frame.type !== "board") { return; }
      setLive("live");
      if (lastSeq === null || frame.seq !== lastSeq) { soon(); }
      lastSeq = frame.seq;
    };
    socket.onopen = function () { delay = 1000; setLive("live"); };
    socket.onclose = function () {
      setLive("reconnecting");
      setTimeout(connect, delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 30000);
    };
  }
  lastRead = Date.now();
  connect();
}());
