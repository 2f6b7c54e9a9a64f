// The pure parts of static/js/moderation.js: `node --test tests/js/` (no dependency).
// The page side (a real socket, the queue's markup) is tested in tests/moderation/.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const mod = createRequire(import.meta.url)("../../static/js/moderation.js");

test("the moderators' snapshot always applies; other frames in order, a gap resyncs", () => {
  assert.equal(mod.seqAction(null, { type: "moderation.snapshot", seq: 9 }), "apply");
  assert.equal(mod.seqAction(40, { type: "moderation.snapshot", seq: 2 }), "apply");
  assert.equal(mod.seqAction(null, { type: "moderation.report", seq: 9 }), "ignore");
  assert.equal(mod.seqAction(9, { type: "moderation.report", seq: 10 }), "apply");
  assert.equal(mod.seqAction(9, { type: "moderation.decision", seq: 9 }), "ignore");
  assert.equal(mod.seqAction(9, { type: "moderation.decision", seq: 12 }), "resync");
  assert.equal(mod.seqAction(9, { type: "error", code: "x" }), "unsequenced");
});

const key = (k, extra = {}) => ({ key: k, target: { tagName: "ARTICLE" }, ...extra });

test("shortcuts name the documented commands", () => {
  const seen = ["j", "k", "h", "d", "r", "l", "w", "n", "?"].map((k) => mod.shortcutFor(key(k)));
  assert.deepEqual(seen, ["next", "previous", "hide", "dismiss", "restore", "lock", "warn", "note", "help"]);
  assert.equal(mod.shortcutFor(key("x")), null);
  assert.equal(mod.shortcutFor(key("?", { shiftKey: true })), "help"); // "?" is Shift+/ on most layouts
  assert.equal(mod.shortcutFor(key("h", { shiftKey: true })), null);
});

test("shortcuts stay out of text fields, lists and the browser's own chords", () => {
  for (const target of [
    { tagName: "TEXTAREA" },
    { tagName: "SELECT" },
    { tagName: "INPUT", type: "text" },
    { tagName: "INPUT", type: "number" },
    { tagName: "INPUT" },
    { tagName: "DIV", isContentEditable: true },
  ]) {
    assert.equal(mod.shortcutFor({ key: "h", target }), null, JSON.stringify(target));
  }
  assert.equal(mod.shortcutFor({ key: "j", target: { tagName: "BUTTON" } }), "next");
  assert.equal(mod.shortcutFor({ key: "j", target: { tagName: "INPUT", type: "checkbox" } }), "next");
  assert.equal(mod.shortcutFor(key("h", { ctrlKey: true })), null);
  assert.equal(mod.shortcutFor(key("r", { metaKey: true })), null);
  assert.equal(mod.shortcutFor(key("d", { altKey: true })), null);
});

test("a decision reads as a colleague's, as one's own in another window, or as an answered appeal", () => {
  assert.equal(mod.verdict({ action: "hide", moderator: 7 }, "3"), "decided");
  assert.equal(mod.verdict({ action: "dismiss", moderator: 7 }, "3"), "decided");
  assert.equal(mod.verdict({ action: "restore", moderator: 7 }, "3"), "decided");
  assert.equal(mod.verdict({ action: "lock", moderator: 7 }, "3"), "acted");
  assert.equal(mod.verdict({ action: "suspend", moderator: 7 }, "3"), "acted");
  assert.equal(mod.verdict({ action: "hide", moderator: 3 }, "3"), "yours");
  assert.equal(mod.verdict({ action: "appeal_granted", moderator: 7 }, "3"), "appeal");
  assert.equal(mod.verdict({ action: "hide", moderator: null }, "3"), "decided"); // an erased account
});

const queued = (id, reporters, waiting) => ({ comment: { id }, reporters, waiting_since: waiting });

test("a snapshot marks what was decided meanwhile, counts again, and finds what is new", () => {
  const renderedAt = "2026-05-01T10:00:00+00:00";
  const queue = [queued(1, 3, "2026-05-01T09:00:00+00:00"), queued(4, 1, "2026-05-01T10:05:00+00:00"),
    queued(5, 2, "2026-04-30T10:05:00+00:00")];
  const result = mod.reconcile(["1", "2"], queue, 50, renderedAt);
  assert.deepEqual(result.gone, ["2"]);
  assert.deepEqual(result.counts, { 1: 3 });
  // 4 came in after the page was rendered; 5 was waiting already (beyond what the page showed).
  assert.deepEqual(result.fresh, ["4"]);
});

test("a truncated snapshot says nothing about the entries it left out", () => {
  const queue = [queued(1, 3, "2026-05-01T09:00:00+00:00")];
  assert.deepEqual(mod.reconcile(["1", "2"], queue, 1, "2026-05-01T10:00:00+00:00").gone, []);
  assert.deepEqual(mod.reconcile(["2"], [], 50, null), { gone: ["2"], fresh: [], counts: {} });
});

test("addresses: the stream's consultation, an entry's and an appeal's pages", () => {
  assert.equal(mod.slugOf("/ws/consultations/velo-2026/moderation/"), "velo-2026");
  assert.equal(mod.slugOf("/ws/consultations/velo-2026/"), null);
  assert.equal(mod.commentUrl("/moderation/SLUG/commentaires/0/", "velo-2026", 42),
    "/moderation/velo-2026/commentaires/42/");
  assert.equal(mod.appealUrl("/moderation/appels/0/", 7), "/moderation/appels/7/");
});

test("texts come from the page: placeholders and plural forms", () => {
  assert.equal(mod.format("Decided by a colleague (%(role)s): %(action)s.", { role: "Moderator", action: "Comment hidden" }),
    "Decided by a colleague (Moderator): Comment hidden.");
  assert.equal(mod.plural("fr", 1, "1 signalement ouvert", "2 signalements ouverts"), "1 signalement ouvert");
  assert.equal(mod.plural("fr", 0, "1 signalement ouvert", "2 signalements ouverts"), "0 signalement ouvert");
  assert.equal(mod.plural("en", 3, "1 open report", "2 open reports"), "3 open reports");
});
