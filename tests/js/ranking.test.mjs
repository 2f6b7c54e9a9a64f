// static/js/ranking.js on a page shaped like templates/consultation/participation/ranking.html:
// `node --test tests/js/` (no dependency). The script runs unchanged against a small DOM
// written here (only what it touches), then the test presses its buttons the way a
// keyboard does (Enter or Space on a focused <button> is a click), drags a row with
// pointer events (mouse, touch and pen alike), and reads the form it would submit.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

const SOURCE = readFileSync(new URL("../../static/js/ranking.js", import.meta.url), "utf8");
const ROW_HEIGHT = 50;

// --- A small DOM -----------------------------------------------------------------------

function matches(element, selector) {
  if (!element.tagName) {
    return false;
  }
  let match = /^\[([\w-]+)(?:='([^']*)')?\]$/.exec(selector);
  if (match) {
    const value = element.getAttribute(match[1]);
    return match[2] === undefined ? value !== null : value === match[2];
  }
  match = /^\.([\w-]+)$/.exec(selector);
  if (match) {
    return element.classList.contains(match[1]);
  }
  if (/^[a-z]+$/.test(selector)) {
    return element.tagName === selector.toUpperCase();
  }
  throw new Error(`selector not supported here: ${selector}`);
}

class Node {
  constructor(document) {
    this.ownerDocument = document;
    this.parentNode = null;
    this.childNodes = [];
  }

  get firstChild() {
    return this.childNodes[0] || null;
  }

  get nextSibling() {
    if (!this.parentNode) {
      return null;
    }
    const siblings = this.parentNode.childNodes;
    return siblings[siblings.indexOf(this) + 1] || null;
  }

  get textContent() {
    return this.childNodes.map((child) => child.textContent).join("");
  }

  set textContent(text) {
    this.childNodes = [];
    this.appendChild(this.ownerDocument.createTextNode(String(text)));
  }

  insertBefore(node, reference) {
    if (node.parentNode) {
      node.parentNode.childNodes.splice(node.parentNode.childNodes.indexOf(node), 1);
    }
    const index = reference ? this.childNodes.indexOf(reference) : this.childNodes.length;
    this.childNodes.splice(index, 0, node);
    node.parentNode = this;
    return node;
  }

  appendChild(node) {
    return this.insertBefore(node, null);
  }

  *descendants() {
    for (const child of this.childNodes) {
      if (child.tagName) {
        yield child;
        yield* child.descendants();
      }
    }
  }

  querySelectorAll(selector) {
    return [...this.descendants()].filter((element) => matches(element, selector));
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
}

class Text extends Node {
  constructor(document, text) {
    super(document);
    this.text = text;
  }

  get textContent() {
    return this.text;
  }
}

class Element extends Node {
  constructor(document, tag) {
    super(document);
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.listeners = {};
    this.value = "";
    const element = this;
    this.classList = {
      names: () => (element.getAttribute("class") || "").split(/\s+/).filter(Boolean),
      contains: (name) => element.classList.names().includes(name),
      add: (name) => element.setAttribute("class", [...new Set([...element.classList.names(), name])].join(" ")),
      remove: (name) => element.setAttribute("class", element.classList.names().filter((n) => n !== name).join(" ")),
    };
  }

  // Reflected, as in browsers: `button.type = "button"` is the attribute.
  get type() {
    return this.getAttribute("type");
  }

  set type(value) {
    this.setAttribute("type", value);
  }

  get className() {
    return this.getAttribute("class") || "";
  }

  set className(value) {
    this.setAttribute("class", value);
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  closest(selector) {
    for (let node = this; node && node.tagName; node = node.parentNode) {
      if (matches(node, selector)) {
        return node;
      }
    }
    return null;
  }

  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }

  focus() {
    this.ownerDocument.activeElement = this;
  }

  setPointerCapture() {}

