// The sign-up form: suggest the web address from the business name while
// the visitor has not typed one of their own, and tie the time zone and
// currency fields to their lists of suggestions. The form works without it.
(function () {
  "use strict";

  function suggest(name) {
    var ascii = name.normalize ? name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "") : name;
    return ascii.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")
      .slice(0, 40).replace(/-+$/, "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("signup-form");
    if (!form) { return; }
    var name = form.querySelector("input[name=name]");
    var slug = form.querySelector("input[name=slug]");
    var lists = {time_zone: "time-zones", currency: "currencies"};
    Object.keys(lists).forEach(function (field) {
      var input = form.querySelector("input[name=" + field + "]");
      if (input) { input.setAttribute("list", lists[field]); }
    });
    if (!name || !slug) { return; }
    var own = slug.value !== "" && slug.value !== suggest(name.value);
    slug.addEventListener("input", function () { own = slug.value !== ""; });
    name.addEventListener("input", function () {
      if (!own) { slug.value = suggest(name.value); }
    });
  });
})();
