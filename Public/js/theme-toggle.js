// The light / dark theme toggle. The theme itself is applied before the page paints by the
// classic script theme.js; this wires the button, saves the choice, follows the system setting
// while nothing is saved, and recolours the charts.
import { $ } from "./dom.js";
import { themeCharts } from "./charts.js";

const THEME_KEY = "musicstream-theme";

function currentTheme() {
  return document.documentElement.getAttribute("data-theme") === "dark" ? "dark" : "light";
}

function applyTheme(theme, save) {
  document.documentElement.setAttribute("data-theme", theme);
  const btn = $("theme-toggle");
  btn.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
  btn.title = theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme";
  if (save) {
    try { window.localStorage.setItem(THEME_KEY, theme); } catch (_) { /* storage blocked */ }
  }
  themeCharts();
}

export function initTheme() {
  applyTheme(currentTheme(), false);
  $("theme-toggle").addEventListener("click", () => applyTheme(currentTheme() === "dark" ? "light" : "dark", true));
  if (window.matchMedia) {
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const follow = (e) => {
      let saved = null;
      try { saved = window.localStorage.getItem(THEME_KEY); } catch (_) { /* ignore */ }
      if (saved !== "dark" && saved !== "light") applyTheme(e.matches ? "dark" : "light", false);
    };
    if (mq.addEventListener) mq.addEventListener("change", follow);
  }
}
