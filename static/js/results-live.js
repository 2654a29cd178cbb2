/* Results pushed live when the committee publishes them (no stampede of reloads), and during the
 * vote the number of ballots cast so far (the cycle page).
 * Every word shown comes from the page (data-i18n-* attributes, translated by the template).
 * A reconnect loses nothing: on connect the server sends the current results frame.
 */
(function () {
  "use strict";
  var status = document.getElementById("results-status");
  if (!status || !window.WebSocket) { return; }
  var liveLine = document.getElementById("results-live-state");
  var t = function (key) { return status.getAttribute("data-i18n-" + key) || ""; };
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var delay = 1000;

  function setLiveState(state) {
    status.setAttribute("data-live-state", state);
    if (liveLine) { liveLine.textContent = state === "live" ? "" : t("offline"); }
  }

  function connect() {
    var socket = new WebSocket(scheme + location.host + status.getAttribute("data-ws"));
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "live" && frame.status === "unavailable") {
        setLiveState("reconnecting");  // the server's live layer is down; the page still works
        return;
      }
      if (frame.type === "turnout" && t("turnout")) {
        // During the vote: only the number of ballots, never what they say.
        setLiveState("live");
        status.textContent = t("turnout").replace("__N__", frame.ballots.toLocaleString());
        return;
      }
      if (frame.type !== "results" || !t("published")) { return; }
      setLiveState("live");
      var names = frame.funded.map(function (p) { return p.title; }).join(t("separator"));
      status.textContent = t("published") + " " + names;
    };
    socket.onopen = function () { delay = 1000; setLiveState("live"); };
    socket.onclose = function () {
      setLiveState("reconnecting");
      setTimeout(connect, delay * (0.5 + Math.random()));  // jitter: not every phone at once
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
}());
