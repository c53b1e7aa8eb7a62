// Applies the saved (or system) colour theme before the page paints, so there
// is no flash of the wrong theme. js/theme-toggle.js wires the toggle button.
"use strict";
(function () {
  var theme = null;
  try { theme = window.localStorage.getItem("musicstream-theme"); } catch (_) { /* storage blocked */ }
  if (theme !== "dark" && theme !== "light") {
    theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.setAttribute("data-theme", theme);
})();
