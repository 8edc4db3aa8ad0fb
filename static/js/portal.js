/* Progressive enhancement only: every page works without this script.
   - Marks the document as JS-capable.
   - On small screens, collapses the main navigation behind a "Menu" button. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function initMenu() {
    var nav = document.querySelector("[data-main-nav]");
    if (!nav) return;
    var toggle = nav.querySelector("[data-main-nav-toggle]");
    var list = document.getElementById(toggle && toggle.getAttribute("aria-controls"));
    if (!toggle || !list) return;
    var narrow = window.matchMedia("(max-width: 47.99em)");

    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      list.classList.toggle("is-collapsed", !open);
    }
    toggle.hidden = false;
    setOpen(!narrow.matches);
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
    var onChange = function () { setOpen(!narrow.matches); };
    if (narrow.addEventListener) narrow.addEventListener("change", onChange);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initMenu);
  } else {
    initMenu();
  }
})();
