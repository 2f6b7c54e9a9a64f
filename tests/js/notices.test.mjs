// static/js/notices.js: `node --test tests/js/` (no dependency). Its pure parts, then the
// page side in a small stand-in for a browser. The stream itself and the markup the script
// reads are checked by the server's tests (tests/notices/test_live_counter.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import vm from "node:vm";

const notices = createRequire(import.meta.url)("../../static/js/notices.js");

test("only an unread-count frame of the personal stream gives a count", () => {
  assert.equal(notices.unreadOf({ type: "notices.unread", stream: "personal", unread: 3 }), 3);
  assert.equal(notices.unreadOf({ type: "notices.unread", stream: "personal", unread: 0 }), 0);
  assert.equal(notices.unreadOf({ type: "notices.unread", stream: "public", unread: 3 }), null);
  assert.equal(notices.unreadOf({ type: "participation.suspended", stream: "personal" }), null);
  assert.equal(notices.unreadOf({ type: "pong", stream: "personal" }), null);
  assert.equal(notices.unreadOf(null), null);
  assert.equal(notices.unreadOf("notices.unread"), null);
});

test("a count that is not a whole non-negative number is ignored", () => {
  for (const unread of [-1, 1.5, "3", null, undefined, NaN, Infinity]) {
    assert.equal(notices.unreadOf({ type: "notices.unread", stream: "personal", unread }), null);
  }
});

test("a higher count is shown and said, a lower one shown only, the same one neither", () => {
  assert.deepEqual(notices.change(2, 3), { redraw: true, announce: true });
  assert.deepEqual(notices.change(0, 1), { redraw: true, announce: true });
  assert.deepEqual(notices.change(3, 0), { redraw: true, announce: false });
  assert.deepEqual(notices.change(3, 3), { redraw: false, announce: false });
});

test("reconnection backs off from 1 s to a 30 s cap, jittered by half either way", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((n) => notices.backoffDelay(n, 0.5)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(notices.backoffDelay(0, 0), 500);
  assert.equal(notices.backoffDelay(20, 0.999999), 45000);
});

test("the word and the announcement follow the language's plural rules", () => {
  assert.equal(notices.plural("fr", 1, "non lue", "non lues"), "non lue");
  assert.equal(notices.plural("fr", 4, "non lue", "non lues"), "non lues");
  assert.equal(notices.plural("en", 1, "unread", "unread"), "unread");
  const one = "Nouvelle notification : 1 non lue.";
  const other = "Nouvelle notification : 2 non lues.";
  assert.equal(notices.plural("fr", 1, one, other), one);
  assert.equal(notices.plural("fr", 12, one, other), "Nouvelle notification : 12 non lues.");
  assert.equal(notices.plural("en", 12, "A new notification: 1 unread.", "A new notification: 2 unread."),
    "A new notification: 12 unread.");
});

// --- The page side, in a small stand-in for a browser (node:vm, no dependency) ---------

class FakeNode {
  constructor() { this.childNodes = []; this.attributes = {}; }
  get firstChild() { return this.childNodes[0] || null; }
  appendChild(node) { this.childNodes.push(node); return node; }
  removeChild(node) { this.childNodes.splice(this.childNodes.indexOf(node), 1); return node; }
  get textContent() { return this.childNodes.map((node) => node.textContent).join(""); }
  set textContent(text) { this.childNodes = [new FakeText(text)]; }
  getAttribute(name) { return name in this.attributes ? this.attributes[name] : null; }
  hasAttribute(name) { return name in this.attributes; }
  // Only what the script asks: "[attribute]".
  querySelector(selector) {
    const name = selector.slice(1, -1);
    for (const child of this.childNodes) {
      if (child instanceof FakeText) continue;
      if (child.hasAttribute(name)) return child;
      const found = child.querySelector(selector);
      if (found) return found;
    }
    return null;
  }
}
class FakeText extends FakeNode {
  constructor(text) { super(); this.text = String(text); }
  get textContent() { return this.text; }
}
function element(attributes = {}, ...children) {
  const node = new FakeNode();
  node.attributes = attributes;
  children.forEach((child) => node.appendChild(typeof child === "string" ? new FakeText(child) : child));
  return node;
}

