/* Progressive enhancement only: every page works without this script.
   - Marks the document as JS-capable.
   - On small screens, opens and closes the main navigation behind its "Menu" button. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  // The menu's first state comes from CSS ((scripting: enabled) on small screens: collapsed), so the page
  // never shifts when this script starts; the script only opens and closes it.
  function initMenu() {
    var nav = document.querySelector("[data-main-nav]");
    if (!nav) return;
    var toggle = nav.querySelector("[data-main-nav-toggle]");
    var list = document.getElementById(toggle && toggle.getAttribute("aria-controls"));
    if (!toggle || !list) return;
    var narrow = window.matchMedia("(max-width: 47.99em)");

    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      list.classList.toggle("is-open", open);
    }
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initMenu);
  } else {
    initMenu();
  }
})();
