// "Use my phone's location" on the request-help page: with the person's consent, the phone's position fills the
// hidden lat and lon fields (sent instead of the city). The page works without it.
(function () {
  "use strict";
  var button = document.getElementById("my-location");
  var status = document.getElementById("location-status");
  if (!button || !navigator.geolocation) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("lat").value = position.coords.latitude.toFixed(5);
      document.getElementById("lon").value = position.coords.longitude.toFixed(5);
      status.textContent = button.getAttribute("data-done") || status.textContent;
    }, function () {
      status.textContent = button.getAttribute("data-refused") || "";
    });
  });
}());
