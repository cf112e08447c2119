// "Use my location" on the near-me page: fills the latitude and longitude
// fields from the browser's location and searches. Without this script (or
// without a location) the form works by typing an address or coordinates.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("near-form");
    var button = document.getElementById("use-my-location");
    if (!form || !button || !navigator.geolocation) {
      return;
    }
    var status = document.getElementById("location-status");
    var latitude = form.querySelector("input[name=latitude]");
    var longitude = form.querySelector("input[name=longitude]");
    var address = form.querySelector("input[name=address]");
    button.closest(".locate-me").hidden = false;

    // Typing an address means "search there", not at the coordinates.
    if (address) {
      address.addEventListener("input", function () {
        latitude.value = "";
        longitude.value = "";
      });
    }

    button.addEventListener("click", function () {
      status.textContent = status.dataset.locating;
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        latitude.value = position.coords.latitude.toFixed(5);
        longitude.value = position.coords.longitude.toFixed(5);
        if (address) {
          address.value = "";
        }
        form.submit();
      }, function () {
        status.textContent = status.dataset.failed;
        button.disabled = false;
      }, {enableHighAccuracy: false, timeout: 10000, maximumAge: 300000});
    });
  });
})();
