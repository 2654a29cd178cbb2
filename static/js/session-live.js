/* Live session state for the meeting page and the room's screen (docs/sessions.md).
 * The pages work without it. Frames are numbered; a gap means something was lost, so the socket
 * reconnects and the server sends the full state again. Text goes in with textContent only.
 */
(function () {
  "use strict";
  var root = document.getElementById("session-live");
  if (!root || !("WebSocket" in window)) { return; }
  var t = function (key) { return root.getAttribute("data-i18n-" + key) || key; };
  var statusLine = document.getElementById("live-status");
  var isScreen = root.getAttribute("data-screen") === "1";
  var lastSeq = null;
  var retry = 0;
  var socket = null;

  function setStatus(text) { if (statusLine) { statusLine.textContent = text; } }

  function setField(box, name, value) {
    if (!box) { return; }
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el) { el.textContent = String(value); }
  }

  function showAttendance(a) {
    var box = root.querySelector('[data-live="attendance"]');
    if (!box) { return; }
    ["entitled", "attending", "proxies", "quorum_needed"].forEach(function (k) { setField(box, k, a[k]); });
    var state = box.querySelector('[data-field="quorum_text"]');
    if (state) { state.textContent = state.getAttribute(a.quorum_met ? "data-yes" : "data-no"); }
    box.classList.toggle("quorum-met", !!a.quorum_met);
    box.classList.toggle("quorum-not-met", !a.quorum_met);
  }

  function tallyBox(motionId) {
    if (isScreen) { return root.querySelector('[data-live="tally"]'); }
    return root.querySelector('[data-live="tally"][data-motion="' + motionId + '"]');
  }

  function showTally(motionId, f) {
    var box = tallyBox(motionId);
    if (!box) { return false; }
    box.hidden = false;
    box.setAttribute("data-motion", motionId);
    ["yes", "no", "abstain"].forEach(function (k) { setField(box, k, f[k]); });
    return true;
  }

  function showMotionOnScreen(m) {
    if (!isScreen) { return; }
    var title = document.getElementById("screen-motion-title");
    var status = document.getElementById("screen-motion-status");
    if (title) { title.textContent = m.title; }
    if (status) { status.textContent = m.result ? t(m.result) : t(m.status); }
    showTally(m.motion, m);
    var list = document.getElementById("screen-votes");
    if (list && m.votes) {
      list.textContent = "";
      m.votes.forEach(addVote);
    }
  }

  function addVote(v) {
    var list = document.getElementById("screen-votes");
    if (!list || !isScreen) { return; }
    var li = document.createElement("li");
    li.className = "v-" + v.choice;
    li.textContent = v.name + " · " + t(v.choice);
    list.appendChild(li);
  }

  function setLiveState(state) {
    root.setAttribute("data-live-state", state);
    setStatus(t(state === "live" ? "live" : "offline"));
  }

  function apply(frame) {
    if (frame.type === "live") {
      // The server's channel layer (Redis) is down; a fresh "state" follows once it is back.
      if (frame.status === "unavailable") { setLiveState("reconnecting"); }
      return;
    }
    if (frame.type === "state") {
      setLiveState("live");
      lastSeq = frame.seq;
      showAttendance(frame.attendance);
      if (isScreen) {
        var open = frame.motions.filter(function (m) { return m.status === "open"; });
        if (frame.motions.length) {
          showMotionOnScreen(open.length ? open[0] : frame.motions[frame.motions.length - 1]);
        }
        return;
      }
      var stale = frame.motions.some(function (m) {
        var box = tallyBox(m.motion);
        return !box || box.getAttribute("data-status") !== m.status;
      });
      if (stale) { window.location.reload(); return; }  // a vote opened or closed meanwhile
      frame.motions.forEach(function (m) { showTally(m.motion, m); });
      return;
    }
    if (lastSeq !== null && typeof frame.seq === "number") {
      if (frame.seq <= lastSeq) { return; }
      if (frame.seq !== lastSeq + 1) { socket.close(); return; }  // a gap: resync
      lastSeq = frame.seq;
    }
    if (frame.type === "attendance") { showAttendance(frame); }
    else if (frame.type === "tally") {
      showTally(frame.motion, frame);
      addVote(frame.vote);
    } else if (frame.type === "motion" || frame.type === "result") {
      if (isScreen) { showMotionOnScreen(frame); }
      else { window.location.reload(); }  // the page's forms change: reload this one page
    } else if (frame.type === "session") {
      if (!isScreen) { window.location.reload(); }
    } else if (frame.type === "check_in" && root.getAttribute("data-shows-code") === "1") {
      window.location.reload();  // the code is never broadcast: the chair's screen reloads
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-ws-path"));
    socket.onopen = function () { retry = 0; };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      apply(frame);
    };
    socket.onclose = function () {
      setLiveState("reconnecting");
      lastSeq = null;
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 500 * Math.pow(2, retry) * (0.5 + Math.random()));  // jitter
    };
  }
  connect();
}());
