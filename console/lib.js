// What every screen of the console shares: calling the API with the signed-in key,
// building elements from data (never HTML from data), formatting amounts and dates for
// the reader's locale, tables, forms that show the API's field errors where they belong,
// and the rule that a read key's write controls are disabled with a reason.

import { plural } from "./format.js";

export { date, METHODS, minorDigits, money, plural, statusName, today } from "./format.js";

export const KEY = "arvalox.key";
export const SCOPE = "arvalox.scope";
export const main = document.getElementById("main");

/** An answer of the API that is not a success, with its documented error body. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The server answered ${status}.`);
    this.status = status;
    this.body = body;
  }
}

function keyHeaders(extra = {}) {
  return { "x-arvalox-api-key": sessionStorage.getItem(KEY) || "", ...extra };
}

/** Calls the API with the signed-in key; JSON in and out. A read refused by the key's
 * rate limit waits the `Retry-After` the API gives (up to a minute, said on the page) and
 * is tried once more; a write is never repeated behind the user's back. */
export async function api(path, options = {}) {
  try {
    return await call(path, options);
  } catch (error) {
    const wait = Number(error.retryAfter);
    if (error.status !== 429 || (options.method || "GET") !== "GET" || !(wait > 0 && wait <= 60)) throw error;
    problem(`This key's rate limit is reached: trying again in ${wait} s.`);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    problem("");
    return call(path, options);
  }
}

async function call(path, { method = "GET", body, idempotencyKey } = {}) {
  const headers = keyHeaders();
  if (body !== undefined) headers["content-type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    error.retryAfter = response.headers.get("retry-after");
    throw error;
  }
  return parsed;
}

/** Fetches a file (a PDF, a CSV) with the key in a header and hands it to the browser. */
export async function download(path, fallbackName) {
  const response = await fetch(path, { headers: keyHeaders() });
  if (!response.ok) {
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch { body = null; }
    throw new ApiError(response.status, body);
  }
  const disposition = response.headers.get("content-disposition") || "";
  const named = /filename="?([^";]+)"?/.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: named ? named[1] : fallbackName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A fresh `Idempotency-Key`: one per form, so a double click records once. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// ---------------------------------------------------------------------------------------
// Elements.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAll(node, attributes);
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAll(node, attributes);
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function setAll(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value" && "value" in node) node.value = value ?? "";
    else if (name === "checked" || name === "disabled") node[name] = Boolean(value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
}

/** A link to a screen of the console. */
export function link(href, text) {
  return el("a", { href }, text);
}

// ---------------------------------------------------------------------------------------
// Tables.

/** A table of figures, in a region that scrolls sideways on a narrow screen. */
export function table(caption, headings, rows, numeric = []) {
  return el("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" }, el(
    "table",
    {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, headings.map((h, i) =>
      el("th", { scope: "col", class: numeric.includes(i) ? "amount" : null }, h)))),
    el("tbody", {}, rows.map((cells) =>
      el("tr", {}, cells.map((c, i) => el("td", { class: numeric.includes(i) ? "amount" : null }, c))))),
  ));
}

/** What each colour of a chart stands for. */
export function legend(names) {
  return el("p", { class: "legend", "aria-hidden": "true" }, names.map((name, i) =>
    el("span", {}, el("span", { class: i ? "swatch second" : "swatch" }), name)));
}

// ---------------------------------------------------------------------------------------
// Writing: a read key's controls are disabled, with the reason beside them.

export const READ_ONLY_REASON = "Your key is read-only: ask for a write key to make changes.";

export function canWrite() {
  return sessionStorage.getItem(SCOPE) !== "read";
}

/** A button that changes something: disabled, saying why, for a read key. What the API
 * refuses is shown in the page's alert, above its content. */
export function writeButton(label, onclick, attributes = {}) {
  if (!canWrite()) {
    return el("button", { type: "button", ...attributes, disabled: true, title: READ_ONLY_REASON }, label);
  }
  return actionButton(label, onclick, attributes);
}

/** A button whose action may fail: one run at a time, a failure said in the page's alert. */
export function actionButton(label, onclick, attributes = {}) {
  const run = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    problem("");
    try {
      await onclick();
    } catch (error) {
      problem(error.message);
    } finally {
      button.disabled = false;
    }
  };
  return el("button", { type: "button", ...attributes, onclick: run }, label);
}

/** Says `message` in the page's alert (made at the top of the page the first time). */
export function problem(message) {
  let box = main.querySelector(":scope > .page-problem");
  if (!message) return box?.remove();
  if (!box) {
    box = el("div", { class: "error page-problem", role: "alert" });
    main.prepend(box);
  }
  box.textContent = message;
}

