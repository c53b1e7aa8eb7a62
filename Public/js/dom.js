// The page's fixed elements, looked up once, and small DOM builders shared by several modules.
// Event data only ever reaches the DOM through textContent, createTextNode or setAttribute,
// never innerHTML.
import { TEXT_KEYS, MULTI_KEYS, CHOICE_KEYS } from "./state.js";

export const $ = (id) => document.getElementById(id);

export const form = $("filters");
export const rowsEl = $("rows");
export const emptyEl = $("empty");

// The filter form's single-value controls, by filter key (plus the time range's three).
export const fields = {};
TEXT_KEYS.concat(CHOICE_KEYS).forEach((k) => { fields[k] = $("f-" + k); });
fields.range = $("f-range");
fields.since = $("f-since");
fields.until = $("f-until");

// The multi-value pickers' parts, by facet.
export const multis = {};
MULTI_KEYS.forEach((k) => {
  const details = $("f-" + k);
  multis[k] = {
    details,
    list: details.querySelector(".app-multi-options"),
    value: $("f-" + k + "-value"),
    clear: details.querySelector(".app-multi-clear"),
    any: details.dataset.any,
  };
});

export function span(className, content) {
  const s = document.createElement("span");
  if (className) s.className = className;
  if (content != null) s.textContent = content;
  return s;
}

// Replaces a <datalist>'s options with the first 50 values, unless they are the same already.
export function fillDatalist(list, entries) {
  const values = entries.slice(0, 50).map((e) => String(e.value));
  const signature = values.join("\u0001");
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  const frag = document.createDocumentFragment();
  values.forEach((v) => {
    const opt = document.createElement("option");
    opt.value = v;
    frag.appendChild(opt);
  });
  list.textContent = "";
  list.appendChild(frag);
}
