/* Live tallies on a consultation's pages (hand-written, no dependency).
 *
 * Without this script the page shows the counts as of its rendering. With it, the page
 * follows the consultation's public websocket stream (docs/realtime.md) and rewrites
 * numbers and <meter> bars in place. The page marks what to rewrite:
 *   data-live="participation.votes"        the number at that path of the snapshot
 *   data-live="sum:items.12.votes"         the sum of the numbers under that path
 *   data-live="share:items.12.votes.for"   its whole percentage of its siblings' sum
 *   data-live-results="items.12.votes"     shown while that breakdown is in the state (a
 *                                          small group's is null: docs/realtime.md)
 *   data-live-small="items.12.votes"       shown while it is not (the group's total, why)
 * shown as is, through data-live-format (a "%(n)s" template) or through data-live-plural
 * (a phrase whose one/other renderings sit on the root). Every text comes from the page,
 * already translated. Screen readers hear a short summary in a polite live region, at
 * most every 5 seconds and only when it changed; the visible status is not a live region.
 *
 * Loaded by node (tests/js/live.test.mjs), the file exports its pure parts instead.
 */
(function () {
  "use strict";

  var ANNOUNCE_EVERY_MS = 5000;
  var RESYNC_RETRY_MS = 10000;
  // Not allowed, no such consultation, logged out: retrying cannot help.
  var FINAL_CLOSE_CODES = [4403, 4404, 4408];

  // --- Pure logic ----------------------------------------------------------------------

  // What to do with a frame, given the seq of the last frame applied on this connection
  // (null: waiting for a snapshot). A snapshot is a whole state and always applies: one
  // numbered lower than `last` means the numbering restarted (server or Redis restart).
  function seqAction(last, frame) {
    if (typeof frame.seq !== "number") return "unsequenced"; // error, pong
    if (frame.type === "snapshot") return "apply";
    if (last === null || frame.seq <= last) return "ignore"; // resyncing, or stale
    if (frame.seq > last + 1) return "resync"; // frames were missed
    return "apply";
  }

  // Delay before reconnection attempt number `attempt` (0 first): 1 s, 2 s, 4 s…
  // capped at 30 s, times a random factor in [0.5, 1.5) so clients do not return in step.
  function backoffDelay(attempt, random) {
    return Math.round(Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + random));
  }

  function lookup(state, path) {
    return path.split(".").reduce(function (node, key) {
      return node !== null && typeof node === "object" ? node[key] : undefined;
    }, state);
  }

  function total(node) {
    if (node === null || typeof node !== "object") return undefined;
    return Object.keys(node).reduce(function (sum, key) { return sum + (Number(node[key]) || 0); }, 0);
  }

  // Python's round(), as the server's |percent filter uses: halves go to the even side.
  function roundHalfEven(x) {
    var r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  // The number a data-live attribute stands for, or undefined when the state lacks it
  // (per-item results are absent while they are hidden).
  function resolve(state, spec) {
    var kind = spec.indexOf(":") < 0 ? "value" : spec.slice(0, spec.indexOf(":"));
    var path = kind === "value" ? spec : spec.slice(kind.length + 1);
    if (kind === "sum") return total(lookup(state, path));
    var value = lookup(state, path);
    if (typeof value !== "number") return undefined;
    if (kind !== "share") return value;
    var all = total(lookup(state, path.slice(0, path.lastIndexOf("."))));
    return all ? roundHalfEven((100 * value) / all) : 0;
  }

  // Whether an element marked data-live-results="items.12.votes" shows: results are
  // visible and that breakdown came (it is null for a group too small to break down,
  // absent while results are hidden). An element without a path follows visibility only.
  function brokenDown(state, path) {
    if (!state.results_visible) return false;
    if (!path) return true;
    var value = lookup(state, path);
    return value !== null && typeof value === "object";
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // `one` and `other` are the server's renderings for 1 and 2 ("1 comment", "2 comments"):
  // the language's plural rules pick one and the count replaces its number.
  function plural(lang, n, one, other) {
    var category = typeof Intl !== "undefined" && Intl.PluralRules
      ? new Intl.PluralRules(lang).select(n)
      : n === 1 ? "one" : "other";
    return String((category === "one" ? one : other) || "").replace(/\d+/, String(n));
  }

  // Hands `say` the latest text at most once per `interval` ms, and only when it differs
  // from what was said last: a change inside the window is said when the window ends.
  function makeAnnouncer(say, interval, clock) {
    var said = null, pending = null, lastAt = -Infinity, timer = null;
    function flush() {
      timer = null;
      if (pending !== null && pending !== said) {
        say(pending);
        said = pending;
        lastAt = clock.now();
      }
      pending = null;
    }
    return {
      baseline: function (text) { said = text; }, // what the page already shows
      push: function (text) {
        pending = text;
        if (timer !== null) return;
        var wait = lastAt + interval - clock.now();
        if (wait <= 0) flush(); else timer = clock.setTimeout(flush, wait);
      }
    };
  }

  // A personal frame (sent to one person's sockets, unnumbered) is for this page when it
  // names no consultation (site-wide) or the one this page's stream follows.
  function concernsPage(frame, liveUrl) {
    if (!frame || frame.stream !== "personal") return false;
    if (!frame.consultation) return true;
    return String(liveUrl || "").indexOf("/consultations/" + frame.consultation + "/") !== -1;
  }

  var pure = { seqAction: seqAction, backoffDelay: backoffDelay, lookup: lookup, resolve: resolve,
    brokenDown: brokenDown, format: format, plural: plural, makeAnnouncer: makeAnnouncer, roundHalfEven: roundHalfEven,
    concernsPage: concernsPage };
  if (typeof module === "object" && module.exports) {
    module.exports = pure;
    return;
  }

  // --- The page ------------------------------------------------------------------------

  function each(selector, callback) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), callback);
  }

  function start(root) {
    var lang = document.documentElement.lang || "fr";
    var itemId = root.getAttribute("data-live-item");
    var statusEl = root.querySelector("[data-live-status]");
    var regionEl = root.querySelector("[data-live-announce]");
    var noticeEl = root.querySelector("[data-live-notice]");
    var announcer = makeAnnouncer(function (text) { regionEl.textContent = text; }, ANNOUNCE_EVERY_MS,
      { now: function () { return Date.now(); }, setTimeout: function (f, ms) { return setTimeout(f, ms); } });
    var state = null; // the consultation as of the last frame applied
    var last = null; // that frame's seq on this connection; null: waiting for a snapshot
    var socket = null, attempt = 0, retryTimer = null, resyncTimer = null, leaving = false;
    var newComments = {}; // ids of the comments posted on this item since the page loaded

    function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }

    function setStatus(name) {
      statusEl.hidden = false;
      statusEl.setAttribute("data-state", name);
      statusEl.textContent = msg(name);
    }

    function show(el, value) {
      var text = String(value);
      if (el.hasAttribute("data-live-plural")) {
        var phrase = "data-plural-" + el.getAttribute("data-live-plural");
        text = plural(lang, value, root.getAttribute(phrase + "-one"), root.getAttribute(phrase + "-other"));
      } else if (el.hasAttribute("data-live-format")) {
        text = el.getAttribute("data-live-format").replace(/%\(\w+\)s/g, text);
      }
      if (el.tagName === "METER" || el.tagName === "PROGRESS") el.value = value;
      if (el.textContent !== text) el.textContent = text;
    }

    function notice() {
      var parts = [], count = Object.keys(newComments).length;
      // Derived from the state, so a snapshot after an outage tells it too.
      if (state.status !== root.getAttribute("data-live-phase") ||
          String(state.results_visible) !== root.getAttribute("data-live-results-visible")) {
        parts.push(msg("phase"));
      }
      if (count) parts.push(plural(lang, count, root.getAttribute("data-plural-new-comments-one"),
        root.getAttribute("data-plural-new-comments-other")));
      return parts.join(" ");
    }

    // "For: 57, against: 20, abstain: 17; participants: 150." on an item whose results
    // show, the participation figures otherwise; followed by the notice, if any.
    function summary() {
      var votes = itemId && state.results_visible ? lookup(state, "items." + itemId + ".votes") : null;
      var values = Object.assign({}, state.participation);
      if (votes) Object.assign(values, { pro: votes["for"], con: votes.against, abstain: votes.abstain });
      var text = format(msg(votes && msg("summary-votes") ? "summary-votes" : "summary"), values);
      return [text, notice()].join(" ").trim();
    }

    function render(announce) {
      each("[data-live]", function (el) {
        var value = resolve(state, el.getAttribute("data-live"));
        if (value !== undefined) show(el, value);
      });
      // A breakdown shows once its group is large enough; until then, its total and why.
      each("[data-live-results]", function (el) {
        el.hidden = !brokenDown(state, el.getAttribute("data-live-results"));
      });
      each("[data-live-small]", function (el) {
        el.hidden = !state.results_visible || brokenDown(state, el.getAttribute("data-live-small"));
      });
      if (noticeEl) {
        noticeEl.querySelector("[data-live-notice-text]").textContent = notice();
        noticeEl.hidden = !notice();
      }
      if (announce) announcer.push(summary()); else announcer.baseline(summary());
    }

    var handlers = {
      snapshot: function (frame) {
        var first = state === null;
        clearTimeout(resyncTimer);
        state = frame.consultation;
        attempt = 0; // this connection works: the next outage starts over at 1 s
        setStatus("live");
        render(!first); // the first one is what the page already says: not worth a word
      },
      tally: function (frame) {
        state.participation = frame.participation;
        Object.keys(frame.items || {}).forEach(function (id) { state.items[id] = frame.items[id]; });
        render(true);
      },
      "consultation.status": function (frame) {
        state.status = frame.status;
        state.results_visible = frame.results_visible;
        render(true);
      },
      // Counts come with the tally frame that follows every comment event. A new comment
      // is inserted where the debate shows it (insertComment); where it cannot be (a
      // search, another sort, a later page), the notice says there is something new.
      "comment.posted": function (frame) {
        if (String(frame.comment.item) !== itemId) return;
        if (insertComment(frame.comment)) {
          announcer.push(format(msg("new-comment"), { author: frame.comment.author || "" }));
          return;
        }
        newComments[frame.comment.id] = true;
        render(true);
      },
      "comment.hidden": function (frame) {
        if (!newComments[frame.comment.id]) return;
        delete newComments[frame.comment.id];
        render(true);
      },
      error: function (frame) {
        if (window.console) window.console.warn("live:", frame.code, frame.detail);
      }
    };

    // A comment posted since the page was loaded, in place: a new thread at the top of
    // the first page of the newest-first debate (the list carries data-live-thread), a
    // reply under its parent when the parent is on the page. Its text is text, never
    // markup. The browser's scroll anchoring keeps what the reader is reading where it
    // is. Withheld comments are not shown (the moderators' queue has them).
    function insertComment(comment) {
      var thread = document.querySelector("[data-live-thread]");
      if (!thread || comment.deleted || (comment.moderation && comment.moderation.state !== "visible")) {
        return false;
      }
      if (document.getElementById("comment-" + comment.id)) return true; // already there
      var after = null, depth = 0;
      if (comment.parent !== null) {
        var parent = document.getElementById("comment-" + comment.parent);
        var parentRow = parent && parent.closest("li.comment");
        if (!parentRow || parentRow.parentNode !== thread) return false;
        var parentDepth = parseInt((/depth-(\d+)/.exec(parentRow.className) || [0, 0])[1], 10);
        depth = parentDepth + 1;
        after = parentRow;
        // After the parent's replies already shown (deeper rows that follow it).
        for (var next = after.nextElementSibling; next; next = next.nextElementSibling) {
          var nextDepth = /depth-(\d+)/.exec(next.className);
          if (!nextDepth || parseInt(nextDepth[1], 10) <= parentDepth) break;
          after = next;
        }
      }
      var row = document.createElement("li");
      row.className = "comment depth-" + depth + " stance-" + comment.stance + " is-live";
      var article = document.createElement("article");
      article.id = "comment-" + comment.id;
      var meta = document.createElement("p");
      meta.className = "comment-meta";
      var author = document.createElement("strong");
      author.textContent = comment.author || "";
      var stance = document.createElement("span");
      stance.className = "badge stance";
      stance.textContent = thread.getAttribute("data-stance-" + comment.stance) || comment.stance;
      meta.appendChild(author);
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(stance);
      var body = document.createElement("div");
      body.className = "comment-body";
      body.textContent = comment.body;
      var link = document.createElement("a");
      link.href = "?comment=" + comment.id + "#comment-" + comment.id;
      link.textContent = thread.getAttribute("data-msg-act");
      var actions = document.createElement("p");
      actions.appendChild(link);
      article.appendChild(meta);
      article.appendChild(body);
      article.appendChild(actions);
      row.appendChild(article);
      thread.insertBefore(row, after ? after.nextSibling : thread.firstChild);
      each("[data-live-empty]", function (el) { el.hidden = true; }); // "No comment yet."
      return true;
    }

    function requestSnapshot() {
      last = null;
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "resync" }));
      clearTimeout(resyncTimer);
      resyncTimer = setTimeout(requestSnapshot, RESYNC_RETRY_MS); // lost on the way: ask again
    }

    // Suspended by a moderator while the page is open: its forms stop at once (the server
    // refuses them anyway), and the reason is shown and announced.
    function suspended(frame) {
      each("main form[method=post]", function (form) {
        Array.prototype.forEach.call(form.querySelectorAll("button, input, select, textarea"), function (el) {
          if (el.type !== "hidden") el.disabled = true;
        });
      });
      var note = document.createElement("p");
      note.className = "message message--error";
      note.setAttribute("role", "alert");
      note.textContent = frame.detail || "";
      root.insertBefore(note, root.firstChild);
    }

    function receive(event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame && frame.stream === "personal") {
        if (frame.type === "participation.suspended" && concernsPage(frame, root.getAttribute("data-live-url"))) suspended(frame);
        return;
      }
      if (!frame || typeof frame !== "object" || (frame.stream && frame.stream !== "public")) return;
      var action = seqAction(last, frame);
      if (action === "ignore") return;
      if (action === "resync") return requestSnapshot();
      if (action === "apply") last = frame.seq;
      var handler = Object.prototype.hasOwnProperty.call(handlers, frame.type) && handlers[frame.type];
      if (handler && (state !== null || frame.type === "snapshot" || frame.type === "error")) handler(frame);
    }

    function connect() {
      retryTimer = null;
      last = null; // the server opens every connection with a snapshot
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      try {
        socket = new WebSocket(scheme + location.host + root.getAttribute("data-live-url"));
      } catch (error) {
        return reconnectLater();
      }
      var current = socket;
      socket.addEventListener("message", receive);
      socket.addEventListener("close", function (event) {
        if (current !== socket) return; // an earlier socket, closed on leaving the page
        socket = null;
        clearTimeout(resyncTimer);
        if (leaving) return;
        if (FINAL_CLOSE_CODES.indexOf(event.code) >= 0) return setStatus("stopped");
        reconnectLater();
      });
    }

    function reconnectLater() {
      setStatus("reconnecting");
      retryTimer = setTimeout(connect, backoffDelay(attempt, Math.random()));
      attempt += 1;
    }

    // Back online: no need to wait for the end of a long back-off.
    window.addEventListener("online", function () {
      if (retryTimer !== null) { clearTimeout(retryTimer); connect(); }
    });
    // Leaving the page (or entering the back/forward cache) closes the socket on purpose.
    window.addEventListener("pagehide", function () {
      leaving = true;
      clearTimeout(retryTimer);
      retryTimer = null;
      if (socket) socket.close(1000);
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { leaving = false; connect(); }
    });

    setStatus("connecting");
    connect();
  }

  var root = document.querySelector("[data-live-url]");
  if (root && typeof WebSocket === "function") start(root);
})();
