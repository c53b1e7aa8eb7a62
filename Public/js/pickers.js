// The multi-value filters (genre, platform, mood, country): a <details> drop-down of checkboxes,
// its options kept in step with the facet counts, its summary line, and opening and closing it.
import { MULTI_KEYS, state } from "./state.js";
import { multis, span } from "./dom.js";
import { numberFmt } from "./format.js";

function optionInputs(key) {
  return Array.from(multis[key].list.querySelectorAll("input[type=checkbox]"));
}

// The values ticked in a picker, in list order.
export function multiValues(key) {
  return optionInputs(key).filter((i) => i.checked).map((i) => i.value);
}

function findOption(key, value) {
  const lower = value.toLowerCase();
  return optionInputs(key).find((i) => i.value.toLowerCase() === lower) || null;
}

function makeOption(key, value) {
  const label = document.createElement("label");
  label.className = "app-multi-option";
  const input = document.createElement("input");
  input.type = "checkbox";
  input.name = key;
  input.value = value;
  label.append(input, span("app-multi-name", value), span("app-multi-count", ""));
  return label;
}

// Ticks exactly `values` (adding options the list does not have yet).
export function setMulti(key, values) {
  optionInputs(key).forEach((i) => { i.checked = false; });
  values.forEach((v) => {
    let input = findOption(key, v);
    if (!input) {
      const label = makeOption(key, v);
      multis[key].list.appendChild(label);
      input = label.querySelector("input");
    }
    input.checked = true;
  });
  renderMultiSummary(key);
}

export function byText(a, b) {
  return a.localeCompare(b, undefined, { sensitivity: "base" });
}

function renderMultiSummary(key) {
  const m = multis[key];
  const values = multiValues(key).sort(byText);
  const label = values.length === 0 ? m.any
    : values.length <= 2 ? values.join(", ")
      : values[0] + " +" + (values.length - 1) + " more";
  if (m.value.textContent !== label) m.value.textContent = label;
  m.details.classList.toggle("is-active", values.length > 0);
  m.clear.disabled = values.length === 0;
}

// Options = values in the latest facets (with counts) plus values seen before (shown without
// a count, so one can still pick them) plus the chosen ones. Existing elements are kept, so
// focus and checks survive; while the list is open it is not reordered under the pointer.
// `entries` null: keep the counts, just put the options in order.
export function fillMulti(key, entries) {
  const known = state.knownFacetValues[key] || (state.knownFacetValues[key] = new Map());
  if (entries) {
    known.forEach((_, v) => known.set(v, null));
    entries.forEach((e) => {
      if (e && e.value != null && e.value !== "") known.set(String(e.value), Number(e.count) || 0);
    });
  }
  const m = multis[key];
  const open = m.details.open;
  const byLower = new Map(Array.from(m.list.children).map((label) => [label.querySelector("input").value.toLowerCase(), label]));
  const sorted = Array.from(known.entries()).sort((a, b) =>
    ((b[1] == null ? -1 : b[1]) - (a[1] == null ? -1 : a[1])) || a[0].localeCompare(b[0]));
  sorted.forEach(([value, count], i) => {
    const lower = value.toLowerCase();
    let label = byLower.get(lower);
    if (label) {
      byLower.delete(lower);
      const input = label.querySelector("input");
      // The URL may say genre=pop while the data says "Pop" (matching is case-insensitive).
      if (input.value !== value) {
        input.value = value;
        label.querySelector(".app-multi-name").textContent = value;
      }
    } else {
      label = makeOption(key, value);
      if (open) m.list.appendChild(label);
    }
    const countText = count == null ? "" : numberFmt.format(count);
    const countEl = label.querySelector(".app-multi-count");
    if (countEl.textContent !== countText) countEl.textContent = countText;
    label.classList.toggle("is-zero", !count);
    if (!open && m.list.children[i] !== label) m.list.insertBefore(label, m.list.children[i] || null);
  });
  // Chosen values the data does not have (any more) stay listed.
  byLower.forEach((label) => {
    if (label.querySelector("input").checked) {
      const countEl = label.querySelector(".app-multi-count");
      if (countEl.textContent !== "0") countEl.textContent = "0";
      label.classList.add("is-zero");
      m.list.appendChild(label);
    } else {
      label.remove();
    }
  });
  renderMultiSummary(key);
}

function closeMulti(key, focusSummary) {
  const m = multis[key];
  if (!m.details.open) return;
  m.details.open = false;
  if (focusSummary) m.details.querySelector("summary").focus();
}

// Wires the pickers; `onChange` applies the filters at once (a tick, or "Any …").
export function initMultis(onChange) {
  MULTI_KEYS.forEach((key) => {
    const m = multis[key];
    m.list.addEventListener("change", () => {
      renderMultiSummary(key);
      onChange();
    });
    m.clear.addEventListener("click", () => {
      optionInputs(key).forEach((i) => { i.checked = false; });
      renderMultiSummary(key);
      onChange();
      closeMulti(key, true);
    });
    m.details.addEventListener("toggle", () => {
      if (!m.details.open) {
        fillMulti(key, null); // reorder now that it is closed
        return;
      }
      MULTI_KEYS.forEach((other) => { if (other !== key) closeMulti(other, false); });
      // Open towards the left when the list would run off the right edge (phones).
      const panel = m.details.querySelector(".app-multi-panel");
      panel.classList.remove("is-right");
      if (panel.getBoundingClientRect().right > document.documentElement.clientWidth - 8) panel.classList.add("is-right");
    });
    m.details.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && m.details.open) {
        e.preventDefault();
        closeMulti(key, true);
      }
    });
    // Leaving the list with Tab closes it.
    m.details.addEventListener("focusout", (e) => {
      if (e.relatedTarget && !m.details.contains(e.relatedTarget)) closeMulti(key, false);
    });
  });
  document.addEventListener("click", (e) => {
    MULTI_KEYS.forEach((key) => {
      if (!multis[key].details.contains(e.target)) closeMulti(key, false);
    });
  });
}
