// The Arvalox console. Every figure on it comes from the public /v1 API, as the API
// gives it: amounts stay the API's decimal strings and are only formatted here, never
// added up with floats. The key lives in this tab's session storage, nowhere else.
// This file signs in and out and picks the screen for the address.

import { api, el, KEY, main, present, SCOPE, setRenderer } from "./lib.js";
import { dashboard } from "./dashboard.js";
import { customerForm, customerList, customerPage } from "./customers.js";
import { invoiceForm, invoiceList, invoicePage } from "./invoices.js";
import { creditNoteForm, creditPage, paymentForm } from "./payments.js";
import { aging } from "./reports.js";

function signIn(message) {
  document.getElementById("bar").hidden = true;
  main.removeAttribute("aria-busy");
  const error = el("p", { class: "error", role: "alert", id: "sign-in-error" }, message || "");
  const input = el("input", {
    id: "key", name: "key", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "key-hint sign-in-error", spellcheck: "false",
  });
  const form = el(
    "form",
    { class: "card sign-in", onsubmit: (event) => { event.preventDefault(); start(input.value.trim()); } },
    el("h1", {}, "Sign in to Arvalox"),
    el("label", { for: "key" }, "API key"),
    input,
    el("p", { class: "hint", id: "key-hint" },
      "The key `arvalox serve` printed on its first start, or one made with `arvalox keys create`. It is kept in this tab only and forgotten when you sign out or close it."),
    el("button", { type: "submit" }, "Sign in"),
    error,
  );
  main.replaceChildren(form);
  input.focus();
}

async function start(key) {
  sessionStorage.setItem(KEY, key);
  try {
    const ping = await api("/v1/ping");
    sessionStorage.setItem(SCOPE, ping.scope);
    // A new address renders through `hashchange`; the same one is rendered here.
    if (location.hash === "#/dashboard") await render();
    else location.hash = "#/dashboard";
  } catch (error) {
    sessionStorage.clear();
    signIn(error.status === 401 ? "That key is not valid, or it has been revoked." : error.message);
  }
}

function signOut() {
  sessionStorage.clear();
  location.hash = "";
  signIn();
}

/** [pattern of the address's path, screen given the path's numbers]. */
const SCREENS = [
  [/^#\/dashboard$/, dashboard],
  [/^#\/customers$/, customerList],
  [/^#\/customers\/new$/, () => customerForm(null)],
  [/^#\/customers\/(\d+)$/, customerPage],
  [/^#\/customers\/(\d+)\/edit$/, customerForm],
  [/^#\/invoices$/, invoiceList],
  [/^#\/invoices\/new$/, () => invoiceForm(null)],
  [/^#\/invoices\/(\d+)$/, invoicePage],
  [/^#\/invoices\/(\d+)\/edit$/, invoiceForm],
  [/^#\/payments\/new$/, paymentForm],
  [/^#\/payments\/(\d+)$/, (id) => creditPage("payments", id)],
  [/^#\/credit-notes\/new$/, creditNoteForm],
  [/^#\/credit-notes\/(\d+)$/, (id) => creditPage("credit-notes", id)],
  [/^#\/aging$/, aging],
];

function screenFor(hash) {
  const path = hash.split("?")[0];
  for (const [pattern, screen] of SCREENS) {
    const found = pattern.exec(path);
    if (found) return () => screen(...found.slice(1));
  }
  return dashboard;
}

/** Marks the bar's link to the screen shown as the current page. */
function markCurrent() {
  const section = location.hash.split(/[/?]/)[1] || "dashboard";
  for (const a of document.querySelectorAll("#bar nav a")) {
    if (a.getAttribute("href") === `#/${section}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function render() {
  if (!sessionStorage.getItem(KEY)) return signIn();
  const scope = sessionStorage.getItem(SCOPE);
  document.getElementById("bar").hidden = false;
  document.getElementById("who").textContent =
    scope === "read" ? "Read-only key: changes are disabled" : `Signed in (${scope} key)`;
  document.body.dataset.scope = scope;
  markCurrent();
  const mine = ++renders;
  main.setAttribute("aria-busy", "true");
  let children;
  try {
    children = await screenFor(location.hash)();
  } catch (error) {
    if (error.status === 401) return signIn("The key is no longer valid: sign in again.");
    children = [el("p", { class: "error", role: "alert" }, error.message)];
  }
  if (mine !== renders) return; // the user has moved on: a newer screen paints
  main.replaceChildren(...present(children));
  main.removeAttribute("aria-busy");
  main.focus();
}

/** How many screens were asked for: only the latest one paints. */
let renders = 0;

setRenderer(render);

document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", render);
render();
