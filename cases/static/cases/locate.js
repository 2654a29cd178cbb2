// Optional: fill the latitude and longitude of a report from the phone's position. The form
// works without this script; with it, one button saves typing the numbers.
(function () {
  "use strict";
  var box = document.querySelector(".js-locate");
  var lat = document.getElementById("id_latitude");
  var lon = document.getElementById("id_longitude");
  if (!box || !lat || !lon || !navigator.geolocation) return;
  var button = box.querySelector("button");
  var status = box.querySelector("[role=status]");
  box.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent = "";
      },
      function () {
        status.textContent = button.dataset.failed;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
