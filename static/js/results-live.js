// Results pushed live when the committee publishes them (no stampede of reloads).
(function () {
  "use strict";
  var status = document.getElementById("results-status");
  if (!status || !window.WebSocket) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var delay = 1000;
  function connect() {
    var socket = new WebSocket(scheme + location.host + status.dataset.ws);
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type !== "results") return;
      var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
      var names = frame.funded.map(function (p) { return p.title; }).join(zh ? "、" : ", ");
      status.textContent = (zh ? "村委会已公布结果，获得资助：" : "The committee published the results. Funded: ") + names;
    };
    socket.onopen = function () { delay = 1000; };
    socket.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
  }
  connect();
})();
