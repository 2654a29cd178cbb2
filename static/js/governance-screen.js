/* The big screen, live (docs/dashboards.md). The page works without it: it shows the figures
 * as they were when it loaded and, without script, reloads itself every minute.
 * The socket (ws/governance/screens/<id>/) says only that something under this council changed
 * (a case moved, the figures were recomputed); the figures come from the server's own fragment
 * (governance:screen_figures), read at most once every few seconds, and again every minute in
 * case a frame was lost. Modelled on cases-board.js: the parsed fragment's nodes are copied in.
 */
(function () {
  "use strict";
  var main = document.getElementById("gov-screen");
  if (!main || !window.WebSocket || !window.fetch || !window.DOMParser) { return; }
  var wsPath = main.getAttribute("data-ws");
  var figuresUrl = main.getAttribute("data-figures-url");
  var liveLine = document.getElementById("gov-screen-live");
  var t = function (key) { return main.getAttribute("data-i18n-" + key) || ""; };
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var REFRESH_MS = 3000;
  var ANYWAY_MS = 60000;
  var delay = 1000;
  // The board's number when the page was rendered: an opening frame above it means a change
  // came between the page and the socket.
  var seqText = main.getAttribute("data-seq");
  var lastSeq = seqText === null || seqText === "" ? null : parseInt(seqText, 10);
  var timer = null;
  var lastRead = Date.now();
  var socketOpen = false;

  function setLive(state) {
    main.setAttribute("data-live-state", state);
    if (liveLine) { liveLine.textContent = state === "live" ? t("live") : t("offline"); }
  }

  function read() {
    timer = null;
    lastRead = Date.now();
    fetch(figuresUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        // A failed read leaves the last figures on the screen and the dot amber; the next
        // frame, or the minute's read, tries again.
        if (html === null) { setLive("reconnecting"); return; }
        setLive(socketOpen ? "live" : "reconnecting");
        // Our own server's fragment, escaped by its template; a parsed document runs no
        // script, and its nodes are copied in as they are.
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("screen-figures");
        var box = document.getElementById("screen-figures");
        if (!fresh || !box) { return; }
        box.replaceChildren.apply(box, Array.prototype.map.call(fresh.childNodes, function (node) {
          return document.importNode(node, true);
        }));
        box.setAttribute("data-at", fresh.getAttribute("data-at") || "");
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
    socket.onopen = function () { socketOpen = true; delay = 1000; setLive("live"); };
    socket.onclose = function () {
      socketOpen = false;
      setLive("reconnecting");
      lastSeq = null;  // the next opening frame reads whatever changed while it was down
      setTimeout(connect, delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 30000);
    };
  }
  // A frame may be lost on the way (the channel layer drops them under load): read anyway.
  setInterval(function () { if (Date.now() - lastRead >= ANYWAY_MS) { soon(); } }, ANYWAY_MS / 4);
  connect();
}());