function page({ unread = 0, lang = "en" } = {}) {
  const count = element({ "data-notices-count": "" });
  const link = element({
    "data-notices-url": "/ws/me/",
    "data-notices-unread": String(unread),
    "data-msg-unread-one": "unread",
    "data-msg-unread-other": "unread",
    "data-msg-new-one": "A new notification: 1 unread.",
    "data-msg-new-other": "A new notification: 2 unread.",
  }, "Notifications", count);
  const region = element({ "data-notices-announce": "", "aria-live": "polite" });
  const body = element({}, link, region);
  const sockets = [], timers = [], listeners = {};
  class FakeSocket {
    constructor(url) { this.url = url; this.handlers = {}; this.closedWith = null; sockets.push(this); }
    addEventListener(type, handler) { this.handlers[type] = handler; }
    close(code) { this.closedWith = code; }
    receive(frame) { this.handlers.message({ data: typeof frame === "string" ? frame : JSON.stringify(frame) }); }
    drop(code) { this.handlers.close({ code }); }
  }
  const context = {
    document: {
      documentElement: { lang },
      querySelector: (selector) => body.querySelector(selector),
      createElement: () => element(),
      createTextNode: (text) => new FakeText(text),
    },
    window: { addEventListener: (type, handler) => { listeners[type] = handler; } },
    location: { protocol: "https:", host: "agora.example.org" },
    WebSocket: FakeSocket,
    setTimeout: (callback, ms) => { timers.push({ callback, ms }); return timers.length; },
    clearTimeout: () => {},
    Math, JSON, Intl, parseInt, isFinite,
  };
  vm.runInNewContext(readFileSync(new URL("../../static/js/notices.js", import.meta.url), "utf8"), context);
  return { link, region, sockets, timers, listeners };
}

test("the page follows its stream and rewrites the link's accessible name", () => {
  const { link, region, sockets } = page({ unread: 0 });
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].url, "wss://agora.example.org/ws/me/");
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: 0 });
  assert.equal(link.textContent, "Notifications");
  assert.equal(region.textContent, "");
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: 3 });
  assert.equal(link.textContent, "Notifications (3 unread)");
  assert.equal(link.querySelector("[data-notices-count]").childNodes[1].className, "visually-hidden");
  assert.equal(region.textContent, "A new notification: 3 unread.");
  // Read in another tab: shown, not said.
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: 1 });
  assert.equal(link.textContent, "Notifications (1 unread)");
  assert.equal(region.textContent, "A new notification: 3 unread.");
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: 0 });
  assert.equal(link.textContent, "Notifications");
  // Anything else is ignored.
  sockets[0].receive("not json");
  sockets[0].receive({ type: "participation.suspended", stream: "personal" });
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: "9" });
  assert.equal(link.textContent, "Notifications");
});

test("the count the page was rendered with is the baseline: the first frame is said only if higher", () => {
  const { link, region, sockets } = page({ unread: 2, lang: "fr" });
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: 2 });
  assert.equal(region.textContent, "");
  sockets[0].receive({ type: "notices.unread", stream: "personal", unread: 5 });
  assert.equal(region.textContent, "A new notification: 5 unread.");
  assert.equal(link.textContent, "Notifications (5 unread)");
});

test("a lost connection comes back after a back-off; a refusal stops it", () => {
  const { sockets, timers } = page();
  sockets[0].drop(1006);
  assert.equal(timers.length, 1);
  assert.ok(timers[0].ms >= 500 && timers[0].ms < 1500);
  timers[0].callback();
  assert.equal(sockets.length, 2);
  sockets[1].drop(1006);
  assert.ok(timers[1].ms >= 1000 && timers[1].ms < 3000); // the second attempt waits longer
  timers[1].callback();
  sockets[2].receive({ type: "notices.unread", stream: "personal", unread: 0 });
  sockets[2].drop(1006);
  assert.ok(timers[2].ms < 1500); // a connection that worked starts over at 1 s
  timers[2].callback();
  sockets[3].drop(4403); // signed out meanwhile
  assert.equal(timers.length, 3);
});

test("leaving the page closes the socket and does not reconnect", () => {
  const { sockets, timers, listeners } = page();
  listeners.pagehide();
  assert.equal(sockets[0].closedWith, 1000);
  sockets[0].drop(1000);
  assert.equal(timers.length, 0);
  listeners.pageshow({ persisted: true });
  assert.equal(sockets.length, 2);
});

test("a frame numbered lower than the last one kept is older: it is not shown", () => {
  assert.equal(notices.isNewer(5, null), true);
  assert.equal(notices.isNewer(6, 5), true);
  assert.equal(notices.isNewer(4, 5), false);
  assert.equal(notices.isNewer(5, 5), false);
  assert.equal(notices.isNewer(undefined, 5), true); // unnumbered: taken as it comes
});

test("frames that crossed on their way leave the newer count, and a new connection starts over", () => {
  const { link, region, sockets, timers } = page({ unread: 0 });
  const frame = (unread, order) => ({ type: "notices.unread", stream: "personal", unread, order });
  sockets[0].receive(frame(0, 10));
  sockets[0].receive(frame(2, 12)); // read after the second notice
  sockets[0].receive(frame(1, 11)); // read after the first, arriving last
  assert.equal(link.textContent, "Notifications (2 unread)");
  assert.equal(region.textContent, "A new notification: 2 unread.");
  // A new connection's numbers may start lower (Redis forgot them): its first frame counts.
  sockets[0].drop(1006);
  timers[0].callback();
  sockets[1].receive(frame(3, 1));
  assert.equal(link.textContent, "Notifications (3 unread)");
  sockets[1].receive(frame(2, 2));
  assert.equal(link.textContent, "Notifications (2 unread)");
});
