// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Tell the server the visitor's own time zone, so that slot times can be
  // shown in it too (the page works without it).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // IANA names need no escaping; anything else is not sent.
    if (zone && /^[A-Za-z0-9_\/+-]+$/.test(zone) && document.cookie.indexOf("booking_tz=") === -1) {
      document.cookie = "booking_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
      // On the first visit the page was made without it: a page showing
      // times of another zone is made again, once, with the visitor's too.
      var shown = document.querySelector("[data-zone]");
      if (shown && shown.getAttribute("data-zone") !== zone &&
          document.cookie.indexOf("booking_tz=") !== -1) {
        window.location.reload();
      }
    }
  } catch (e) { /* no Intl: nothing to tell */ }

  // Coming back with the Back button shows the page as it was left:
  // buttons disabled on submit must work again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A form that must not be sent twice disables its buttons once sent.
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
        });
      });
    });

    // Show the name and phone fields only to new customers.
    var account = document.querySelector("fieldset.account");
    if (account) {
      var extra = account.querySelector(".register-only");
      var sync = function () {
        var mode = account.querySelector("input[name=account]:checked");
        extra.hidden = !(mode && mode.value === "register");
      };
      account.querySelectorAll("input[name=account]").forEach(function (radio) {
        radio.addEventListener("change", sync);
      });
      sync();
    }
  });
})();
