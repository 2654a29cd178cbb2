/* The bell in the header: its number follows new notifications without reloading the page.
 *
 * The page works without this file: the bell is a link with the count the server rendered.
 * Frames (ws/notifications/, notifications.consumers): {"type": "unread", "count": N} on
 * connect and when notifications are marked read (the exact count), {"type": "notification"}
 * for each new one (add one). Every word comes from the bell's data-i18n-* attributes,
 * translated by the template. A dropped connection is retried with growing, jittered waits;
 * on connect the server sends the exact count again, so nothing is lost meanwhile.
 */
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  if (!bell || !window.WebSocket) { return; }
  var badge = bell.querySelector(".bell-count");  // the number, and "unread" for screen readers
  var number = bell.querySelector(".bell-number");
  var news = document.getElementById("notification-news");
  var inboxNews = document.getElementById("inbox-news");
  var count = parseInt(bell.getAttribute("data-count"), 10) || 0;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var delay = 1000;
  var socket = null;
  var timer = null;

  function t(key) { return bell.getAttribute("data-i18n-" + key) || ""; }

  function show(next, isNew) {
    count = Math.max(0, next);
    number.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count === 0;
    bell.classList.toggle("has-unread", count > 0);
    bell.setAttribute("data-count", String(count));
    if (!isNew) { return; }
    if (news) {  // read out by screen readers; emptied first so a second one is read out too
      news.textContent = "";
      setTimeout(function () { news.textContent = t("new"); }, 100);
    }
    if (inboxNews) { inboxNews.hidden = false; }  // on the inbox: "new ones above, reload"
  }

  function connect() {
    timer = null;
    if (socket) { return; }
    socket = new WebSocket(scheme + location.host + bell.getAttribute("data-ws"));
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "unread" && typeof frame.count === "number") {
        delay = 1000;  // a working connection: the next drop starts the waits afresh
        show(frame.count, frame.count > count && bell.getAttribute("data-live") === "on");
        bell.setAttribute("data-live", "on");
      } else if (frame.type === "notification") {
        show(count + 1, true);
      }
    };
    socket.onclose = function () {
      socket = null;
      bell.setAttribute("data-live", "off");
      later();
    };
  }

  function later() {
    if (timer !== null) { return; }
    timer = setTimeout(connect, delay * (0.5 + Math.random()));  // jitter: not every phone at once
    delay = Math.min(delay * 2, 60000);
  }

  // A phone that wakes up or comes back online reconnects at once, not after the last wait.
  function soon() {
    if (socket || document.hidden) { return; }
    if (timer !== null) { clearTimeout(timer); timer = null; }
    delay = 1000;
    connect();
  }
  document.addEventListener("visibilitychange", soon);
  window.addEventListener("online", soon);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { soon(); } });
  connect();
}());
