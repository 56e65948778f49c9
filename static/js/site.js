/* Passerelles — small enhancements. Everything works without this file:
   the navigation stays visible and the user menu is a native <details> element. */
(function () {
  "use strict";

  var narrow = window.matchMedia("(max-width: 40rem)");

  function setupNavigation() {
    var toggle = document.querySelector(".main-nav__toggle");
    var list = document.getElementById("menu-principal");
    if (!toggle || !list) {
      return;
    }

    function apply() {
      if (narrow.matches) {
        toggle.hidden = false;
        var open = toggle.getAttribute("aria-expanded") === "true";
        list.classList.toggle("is-collapsed", !open);
      } else {
        toggle.hidden = true;
        list.classList.remove("is-collapsed");
      }
    }

    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      apply();
    });
    if (narrow.addEventListener) {
      narrow.addEventListener("change", apply);
    }
    apply();
  }

  function setupUserMenu() {
    var menu = document.querySelector(".user-menu");
    if (!menu) {
      return;
    }
    // Close the account menu with Escape or a click elsewhere, as people expect from a menu.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setupNavigation();
      setupUserMenu();
    });
  } else {
    setupNavigation();
    setupUserMenu();
  }
})();