/** A link to a screen that changes something: a disabled button for a read key. */
export function writeLink(href, label) {
  if (canWrite()) return el("a", { href, class: "button-link" }, label);
  return el("button", { type: "button", disabled: true, title: READ_ONLY_REASON }, label);
}

/** A labelled field whose `data-field` is the API's name for it, with room for its error. */
export function field(label, name, control, hint, form = "field") {
  // `form` keeps ids unique when two forms of a page share a field name (a reason).
  const id = `${form}-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  control.id = id;
  control.name = control.name || name;
  control.dataset.field = name;
  const described = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", described);
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    control,
    hint ? el("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    el("p", { class: "field-error", id: `${id}-error` }));
}

export function input(attributes = {}) {
  return el("input", { type: "text", autocomplete: "off", ...attributes });
}

export function select(options, value, attributes = {}) {
  return el("select", attributes, options.map(([v, text]) =>
    el("option", { value: v, selected: String(v) === String(value ?? "") ? "selected" : null }, text)));
}

/**
 * A form that writes: disabled with the reason for a read key; on submit it clears old
 * errors, disables its button (one request at a time) and runs `send`; an API error is
 * shown on the fields it names and, in full, at the top of the form.
 */
export function writeForm(title, children, send, submitLabel) {
  const alert = el("div", { class: "error", role: "alert" });
  const button = el("button", {
    type: "submit", disabled: !canWrite(), title: canWrite() ? null : READ_ONLY_REASON,
  }, submitLabel);
  const fieldset = el("fieldset", { disabled: !canWrite() }, children);
  const form = el("form", { class: "card", novalidate: true, "aria-label": title },
    canWrite() ? null : el("p", { class: "notice" }, READ_ONLY_REASON),
    fieldset, el("div", { class: "actions" }, button), alert);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled || !canWrite()) return;
    clearErrors(form, alert);
    button.disabled = true;
    try {
      await send(form);
    } catch (error) {
      showErrors(form, alert, error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function clearErrors(form, alert) {
  alert.replaceChildren();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
}

/** The API's error on the fields it names; the rest (and a summary) at the top. */
export function showErrors(form, alert, error) {
  const fields = (error.body && error.body.field_errors) || {};
  const elsewhere = [];
  for (const [name, messages] of Object.entries(fields)) {
    const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      document.getElementById(`${control.id}-error`).textContent = messages.join(" ");
    } else {
      elsewhere.push(`${name}: ${messages.join(" ")}`);
    }
  }
  const count = Object.keys(fields).length;
  alert.replaceChildren(
    el("p", {}, count ? `${plural(count, "field needs", "fields need")} fixing. ${error.message}` : error.message),
    elsewhere.length ? el("ul", {}, elsewhere.map((m) => el("li", {}, m))) : null,
  );
  const first = form.querySelector("[aria-invalid='true']");
  if (first) first.focus();
}

/** The form's value for `name`, trimmed; `undefined` when empty. */
export function valueOf(form, name) {
  const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!control) return undefined;
  if (control.type === "checkbox") return control.checked;
  const text = control.value.trim();
  return text === "" ? undefined : text;
}

/** The hash's parameters: `#/invoices?status=overdue` → {status: "overdue"}. */
export function hashParams() {
  const query = location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

/** The query string of `params` without its empty values. */
export function query(params) {
  const kept = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
}

/** Everything of a list, page by page (the API answers at most 500 at a time). */
export async function all(path) {
  const items = [];
  const joiner = path.includes("?") ? "&" : "?";
  for (let offset = 0; ; offset += 500) {
    const page = await api(`${path}${joiner}limit=500&offset=${offset}`);
    items.push(...page.items);
    if (page.items.length < 500 || items.length >= page.total) return items;
  }
}

// ---------------------------------------------------------------------------------------
// Screens: a screen answers its children; the app shows them only if no newer screen was
// asked for meanwhile (a slow answer never paints over the page the user moved to).

let renderer = () => Promise.resolve();

/** Sets what `rerender` runs: the app's `render`. */
export function setRenderer(render) {
  renderer = render;
}

/** Shows the current screen again, from fresh answers (after a change). */
export function rerender() {
  return renderer();
}

/** Children as `replaceChildren` takes them: nested lists flattened, nothing for null. */
export function present(children) {
  return children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false);
}

/** A heading and the actions for the thing it names. */
export function header(title, ...actions) {
  return el("div", { class: "page-head" }, el("h1", {}, title), el("div", { class: "actions" }, actions));
}