  getBoundingClientRect() {
    const row = this.closest(".ranking-row");
    const index = row.parentNode.childNodes.indexOf(row);
    return { top: index * ROW_HEIGHT, height: ROW_HEIGHT };
  }
}

class Document extends Node {
  constructor() {
    super(null);
    this.ownerDocument = this;
    this.activeElement = null;
  }

  createElement(tag) {
    return new Element(this, tag);
  }

  createTextNode(text) {
    return new Text(this, text);
  }

  // The label of the row under a point: rows are stacked ROW_HEIGHT apart.
  elementFromPoint(_x, y) {
    const rows = this.querySelector("[data-ranking]").childNodes;
    const row = rows[Math.floor(y / ROW_HEIGHT)];
    return row ? row.querySelector("label") : null;
  }
}

function dispatch(target, type, fields = {}) {
  const event = { type, target, button: 0, pointerId: 1, preventDefault() {}, ...fields };
  for (let node = target; node; node = node.parentNode) {
    for (const listener of (node.listeners && node.listeners[type]) || []) {
      listener(event);
    }
  }
}

// --- The ranking page ------------------------------------------------------------------

function element(document, tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  for (const child of children) {
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** The page as the server renders it: `ranks` maps item ids to the rank already chosen. */
function page(titles, { size = 3, ranks = {} } = {}) {
  const document = new Document();
  const list = element(document, "ol", {
    class: "ranking-list",
    "data-ranking": "",
    "data-size": String(size),
    "data-label-up": "Move up",
    "data-label-down": "Move down",
    "data-label-handle": "Drag to reorder",
    "data-msg-rank": "%(title)s: rank %(rank)s.",
    "data-msg-unranked": "%(title)s: not ranked.",
  });
  titles.forEach((title, index) => {
    const id = String(index + 1);
    const select = element(document, "select", { name: `rank_${id}`, id: `ranking_rank_${id}` });
    select.value = ranks[id] ? String(ranks[id]) : "";
    const label = element(document, "label", { for: `ranking_rank_${id}` }, [title]);
    const field = element(document, "div", { class: "field" }, [label, select]);
    list.appendChild(element(document, "li", { class: "ranking-row", "data-item-id": id }, [field]));
  });
  const status = element(document, "p", { class: "visually-hidden", "aria-live": "polite", "data-ranking-status": "" });
  const form = element(document, "form", { method: "post", class: "ranking-form" }, [list, status]);
  document.appendChild(element(document, "html", {}, [element(document, "body", {}, [form])]));
  vm.runInNewContext(SOURCE, { document });
  return { document, list, status };
}

function order({ list }) {
  return list.childNodes.map((row) => row.querySelector("label").textContent);
}

/** What submitting the form sends: every select, in page order. */
function submitted({ document }) {
  return Object.fromEntries(document.querySelectorAll("select").map((s) => [s.getAttribute("name"), s.value]));
}

function rowOf(view, title) {
  return view.list.childNodes.find((row) => row.querySelector("label").textContent === title);
}

function buttonOf(view, title, direction) {
  return rowOf(view, title).querySelector(`[data-move='${direction}']`);
}

/** A keyboard user presses Enter on the focused button. */
function press(view, title, direction) {
  const button = buttonOf(view, title, direction);
  button.focus();
  dispatch(button, "click");
}

/** A rank chosen in a row's select (the select fires "change"). */
function choose(view, title, value) {
  const select = rowOf(view, title).querySelector("select");
  select.focus();
  select.value = value;
  dispatch(select, "change");
}

// --- The tests -------------------------------------------------------------------------

test("every row gets labelled move buttons and the rows follow the server's ranks", () => {
  const view = page(["Vélos", "Cantines", "Écoles", "Forêts"], { ranks: { 3: 1, 1: 2 } });
  assert.deepEqual(order(view), ["Écoles", "Vélos", "Cantines", "Forêts"]);
  assert.deepEqual(submitted(view), { rank_3: "1", rank_1: "2", rank_2: "", rank_4: "" });
  const up = buttonOf(view, "Cantines", -1);
  assert.equal(up.tagName, "BUTTON");
  assert.equal(up.getAttribute("type"), "button"); // never submits the form by itself
  assert.equal(up.textContent, "↑ Move up: Cantines");
  assert.equal(up.querySelector(".visually-hidden").textContent, ": Cantines");
  assert.equal(buttonOf(view, "Écoles", -1).getAttribute("aria-disabled"), "true"); // first
  assert.equal(buttonOf(view, "Cantines", 1).getAttribute("aria-disabled"), "true"); // unranked
  assert.equal(buttonOf(view, "Vélos", 1).getAttribute("aria-disabled"), "false");
  assert.ok(view.list.classList.contains("is-enhanced"));
});

test("moving up with the keyboard ranks an item, reorders, announces and keeps the focus", () => {
  const view = page(["Vélos", "Cantines", "Écoles"]);
  assert.deepEqual(submitted(view), { rank_1: "", rank_2: "", rank_3: "" });

  press(view, "Écoles", -1); // into the ranking, at its end: first
  assert.deepEqual(order(view), ["Écoles", "Vélos", "Cantines"]);
  assert.deepEqual(submitted(view), { rank_3: "1", rank_1: "", rank_2: "" });
  assert.equal(view.status.textContent, "Écoles: rank 1.");
  // Its "move up" can no longer act (first row): the focus goes to "move down", same row.
  assert.equal(view.document.activeElement, buttonOf(view, "Écoles", 1));

  press(view, "Cantines", -1); // into the ranking after Écoles
  press(view, "Cantines", -1); // then above it
  assert.deepEqual(order(view), ["Cantines", "Écoles", "Vélos"]);
  assert.deepEqual(submitted(view), { rank_2: "1", rank_3: "2", rank_1: "" });
  assert.equal(view.status.textContent, "Cantines: rank 1.");
  assert.equal(view.document.activeElement, buttonOf(view, "Cantines", 1));
});

test("moving the last ranked item down takes it out of the ranking", () => {
  const view = page(["Vélos", "Cantines", "Écoles"], { ranks: { 1: 1, 2: 2 } });
  press(view, "Vélos", 1);
  assert.deepEqual(order(view), ["Cantines", "Vélos", "Écoles"]);
  assert.deepEqual(submitted(view), { rank_2: "1", rank_1: "2", rank_3: "" });
  assert.equal(view.document.activeElement, buttonOf(view, "Vélos", 1));
  press(view, "Vélos", 1); // last ranked: out
  assert.deepEqual(submitted(view), { rank_2: "1", rank_1: "", rank_3: "" });
  assert.equal(view.status.textContent, "Vélos: not ranked.");
  // Nothing left to do downwards: the focus moves to "move up" on the same row.
  assert.equal(buttonOf(view, "Vélos", 1).getAttribute("aria-disabled"), "true");
  assert.equal(view.document.activeElement, buttonOf(view, "Vélos", -1));
});

test("a full ranking never holds more than K: an item moved in takes the last place", () => {
  const view = page(["A", "B", "C", "D"], { size: 2, ranks: { 1: 1, 2: 2 } });
  press(view, "D", -1);
  assert.deepEqual(order(view), ["A", "D", "B", "C"]);
  assert.deepEqual(submitted(view), { rank_1: "1", rank_4: "2", rank_2: "", rank_3: "" });
  const ranked = Object.values(submitted(view)).filter(Boolean);
  assert.equal(ranked.length, 2);
});

test("a disabled button does nothing", () => {
  const view = page(["A", "B"], { ranks: { 1: 1 } });
  press(view, "A", -1); // already first
  assert.deepEqual(submitted(view), { rank_1: "1", rank_2: "" });
  assert.equal(view.status.textContent, "");
});

test("gaps and duplicate ranks from the selects close up into one order", () => {
  const view = page(["A", "B", "C"], { ranks: { 1: 3, 2: 1 } });
  assert.deepEqual(submitted(view), { rank_2: "1", rank_1: "2", rank_3: "" });
  // Choosing rank 1 in a select puts the row first and renumbers the others at once:
  // no two rows ever show the same rank.
  choose(view, "C", "1");
  assert.deepEqual(order(view), ["C", "B", "A"]);
  assert.deepEqual(submitted(view), { rank_3: "1", rank_2: "2", rank_1: "3" });
  assert.equal(view.status.textContent, "C: rank 1.");
  assert.equal(view.document.activeElement, rowOf(view, "C").querySelector("select"));
  press(view, "A", -1);
  assert.deepEqual(order(view), ["C", "A", "B"]);
  assert.deepEqual(submitted(view), { rank_3: "1", rank_1: "2", rank_2: "3" });
});

test("a rank chosen in a full ranking pushes the last one out; “not ranked” takes a row out", () => {
  const view = page(["A", "B", "C", "D"], { size: 2, ranks: { 1: 1, 2: 2 } });
  choose(view, "D", "1");
  assert.deepEqual(submitted(view), { rank_4: "1", rank_1: "2", rank_2: "", rank_3: "" });
  choose(view, "D", "");
  assert.deepEqual(submitted(view), { rank_1: "1", rank_4: "", rank_2: "", rank_3: "" });
  assert.equal(view.status.textContent, "D: not ranked.");
});

test("the first row, unranked, can be ranked with its move-up button, and come back after leaving", () => {
  const view = page(["A", "B", "C"]);
  assert.equal(buttonOf(view, "A", -1).getAttribute("aria-disabled"), "false");
  press(view, "A", -1);
  assert.deepEqual(submitted(view), { rank_1: "1", rank_2: "", rank_3: "" });
  press(view, "A", 1); // out of the ranking, still first
  assert.deepEqual(submitted(view), { rank_1: "", rank_2: "", rank_3: "" });
  assert.equal(buttonOf(view, "A", -1).getAttribute("aria-disabled"), "false");
  press(view, "A", -1); // not stuck: ranked again
  assert.deepEqual(submitted(view), { rank_1: "1", rank_2: "", rank_3: "" });
  assert.equal(buttonOf(view, "A", -1).getAttribute("aria-disabled"), "true");
});

test("dragging a row by its handle (mouse, touch or pen) reorders and ranks it", () => {
  const view = page(["A", "B", "C", "D"], { ranks: { 1: 1, 2: 2 } });
  const handle = rowOf(view, "D").querySelector(".drag-handle");
  assert.equal(handle.getAttribute("aria-hidden"), "true"); // buttons are the accessible way
  dispatch(handle, "pointerdown", { pointerType: "touch" });
  dispatch(handle, "pointermove", { clientX: 10, clientY: 10 }); // over A's top half
  dispatch(handle, "pointerup");
  assert.deepEqual(order(view), ["D", "A", "B", "C"]);
  assert.deepEqual(submitted(view), { rank_4: "1", rank_1: "2", rank_2: "3", rank_3: "" });
  assert.equal(view.status.textContent, "D: rank 1.");
  assert.ok(!rowOf(view, "D").classList.contains("is-dragging"));
});

test("a right click on the handle starts no drag", () => {
  const view = page(["A", "B"], { ranks: { 1: 1 } });
  const handle = rowOf(view, "B").querySelector(".drag-handle");
  dispatch(handle, "pointerdown", { pointerType: "mouse", button: 2 });
  dispatch(handle, "pointermove", { clientX: 10, clientY: 10 });
  dispatch(handle, "pointerup");
  assert.deepEqual(order(view), ["A", "B"]);
  assert.deepEqual(submitted(view), { rank_1: "1", rank_2: "" });
});
