// The pure parts of static/js/notices.js: `node --test tests/js/` (no dependency).
// The page side (the menu's counter over a real socket) is checked by the server's tests
// of the stream (tests/notices/test_live_counter.py) and of the markup it reads.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

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
