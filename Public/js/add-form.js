// "Add a listen": the form that publishes an event with POST /api/events, prefilled with
// plausible values (fresh ids, genres and platforms the stream already has), checked in the
// browser as the server checks it, and showing the server's answer or the field it refused.
// The browser's constraint validation does the checking (required, maxlength, min/max, type=email,
// plus setCustomValidity for what those cannot say); its bubbles are replaced by the form's own
// messages under each field (aria-invalid, aria-describedby), a summary in the status line, and
// focus on the first field to fix. After a publish the title is emptied and the track gets a new
// id, so pressing Publish again does not send the same listen twice.
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

function fieldLabel(el) {
  return el.labels && el.labels[0] ? el.labels[0].textContent.replace(/\s*\(.*\)$/, "") : el.name;
}

// The server trims text before it checks that it is not empty.
function checkCustom(el) {
  const blank = ADD_TEXT.includes(el.name) && el.value !== "" && el.value.trim() === "";
  el.setCustomValidity(blank ? fieldLabel(el) + " must not be only spaces." : "");
}

// The message for a field the browser finds invalid, in the form's words.
function problemOf(el) {
  const v = el.validity;
  const label = fieldLabel(el);
  if (v.valid) return "";
  if (v.customError) return el.validationMessage;
  if (v.valueMissing) return label + " is required.";
  if (v.typeMismatch) return "Enter an e-mail address such as name@example.com.";
  if (v.badInput) return label + " must be a number.";
  if (v.tooLong) return label + " must be at most " + el.maxLength + " characters.";
  if (v.rangeUnderflow || v.rangeOverflow) {
    if (el.name === "listen_position" && v.rangeOverflow) return label + " must not be more than the duration (" + el.max + " s).";
    return label + " must be from " + el.min + " to " + el.max + ".";
  }
  if (v.stepMismatch) return label + " must be a whole number.";
  return el.validationMessage || label + " is not valid.";
}

function showFieldError(el, message) {
  const error = $(el.id + "-error");
  if (message) {
    el.classList.add("is-invalid");
    el.setAttribute("aria-invalid", "true");
  } else {
    el.classList.remove("is-invalid");
    el.removeAttribute("aria-invalid");
  }
  if (error.textContent !== message) error.textContent = message;
}

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
  if (p.getAttribute("aria-invalid") === "true") showFieldError(p, problemOf(p));
}

function clearAddErrors() {
  ADD_FIELDS.forEach((k) => showFieldError(addInput(k), ""));
}

// Submitting an invalid form fires "invalid" at every invalid field (and no submit): each shows
// its own message instead of the browser's bubble; once they all have, focus goes to the first.
let invalidFields = [];
function onInvalid(e) {
  e.preventDefault();
  const el = e.target;
  showFieldError(el, problemOf(el));
  if (!invalidFields.length) {
    setTimeout(() => {
      const names = invalidFields.map(fieldLabel);
      const first = invalidFields[0];
      invalidFields = [];
      setAddStatus("error", "Not published: " + (names.length === 1 ? names[0] + " needs" : names.length +
        " fields need") + " attention (" + names.join(", ") + ").");
      first.focus();
    }, 0);
  }
  invalidFields.push(el);
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
  if (open) {
    prefillAddForm();
    const empty = ADD_FIELDS.map(addInput).find((el) => !el.value);
    (empty || addInput("title")).focus();
  }
}

async function submitAddForm(e) {
  e.preventDefault();
  if ($("add-submit").disabled) return;  // a publish is under way
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
      ", offset " + receipt.offset + "). It appears in the table when it matches the filters. " +
      "Enter a title to add another.");
    // What would publish the same listen again is cleared: the title (required, so Publish now
    // asks for one) and the track's id.
    addInput("title").value = "";
    addInput("track_id").value = uuid();
    status.focus();
  } catch (err) {
    const p = err && err.problem;
    const detail = p && p.detail ? String(p.detail) : (err && err.status ? "The server answered " + err.status + "." : "Could not reach the server.");
    const field = p && typeof p.field === "string" ? p.field : "";
    if (field && ADD_FIELDS.includes(field)) {
      const el = addInput(field);
      showFieldError(el, detail);
      el.focus();
    } else {
      status.focus();
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
  $("add-form").addEventListener("invalid", onInvalid, true);  // "invalid" does not bubble
  // A click on Publish (Enter in a field makes one too) comes before the browser's check.
  $("add-submit").addEventListener("click", () => ADD_FIELDS.forEach((k) => checkCustom(addInput(k))));
  addInput("duration").addEventListener("input", syncPositionLimit);
  ADD_FIELDS.forEach((k) => {
    addInput(k).addEventListener("input", () => {
      const el = addInput(k);
      checkCustom(el);
      // A field marked invalid is checked again as it is edited: its message goes once it is
      // right (or changes to what is still wrong).
      if (el.getAttribute("aria-invalid") === "true") showFieldError(el, problemOf(el));
    });
  });
}
