// "Add a listen": the form that publishes an event with POST /api/events, prefilled with
// plausible values (fresh ids, genres and platforms the stream already has), checked in the
// browser as the server checks it, and showing the server's answer or the field it refused.
import { state } from "./state.js";
import { $, fillDatalist } from "./dom.js";
import { failure } from "./api.js";

const ADD_TEXT = ["title", "artist", "genre", "platform", "mood", "city", "country", "username", "email", "user_id", "track_id"];
const ADD_NUMBERS = ["duration", "listen_position", "rating"];
const ADD_FIELDS = ADD_TEXT.concat(ADD_NUMBERS);

function uuid() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

function addInput(name) { return $("add-" + name); }

// The form's suggestions: genres, platforms and moods seen so far, the current top artists and countries.
export function fillAddDatalists(facets) {
  ["genre", "platform", "mood"].forEach((k) => {
    const known = state.knownFacetValues[k];
    const entries = known ? Array.from(known.keys()).map((value) => ({ value })) : [];
    fillDatalist($("add-" + k + "-options"), entries);
  });
  ["artist", "country"].forEach((k) => {
    fillDatalist($("add-" + k + "-options"), Array.isArray(facets[k]) ? facets[k] : []);
  });
}

function firstKnown(key, fallback) {
  const known = state.knownFacetValues[key];
  const first = known && Array.from(known.keys())[0];
  return first || fallback;
}

function prefillAddForm() {
  const defaults = {
    username: "dashboard.user", email: "dashboard.user@example.com",
    genre: firstKnown("genre", "Pop"), platform: firstKnown("platform", "Spotify"), mood: firstKnown("mood", "Happy"),
    city: "Berlin", country: "Germany", duration: "200", listen_position: "120", rating: "4",
  };
  Object.keys(defaults).forEach((k) => { if (!addInput(k).value) addInput(k).value = defaults[k]; });
  newAddIds();
  syncPositionLimit();
}

function newAddIds() {
  addInput("user_id").value = uuid();
  addInput("track_id").value = uuid();
}

// Mirrors the server rule listen_position <= duration in the browser.
function syncPositionLimit() {
  const d = addInput("duration");
  const p = addInput("listen_position");
  const dv = Number(d.value);
  p.max = d.value !== "" && Number.isInteger(dv) && dv >= 1 && dv <= 86400 ? String(dv) : "86400";
}

function clearAddErrors() {
  ADD_FIELDS.forEach((k) => {
    const el = addInput(k);
    el.classList.remove("is-invalid");
    el.removeAttribute("aria-invalid");
    $("add-" + k + "-error").textContent = "";
  });
}

function setAddStatus(kind, message) {
  const el = $("add-status");
  el.dataset.state = kind;
  el.textContent = message;
}

function toggleAddPanel(open) {
  const panel = $("add-panel");
  const btn = $("add-toggle");
  panel.hidden = !open;
  btn.setAttribute("aria-expanded", open ? "true" : "false");
  btn.textContent = open ? "Hide form" : "Add a listen…";
  if (open) {
    prefillAddForm();
    const empty = ADD_FIELDS.map(addInput).find((el) => !el.value);
    (empty || addInput("title")).focus();
  }
}

async function submitAddForm(e) {
  e.preventDefault();
  clearAddErrors();
  const body = {};
  ADD_TEXT.forEach((k) => { body[k] = addInput(k).value; });
  ADD_NUMBERS.forEach((k) => {
    const raw = addInput(k).value;
    const n = Number(raw);
    body[k] = raw === "" ? null : (Number.isFinite(n) ? n : raw);
  });
  const submit = $("add-submit");
  submit.disabled = true;
  setAddStatus("busy", "Publishing…");
  const status = $("add-status");
  delete status.dataset.eventId;
  try {
    const res = await fetch("/api/events", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    if (res.status !== 202 && !res.ok) throw await failure(res);
    const receipt = await res.json();
    status.dataset.eventId = String(receipt.event_id);
    setAddStatus("ok", "Published " + receipt.event_id + " (partition " + receipt.partition +
      ", offset " + receipt.offset + "). It appears in the table when it matches the filters.");
  } catch (err) {
    const p = err && err.problem;
    const detail = p && p.detail ? String(p.detail) : (err && err.status ? "The server answered " + err.status + "." : "Could not reach the server.");
    const field = p && typeof p.field === "string" ? p.field : "";
    if (field && ADD_FIELDS.includes(field)) {
      const el = addInput(field);
      el.classList.add("is-invalid");
      el.setAttribute("aria-invalid", "true");
      $("add-" + field + "-error").textContent = detail;
      el.focus();
    }
    setAddStatus("error", "Not published: " + detail);
  } finally {
    submit.disabled = false;
  }
}

export function initAddForm() {
  $("add-toggle").addEventListener("click", () => toggleAddPanel($("add-panel").hidden));
  $("add-cancel").addEventListener("click", () => { toggleAddPanel(false); $("add-toggle").focus(); });
  $("add-random").addEventListener("click", newAddIds);
  $("add-form").addEventListener("submit", submitAddForm);
  addInput("duration").addEventListener("input", syncPositionLimit);
  ADD_FIELDS.forEach((k) => {
    addInput(k).addEventListener("input", () => {
      const el = addInput(k);
      if (el.classList.contains("is-invalid")) {
        el.classList.remove("is-invalid");
        el.removeAttribute("aria-invalid");
        $("add-" + k + "-error").textContent = "";
      }
    });
  });
}
