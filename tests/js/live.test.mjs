// The pure parts of static/js/live.js: `node --test tests/js/` (no dependency).
// The browser side (DOM updates over a real socket) is left to the browser tests.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const live = createRequire(import.meta.url)("../../static/js/live.js");

test("frames apply in order, stale ones are ignored, a gap asks for a resync", () => {
  assert.equal(live.seqAction(41, { type: "tally", seq: 42 }), "apply");
  assert.equal(live.seqAction(41, { type: "tally", seq: 41 }), "ignore");
  assert.equal(live.seqAction(41, { type: "tally", seq: 12 }), "ignore");
  assert.equal(live.seqAction(41, { type: "comment.posted", seq: 44 }), "resync");
});

test("while waiting for a snapshot only the snapshot applies", () => {
  assert.equal(live.seqAction(null, { type: "tally", seq: 7 }), "ignore");
  assert.equal(live.seqAction(null, { type: "snapshot", seq: 7 }), "apply");
  // A whole state: even numbered lower (the numbering restarted with the server).
  assert.equal(live.seqAction(41, { type: "snapshot", seq: 3 }), "apply");
});

test("errors and pongs carry no seq and do not move it", () => {
  assert.equal(live.seqAction(41, { type: "error", code: "rate_limited" }), "unsequenced");
  assert.equal(live.seqAction(null, { type: "pong" }), "unsequenced");
});

test("reconnection backs off from 1 s to a 30 s cap, jittered by half either way", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((n) => live.backoffDelay(n, 0.5)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(live.backoffDelay(0, 0), 500);
  assert.equal(live.backoffDelay(0, 0.999999), 1500);
  assert.equal(live.backoffDelay(20, 0), 15000);
  assert.equal(live.backoffDelay(20, 0.999999), 45000);
});

const state = {
  participation: { participants: 150, votes: 94 },
  items: {
    12: { comments: 3, votes: { for: 57, against: 20, abstain: 17 }, grades: [1, 0, 1, 0, 0, 0, 2] },
    13: { comments: 0 },
  },
};

test("marks resolve to numbers, sums and whole percentages", () => {
  assert.equal(live.resolve(state, "participation.votes"), 94);
  assert.equal(live.resolve(state, "items.12.votes.against"), 20);
  assert.equal(live.resolve(state, "items.12.grades.6"), 2);
  assert.equal(live.resolve(state, "sum:items.12.votes"), 94);
  assert.equal(live.resolve(state, "share:items.12.votes.for"), 61);
  assert.equal(live.resolve(state, "share:items.12.grades.6"), 50);
});

test("hidden results resolve to nothing, so the page keeps what it shows", () => {
  assert.equal(live.resolve(state, "items.13.votes.for"), undefined);
  assert.equal(live.resolve(state, "share:items.13.votes.for"), undefined);
  assert.equal(live.resolve(state, "sum:items.13.votes"), undefined);
  assert.equal(live.resolve(state, "items.99.comments"), undefined);
});

test("a small group's breakdown (null) stays hidden, and shows once it comes", () => {
  const small = {
    results_visible: true,
    items: { 7: { comments: 0, responses: { votes: 3, grades: 12 }, votes: null, grades: [2, 10] } },
  };
  assert.equal(live.brokenDown(small, "items.7.votes"), false);
  assert.equal(live.brokenDown(small, "items.7.grades"), true);
  assert.equal(live.resolve(small, "items.7.responses.votes"), 3);
  assert.equal(live.resolve(small, "items.7.votes.for"), undefined);
  assert.equal(live.resolve(small, "sum:items.7.votes"), undefined);
  small.items[7].votes = { for: 1, against: 8, abstain: 1 };
  assert.equal(live.brokenDown(small, "items.7.votes"), true);
  assert.equal(live.brokenDown({ ...small, results_visible: false }, "items.7.grades"), false);
  assert.equal(live.brokenDown(small, ""), true);
});

test("percentages round like the server's filter (halves to even) and 0 of 0 is 0", () => {
  assert.equal(live.roundHalfEven(12.5), 12);
  assert.equal(live.roundHalfEven(37.5), 38);
  const empty = { items: { 1: { votes: { for: 0, against: 0, abstain: 0 } } } };
  assert.equal(live.resolve(empty, "share:items.1.votes.for"), 0);
  const eighth = { items: { 1: { votes: { for: 1, against: 7, abstain: 0 } } } };
  assert.equal(live.resolve(eighth, "share:items.1.votes.for"), 12);
});

test("templates from the page are filled in, unknown names left alone", () => {
  assert.equal(live.format("Pour : %(pro)s ; participants : %(participants)s.", { pro: 57, participants: 150 }),
    "Pour : 57 ; participants : 150.");
  assert.equal(live.format("%(missing)s", {}), "%(missing)s");
});

test("plurals follow the page language", () => {
  assert.equal(live.plural("en", 0, "1 comment", "2 comments"), "0 comments");
  assert.equal(live.plural("en", 1, "1 comment", "2 comments"), "1 comment");
  assert.equal(live.plural("fr", 0, "1 commentaire", "2 commentaires"), "0 commentaire");
  assert.equal(live.plural("fr", 12, "1 commentaire", "2 commentaires"), "12 commentaires");
});

function fakeClock() {
  const clock = { t: 0, timers: [] };
  clock.now = () => clock.t;
  clock.setTimeout = (f, ms) => clock.timers.push({ at: clock.t + ms, f });
  clock.advance = (ms) => {
    clock.t += ms;
    for (const timer of clock.timers.filter((x) => x.at <= clock.t)) {
      clock.timers.splice(clock.timers.indexOf(timer), 1);
      timer.f();
    }
  };
  return clock;
}

test("announcements: at most one per window, the latest text, only when it changed", () => {
  const clock = fakeClock();
  const said = [];
  const announcer = live.makeAnnouncer((text) => said.push(text), 5000, clock);
  announcer.baseline("For 1");
  announcer.push("For 1"); // what the page already says
  assert.deepEqual(said, []);
  announcer.push("For 2");
  assert.deepEqual(said, ["For 2"]);
  for (let n = 3; n <= 30; n += 1) {
    clock.advance(250); // a tally every 250 ms, for 7 s
    announcer.push(`For ${n}`);
  }
  assert.deepEqual(said, ["For 2", "For 21"]); // at 5 s: the latest text then
  clock.advance(3000);
  assert.deepEqual(said, ["For 2", "For 21", "For 30"]); // at 10 s
  clock.advance(60000);
  announcer.push("For 30"); // no change: silence
  assert.deepEqual(said, ["For 2", "For 21", "For 30"]);
});

test("a change that comes back to what was said is not repeated", () => {
  const clock = fakeClock();
  const said = [];
  const announcer = live.makeAnnouncer((text) => said.push(text), 5000, clock);
  announcer.push("A");
  announcer.push("B");
  announcer.push("A");
  clock.advance(5000);
  assert.deepEqual(said, ["A"]);
});

test("a personal frame is for this page when site-wide or about its consultation", () => {
  const url = "/ws/consultations/budget-2027/";
  assert.equal(live.concernsPage({ stream: "personal", consultation: "budget-2027" }, url), true);
  assert.equal(live.concernsPage({ stream: "personal", consultation: null }, url), true);
  assert.equal(live.concernsPage({ stream: "personal", consultation: "budget-2028" }, url), false);
  assert.equal(live.concernsPage({ stream: "personal", consultation: "budget" }, url), false);
  assert.equal(live.concernsPage({ stream: "public", consultation: null }, url), false);
});
