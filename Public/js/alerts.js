// Notifications: the alert stack at the bottom of the page (deduplicated, at most three), and
// turning a failed request into one, marking the filter control the server refused.
import { $, form, fields, multis } from "./dom.js";
import { text } from "./format.js";

export function showAlert(title, detail, key) {
  const box = $("alerts");
  const dedupe = key || (title + "|" + detail);
  const existing = Array.from(box.children).find((a) => a.dataset.key === dedupe);
  if (existing) return;
  const node = $("alert-template").content.firstElementChild.cloneNode(true);
  node.dataset.key = dedupe;
  node.querySelector(".app-alert-title").textContent = title;
  node.querySelector(".app-alert-detail").textContent = detail ? " " + detail : "";
  node.querySelector(".app-alert-close").addEventListener("click", () => {
    node.remove();
  });
  box.appendChild(node);
  while (box.children.length > 3) box.firstElementChild.remove();
}

export function dismissAlert(key) {
  Array.from($("alerts").children).forEach((a) => { if (a.dataset.key === key) a.remove(); });
}

// The form control a query parameter comes from (for marking it invalid).
function controlFor(param) {
  if (fields[param]) return fields[param];
  if (multis[param]) return multis[param].details.querySelector("summary");
  if (param === "since" || param === "until") return fields.range.value === "custom" ? fields[param] : fields.range;
  return null;
}

export function clearFieldErrors() {
  // A custom range's own problem (filters.js) stays until its inputs are fixed.
  form.querySelectorAll(".is-invalid:not([data-range-invalid])").forEach((el) => {
    el.classList.remove("is-invalid");
    el.removeAttribute("aria-invalid");
  });
}

export function reportError(err, what) {
  if (err && err.name === "AbortError") return;
  const p = err && err.problem;
  if (p && typeof p === "object") {
    const control = typeof p.parameter === "string" ? controlFor(p.parameter) : null;
    if (control) {
      control.classList.add("is-invalid");
      control.setAttribute("aria-invalid", "true");
    }
    showAlert(text(p.title || "Request rejected"), p.detail ? String(p.detail) : "", "problem");
  } else if (err && err.status) {
    showAlert("Could not load " + what + ".", "The server answered " + err.status + ".", "http-" + what);
  } else {
    showAlert("Could not reach the server.", "Check your connection; retrying automatically.", "network");
  }
}
