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
    }
  } catch (e) { /* no Intl: nothing to tell */ }

  document.addEventListener("DOMContentLoaded", function () {
    // The language menu switches at once; its button stays for keyboards without JS.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

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
