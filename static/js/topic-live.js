/* Live debate on a topic page (docs/realtime.md). No framework; the page works without it.
 *
 * Connects to the topic's websocket with ?after=<last seq shown>, appends new messages, updates
 * the stance tally, hides moderated messages and shows the official answer and the new status as
 * they arrive. Posts and stances go over the socket when it is open and through the ordinary form
 * otherwise. User text is only ever put in the page with
 * textContent; links are made with createElement and an http(s) check.
 */
(function () {
  "use strict";
  var root = document.getElementById("live-debate");
  if (!root || !("WebSocket" in window)) { return; }

  var lastSeq = parseInt(root.getAttribute("data-last-seq"), 10);
  if (isNaN(lastSeq)) { return; }  // an older page of the history: nothing live here
  var path = root.getAttribute("data-ws-path");
  var t = function (key) { return root.getAttribute("data-i18n-" + key) || ""; };
  var list = document.getElementById("messages");
  var statusLine = document.getElementById("live-status");
  var postForm = document.getElementById("post-form");
  var stanceForm = document.getElementById("stance-form");
  var socket = null;
  var retry = 0;
  var pending = {};  // client_id -> frame, resent after a reconnect (the server de-duplicates)

  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function setStatus(text) { if (statusLine) { statusLine.textContent = text; } }

  // "live" or "reconnecting" (socket closed, or the server's live layer is down): the text comes
  // from the page (data-i18n-*), the attribute is for styles and tests.
  function setLiveState(state) {
    root.setAttribute("data-live-state", state);
    setStatus(t(state === "live" ? "live" : "offline"));
  }

  function appendLinkified(parent, text) {
    var pattern = /https?:\/\/[^\s<>"']+/g;
    var last = 0;
    var match;
    var lines = function (chunk) {
      var parts = chunk.split("\n");
      parts.forEach(function (part, i) {
        if (i > 0) { parent.appendChild(document.createElement("br")); }
        parent.appendChild(document.createTextNode(part));
      });
    };
    while ((match = pattern.exec(text)) !== null) {
      lines(text.slice(last, match.index));
      var a = document.createElement("a");
      a.href = match[0];
      a.rel = "nofollow noopener";
      a.textContent = match[0];
      parent.appendChild(a);
      last = match.index + match[0].length;
    }
    lines(text.slice(last));
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function hiddenNotice(reason) { return el("p", "msg-hidden", t("hidden") + " " + reason); }

  function renderMessage(m) {
    var li = el("li", "msg");
    li.id = "message-" + m.seq;
    li.setAttribute("data-seq", String(m.seq));
    var meta = el("p", "msg-meta");
    var no = el("a", "msg-no", "#" + m.seq);
    no.href = "#message-" + m.seq;
    meta.appendChild(no);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("strong", "msg-author", m.author));
    meta.appendChild(document.createTextNode(" "));
    var time = el("time", "", new Date(m.created).toLocaleString());
    time.setAttribute("datetime", m.created);
    meta.appendChild(time);
    li.appendChild(meta);
    if (m.quote) {
      var quote = el("blockquote", "quote");
      var link = el("a", "", "#" + m.quote.seq);
      link.href = "#message-" + m.quote.seq;
      quote.appendChild(link);
      quote.appendChild(document.createTextNode(" " + m.quote.author + "：" + m.quote.excerpt));
      li.appendChild(quote);
    }
    if (m.hidden) {
      li.classList.add("msg-is-hidden");
      li.appendChild(hiddenNotice(m.hidden_reason));
    } else {
      var body = el("p", "msg-body");
      appendLinkified(body, m.body);
      li.appendChild(body);
    }
    addReplyButton(li, m.seq);
    return li;
  }

  function addReplyButton(li, seq) {
    if (!postForm || li.querySelector(".reply-button")) { return; }
    var button = el("button", "link-button reply-button", t("reply"));
    button.type = "button";
    button.addEventListener("click", function () {
      postForm.elements.reply_to.value = String(seq);
      postForm.elements.body.focus();
    });
    li.appendChild(button);
  }

  function showMessage(m) {
    if (document.getElementById("message-" + m.seq)) { return; }  // de-duplicate by seq
    var empty = document.getElementById("no-messages");
    if (empty) { empty.remove(); }
    list.appendChild(renderMessage(m));
    if (m.client_id && pending[m.client_id]) {
      delete pending[m.client_id];
      if (!Object.keys(pending).length) { setStatus(""); }  // our message is in: not "Sending…"
    }
  }

  function hideMessage(frame) {
    var li = document.getElementById("message-" + frame.seq);
    if (!li) { return; }
    li.classList.add("msg-is-hidden");
    var body = li.querySelector(".msg-body");
    if (body) { body.replaceWith(hiddenNotice(frame.reason)); }
    var form = li.querySelector("form.moderate");
    if (form) { form.remove(); }
  }

  // The status badge at the top of the page; its words come from the page (data-i18n-status-*).
  function setBadge(status) {
    var badge = document.getElementById("topic-status");
    var label = t("status-" + status);
    if (!badge || !label) { return; }
    badge.className = "status status-" + status;
    badge.textContent = label;
  }

  // The committee's official answer, shown (or replaced) above the stances, as the page does.
  function showAnswer(frame) {
    var slot = document.getElementById("answer-slot");
    if (!slot || typeof frame.answer !== "string") { return; }
    var section = el("section", "card answer");
    section.id = "answer";
    section.setAttribute("aria-labelledby", "answer-heading");
    section.appendChild(el("h2", "", t("answer"))).id = "answer-heading";
    var text = el("div", "answer-text");
    frame.answer.split(/\n{2,}/).forEach(function (paragraph) {
      var p = el("p");
      appendLinkified(p, paragraph);
      text.appendChild(p);
    });
    section.appendChild(text);
    var when = el("p", "muted");
    var time = el("time", "", new Date(frame.answered_at).toLocaleString());
    time.setAttribute("datetime", frame.answered_at);
    when.appendChild(time);
    section.appendChild(when);
    var old = document.getElementById("answer");
    if (old) {
      var oldText = old.querySelector(".answer-text");
      if (oldText && oldText.textContent.trim() === frame.answer.trim()) { return; }  // same answer
      old.replaceWith(section);
    } else {
      slot.appendChild(section);
    }
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "message":
        if (frame.seq > lastSeq + 1) { reconnectNow(); return; }  // a gap: catch up from lastSeq
        showMessage(frame);
        if (frame.seq > lastSeq) { lastSeq = frame.seq; }
        break;
      case "stances":
        ["support", "oppose", "neutral"].forEach(function (k) {
          var node = root.ownerDocument.querySelector('[data-stance="' + k + '"]');
          if (node) { node.textContent = String(frame[k]); }
        });
        break;
      case "moderation":
        if (frame.action === "hide") { hideMessage(frame); }
        break;
      case "topic":
        setBadge(frame.status);
        if (frame.status !== "open" && frame.status !== "taken_up" && postForm) {
          postForm.remove();
          postForm = null;
        }
        break;
      case "answered":
        showAnswer(frame);
        setBadge(frame.status);
        break;
      case "live":
        // The server's channel layer (Redis) is down: posts are still stored, and once it is
        // back the server sends what we missed and a new "ready".
        if (frame.status === "unavailable") { setLiveState("reconnecting"); }
        break;
      case "ready":
        // The server's own count: after a reconnect with ?after beyond its latest (a restored
        // database), later messages are numbered from here (docs/realtime.md).
        if (typeof frame.last_seq === "number") { lastSeq = frame.last_seq; }
        setLiveState("live");
        Object.keys(pending).forEach(function (id) { send(pending[id]); });
        break;
      case "error":
        if (frame.client_id && pending[frame.client_id]) { delete pending[frame.client_id]; }
        setStatus(frame.message);
        break;
      default:
        break;
    }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + path + "?after=" + lastSeq);
    socket.onopen = function () { retry = 0; };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    socket.onclose = function () {
      socket = null;
      setLiveState("reconnecting");
      retry = Math.min(retry + 1, 6);
      // Spread reconnects out so that a restarted worker is not hit by every client at once.
      var delay = (Math.pow(2, retry) * 500) * (0.5 + Math.random());
      window.setTimeout(connect, delay);
    };
  }

  function reconnectNow() {
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    connect();
  }

  list.querySelectorAll("li.msg:not(.msg-is-hidden)").forEach(function (li) {
    addReplyButton(li, li.getAttribute("data-seq"));
  });

  if (postForm) {
    postForm.addEventListener("submit", function (event) {
      var body = postForm.elements.body.value.trim();
      if (!body || !socket || socket.readyState !== WebSocket.OPEN) { return; }  // plain POST
      event.preventDefault();
      var replyTo = parseInt(postForm.elements.reply_to.value, 10);
      var frame = {type: "post", body: body, reply_to: isNaN(replyTo) ? null : replyTo,
                   client_id: postForm.elements.client_id.value || newClientId()};
      pending[frame.client_id] = frame;
      send(frame);
      setStatus(t("sending"));
      postForm.elements.body.value = "";
      postForm.elements.reply_to.value = "";
      postForm.elements.client_id.value = newClientId();
    });
  }

  if (stanceForm) {
    stanceForm.addEventListener("submit", function (event) {
      var chosen = stanceForm.querySelector('input[name="value"]:checked');
      if (!chosen || !send({type: "stance", value: chosen.value})) { return; }
      event.preventDefault();
    });
  }

  connect();
}());
