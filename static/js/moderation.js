/* The moderators' space, live (hand-written, no dependency).
 *
 * Without this script the queue pages work as rendered: every action is a POST form, and
 * a reload shows what changed. With it, the page follows the moderators' websocket stream
 * of each consultation it shows (docs/realtime.md) and:
 *   - moderation.snapshot (on every connection): entries a colleague decided meanwhile are
 *     marked and disabled, report counts refreshed, entries that came in since the page
 *     was rendered fetched and added;
 *   - moderation.report: the entry's report count goes up, or the new entry is fetched
 *     from its own page (/moderation/<slug>/commentaires/<id>/) and added on top;
 *   - moderation.decision: the entry is marked "decided by a colleague (their role)" and
 *     its buttons disabled, so that two moderators do not act on the same thing; an
 *     appeal a colleague answered likewise;
 *   - moderation.appeal: a new appeal this person may answer is fetched and added;
 *   - moderation.comment: an entry's text follows its author's edits.
 * Every change is said in a polite live region. Keyboard shortcuts (documented on the
 * page): j/k next/previous entry, h hide, d dismiss, r restore, l lock/unlock, w warn,
 * n note, ? the list; never while the focus is in a text field or a list.
 *
 * The page marks what the script reads: the root [data-moderation-streams] (stream
 * addresses, texts, labels), articles [data-entry][data-comment] and [data-appeal].
 * Every text comes from the page, already translated. Fetched entries are the server's
 * own rendering of them, parsed with DOMParser (no script runs from them).
 *
 * Loaded by node (tests/js/moderation.test.mjs), the file exports its pure parts instead.
 */
(function () {
  "use strict";

  var FINAL_CLOSE_CODES = [4403, 4404, 4408];
  var RESYNC_RETRY_MS = 10000;
  var ANNOUNCE_GATHER_MS = 800;
  // Decisions after which a comment no longer awaits review.
  var RESOLVING = ["hide", "restore", "dismiss"];
  var KEYS = { j: "next", k: "previous", h: "hide", d: "dismiss", r: "restore", l: "lock",
    w: "warn", n: "note", "?": "help" };

  // --- Pure logic ----------------------------------------------------------------------

  // As live.js: what to do with a frame given the seq of the last one applied (null:
  // waiting for a snapshot). A snapshot always applies.
  function seqAction(last, frame) {
    if (typeof frame.seq !== "number") return "unsequenced";
    if (frame.type === "moderation.snapshot") return "apply";
    if (last === null || frame.seq <= last) return "ignore";
    if (frame.seq > last + 1) return "resync";
    return "apply";
  }

  function backoffDelay(attempt, random) {
    return Math.round(Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + random));
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function plural(lang, n, one, other) {
    var category = typeof Intl !== "undefined" && Intl.PluralRules
      ? new Intl.PluralRules(lang).select(n)
      : n === 1 ? "one" : "other";
    return String((category === "one" ? one : other) || "").replace(/\d+/, String(n));
  }

  // Whether a key press lands in something the person types into (a text field, a list,
  // an editable region): shortcuts stay out of the way there.
  function isTyping(target) {
    if (!target) return false;
    if (target.isContentEditable) return true;
    var tag = String(target.tagName || "").toUpperCase();
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var type = String(target.type || "text").toLowerCase();
    return ["button", "submit", "reset", "checkbox", "radio", "image", "hidden"].indexOf(type) < 0;
  }

  // The command a key press stands for, or null. Modifier chords are the browser's
  // ("?" needs Shift on most layouts: it is the key that counts).
  function shortcutFor(event) {
    if (!event || event.ctrlKey || event.metaKey || event.altKey) return null;
    if (isTyping(event.target)) return null;
    var key = String(event.key || "");
    if (key !== "?" && event.shiftKey) return null;
    return Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : null;
  }

  // How a colleague's decision reads on an entry: "yours" (taken by this person, in
  // another window), "decided" (the comment no longer awaits review), "acted" (something
  // else was done: a lock, a warning, a suspension), "appeal" (an appeal answered).
  function verdict(decision, userId) {
    if (String(decision.action).indexOf("appeal_") === 0) return "appeal";
    if (userId !== null && String(decision.moderator) === String(userId)) return "yours";
    return RESOLVING.indexOf(decision.action) >= 0 ? "decided" : "acted";
  }

  // Compare the page's entries of one consultation with that consultation's snapshot.
  // gone: shown but no longer in the queue (only when the snapshot is whole: a truncated
  // one leaves out the least urgent); fresh: queued since the page was rendered and not
  // shown; counts: the open reports of the entries shown.
  function reconcile(shownIds, queue, limit, renderedAt) {
    var inQueue = {}, counts = {}, fresh = [], gone = [];
    var since = renderedAt ? Date.parse(renderedAt) : NaN;
    var shown = {};
    shownIds.forEach(function (id) { shown[String(id)] = true; });
    (queue || []).forEach(function (entry) {
      var id = String(entry.comment.id);
      inQueue[id] = true;
      if (shown[id]) counts[id] = entry.reporters;
      else if (!isNaN(since) && Date.parse(entry.waiting_since) > since) fresh.push(id);
    });
    var whole = !(typeof limit === "number" && (queue || []).length >= limit);
    if (whole) shownIds.forEach(function (id) { if (!inQueue[String(id)]) gone.push(String(id)); });
    return { gone: gone, fresh: fresh, counts: counts };
  }

  // "/ws/consultations/<slug>/moderation/" -> "<slug>"
  function slugOf(streamUrl) {
    var match = /\/ws\/consultations\/([^/]+)\/moderation\/?$/.exec(String(streamUrl || ""));
    return match ? match[1] : null;
  }

  // The page of one comment (or appeal) from the page's URL patterns.
  function commentUrl(pattern, slug, id) {
    return String(pattern).replace("SLUG", slug).replace(/\/0\/$/, "/" + id + "/");
  }

  function appealUrl(pattern, id) {
    return String(pattern).replace(/\/0\/$/, "/" + id + "/");
  }

  var pure = { seqAction: seqAction, backoffDelay: backoffDelay, format: format, plural: plural,
    isTyping: isTyping, shortcutFor: shortcutFor, verdict: verdict, reconcile: reconcile,
    slugOf: slugOf, commentUrl: commentUrl, appealUrl: appealUrl };
  if (typeof module === "object" && module.exports) {
    module.exports = pure;
    return;
  }

  // --- The page ------------------------------------------------------------------------

  function toArray(list) { return Array.prototype.slice.call(list || []); }

  function start(root) {
    var lang = document.documentElement.lang || "fr";
    var userId = root.getAttribute("data-user") || null;
    var back = root.getAttribute("data-back") || "consultation";
    var renderedAt = root.getAttribute("data-rendered-at");
    var statusEl = root.querySelector("[data-live-status]");
    var regionEl = root.querySelector("[data-live-announce]");
    var labels = { actions: {}, roles: {} };
    try { labels = JSON.parse(root.getAttribute("data-labels") || "{}"); } catch (error) { /* texts stay codes */ }
    var queueEl = document.querySelector("[data-queue]");
    var appealsEl = document.querySelector("[data-appeals]");
    var mayAdd = back === "all" || back === "consultation"; // a comment's own page shows it alone
    var submitting = false; // this page is sending a decision: its own frame is no news
    var current = null; // the article the keyboard acts on
    var fetching = {};

    function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }
    function label(kind, code) { return (labels[kind] && labels[kind][code]) || code; }

    // Messages said within a short while are said together, politely.
    var pendingWords = [], sayTimer = null;
    function announce(text) {
      if (!text) return;
      pendingWords.push(text);
      if (sayTimer !== null) return;
      sayTimer = setTimeout(function () {
        regionEl.textContent = pendingWords.join(" ");
        pendingWords = [];
        sayTimer = null;
      }, ANNOUNCE_GATHER_MS);
    }

    function entries() { return toArray(document.querySelectorAll("[data-entry]")); }
    function articles() { return toArray(document.querySelectorAll("[data-entry], [data-appeal]")); }
    function entryOf(id) { return document.querySelector('[data-entry][data-comment="' + String(id) + '"]'); }
    function titleOf(article) {
      var heading = article.querySelector("h2, h3");
      return heading ? heading.textContent.trim() : "";
    }

    function updateCounts() {
      var waiting = entries().filter(function (el) { return !el.classList.contains("is-decided"); }).length;
      toArray(document.querySelectorAll("[data-queue-count]")).forEach(function (el) { el.textContent = String(waiting); });
      var empty = document.querySelector("[data-queue-empty]");
      if (empty) empty.hidden = entries().length > 0;
      var open = toArray(document.querySelectorAll("[data-appeal]")).filter(function (el) {
        return el.hasAttribute("data-decidable") && !el.classList.contains("is-decided");
      }).length;
      toArray(document.querySelectorAll("[data-appeals-count]")).forEach(function (el) { el.textContent = String(open); });
      var noAppeal = document.querySelector("[data-appeals-empty]");
      if (noAppeal) noAppeal.hidden = document.querySelectorAll("[data-appeal]").length > 0;
    }

    // Disable an article's forms and say why on it; `refresh`: offer to show its state.
    function markDecided(article, text, refresh) {
      article.classList.add("is-decided");
      toArray(article.querySelectorAll("form button, form input, form select, form textarea")).forEach(function (el) {
        if (el.type !== "hidden") el.disabled = true;
      });
      var status = article.querySelector("[data-entry-status]");
      if (status) {
        status.textContent = text;
        status.hidden = false;
        if (refresh) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "secondary";
          button.textContent = msg("refresh");
          button.addEventListener("click", function () {
            if (article.hasAttribute("data-entry")) {
              fetchArticle(article.getAttribute("data-entry-url"), "[data-entry]", article, null);
            } else {
              fetchArticle(article.getAttribute("data-appeal-url"), "[data-appeal]", article, null);
            }
          });
          status.appendChild(document.createTextNode(" "));
          status.appendChild(button);
        }
      }
      updateCounts();
    }

    // Fetch an article from its own page and put it in place of `old`, or into `list`.
    function fetchArticle(url, selector, old, list, then) {
      if (!url || fetching[url]) return;
      fetching[url] = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector(selector);
          if (!fresh) return;
          toArray(fresh.querySelectorAll('input[name="back"]')).forEach(function (input) { input.value = back; });
          var more = fresh.querySelector(".mod-more");
          if (more && back === "comment") more.remove();
          var node = document.importNode(fresh, true);
          if (old && old.parentNode) {
            if (current === old) current = node;
            old.parentNode.replaceChild(node, old);
          } else if (list) {
            var item = document.createElement("li");
            item.appendChild(node);
            if (then && then.first) list.insertBefore(item, list.firstChild); else list.appendChild(item);
          } else {
            return;
          }
          if (then && then.say) then.say(node);
          updateCounts();
        })
        .catch(function () { /* offline: the next snapshot tells */ })
        .then(function () { delete fetching[url]; });
    }

    function addEntry(slug, id) {
      if (!mayAdd || !queueEl || entryOf(id)) return;
      var url = commentUrl(root.getAttribute("data-comment-url"), slug, id);
      fetchArticle(url, "[data-entry]", null, queueEl, {
        first: true,
        say: function (node) {
          node.classList.add("is-new");
          var author = (node.getAttribute("data-author") || "");
          announce(format(msg("new-entry"), { author: author || titleOf(node) }).trim());
        }
      });
    }

    function setReporters(article, count) {
      var el = article.querySelector('[data-field="reporters"]');
      if (el) el.textContent = plural(lang, count, root.getAttribute("data-plural-reporters-one"),
        root.getAttribute("data-plural-reporters-other"));
    }

    // --- frames

    function onSnapshot(connection, frame) {
      var shown = entries().filter(function (el) {
        return el.getAttribute("data-consultation") === connection.slug && !el.classList.contains("is-decided");
      }).map(function (el) { return el.getAttribute("data-comment"); });
      var result = reconcile(shown, frame.queue, frame.limit, renderedAt);
      result.gone.forEach(function (id) {
        var el = entryOf(id);
        if (el && back !== "comment") markDecided(el, msg("gone"), true);
      });
      Object.keys(result.counts).forEach(function (id) {
        var el = entryOf(id);
        if (el) setReporters(el, result.counts[id]);
      });
      result.fresh.forEach(function (id) { addEntry(connection.slug, id); });
    }

    function onReport(connection, frame) {
      var comment = frame.comment || {};
      var el = entryOf(comment.id);
      if (el && !el.classList.contains("is-decided")) {
        setReporters(el, frame.open_reports);
        announce(format(msg("new-report"), { author: comment.author || "—" }) + " " +
          plural(lang, frame.open_reports, root.getAttribute("data-plural-reporters-one"),
            root.getAttribute("data-plural-reporters-other")));
      } else if (el && back === "comment") {
        fetchArticle(el.getAttribute("data-entry-url"), "[data-entry]", el, null);
      } else if (el) {
        fetchArticle(el.getAttribute("data-entry-url"), "[data-entry]", el, null, {
          say: function () { announce(format(msg("new-entry"), { author: comment.author || "—" })); }
        });
      } else if (mayAdd) {
        addEntry(connection.slug, comment.id);
      }
    }

    function onDecision(connection, frame) {
      var decision = frame.decision || {};
      var kind = verdict(decision, userId);
      var what = label("actions", decision.action);
      var role = label("roles", decision.role);
      if (kind === "appeal") return onAppealAnswered(decision);
      var el = entryOf(decision.comment);
      if (!el || el.classList.contains("is-decided")) return;
      var text;
      if (kind === "yours") {
        if (submitting) return;
        text = format(msg("yours"), { action: what });
      } else if (kind === "decided") {
        text = format(msg("decided"), { role: role, action: what });
      } else {
        text = format(msg("acted"), { role: role, action: what });
      }
      // A comment decided for good has nothing more to show in a queue; on its own page,
      // or after a lock, a warning or a suspension, its current state is worth a look.
      markDecided(el, text, kind !== "decided" || back === "comment");
      announce(titleOf(el) + " — " + text);
    }

    function onAppealAnswered(decision) {
      if (String(decision.moderator) === String(userId) && submitting) return;
      toArray(document.querySelectorAll("[data-appeal]")).forEach(function (el) {
        if (el.classList.contains("is-decided") || el.getAttribute("data-status") !== "pending") return;
        var same = decision.comment
          ? el.getAttribute("data-comment") === String(decision.comment)
          : !el.getAttribute("data-comment") && el.getAttribute("data-subject") === String(decision.subject);
        if (!same) return;
        markDecided(el, msg("appeal-answered"), true);
        announce(titleOf(el) + " — " + msg("appeal-answered"));
      });
    }

    function onAppeal(connection, frame) {
      var appeal = frame.appeal || {};
      if (!appealsEl || !mayAdd || document.querySelector('[data-appeal="' + String(appeal.id) + '"]')) return;
      var url = appealUrl(root.getAttribute("data-appeal-url"), appeal.id);
      fetchArticle(url, "[data-appeal][data-decidable]", null, appealsEl, {
        say: function () { announce(msg("new-appeal")); }
      });
    }

    function onComment(connection, frame) {
      var comment = frame.comment || {};
      if (comment.event !== "edited") return;
      var el = entryOf(comment.id);
      var body = el && el.querySelector('[data-field="body"]');
      if (!body) return;
      while (body.firstChild) body.removeChild(body.firstChild);
      String(comment.body || "").split(/\n{2,}/).forEach(function (text) {
        var p = document.createElement("p");
        text.split("\n").forEach(function (line, index) {
          if (index) p.appendChild(document.createElement("br"));
          p.appendChild(document.createTextNode(line));
        });
        body.appendChild(p);
      });
      announce(format(msg("edited"), { author: comment.author || "—" }));
    }

    var handlers = {
      "moderation.snapshot": onSnapshot,
      "moderation.report": onReport,
      "moderation.decision": onDecision,
      "moderation.appeal": onAppeal,
      "moderation.comment": onComment
    };

    // --- connections (one per consultation shown)

    var connections = [];

    function showStatus() {
      var states = connections.map(function (c) { return c.state; });
      var name = states.indexOf("stopped") >= 0 ? "stopped"
        : states.indexOf("reconnecting") >= 0 ? "reconnecting"
        : states.indexOf("connecting") >= 0 ? "connecting" : "live";
      statusEl.hidden = false;
      statusEl.setAttribute("data-state", name);
      statusEl.textContent = msg(name);
    }

    function Connection(url) {
      var self = this;
      self.url = url;
      self.slug = slugOf(url);
      self.state = "connecting";
      var socket = null, last = null, attempt = 0, retryTimer = null, resyncTimer = null;
      var leaving = false;

      function requestSnapshot() {
        last = null;
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "resync" }));
        clearTimeout(resyncTimer);
        resyncTimer = setTimeout(requestSnapshot, RESYNC_RETRY_MS);
      }

      function receive(event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (error) { return; }
        if (!frame || typeof frame !== "object" || frame.stream !== "moderation") return;
        var action = seqAction(last, frame);
        if (action === "ignore") return;
        if (action === "resync") return requestSnapshot();
        if (action === "apply") last = frame.seq;
        if (frame.type === "moderation.snapshot") {
          clearTimeout(resyncTimer);
          attempt = 0;
          self.state = "live";
          showStatus();
        }
        var handler = Object.prototype.hasOwnProperty.call(handlers, frame.type) && handlers[frame.type];
        if (handler) handler(self, frame);
      }

      function connect() {
        retryTimer = null;
        last = null;
        var scheme = location.protocol === "https:" ? "wss://" : "ws://";
        try {
          socket = new WebSocket(scheme + location.host + url);
        } catch (error) {
          return reconnectLater();
        }
        var mine = socket;
        socket.addEventListener("message", receive);
        socket.addEventListener("close", function (event) {
          if (mine !== socket) return;
          socket = null;
          clearTimeout(resyncTimer);
          if (leaving) return;
          if (FINAL_CLOSE_CODES.indexOf(event.code) >= 0) {
            self.state = "stopped";
            return showStatus();
          }
          reconnectLater();
        });
      }

      function reconnectLater() {
        self.state = "reconnecting";
        showStatus();
        retryTimer = setTimeout(connect, backoffDelay(attempt, Math.random()));
        attempt += 1;
      }

      self.online = function () { if (retryTimer !== null) { clearTimeout(retryTimer); connect(); } };
      self.leave = function () {
        leaving = true;
        clearTimeout(retryTimer);
        retryTimer = null;
        if (socket) socket.close(1000);
      };
      self.back = function () { leaving = false; connect(); };
      connect();
    }

    // --- keyboard

    function select(article) {
      if (!article) return;
      if (current) current.classList.remove("is-current");
      current = article;
      article.classList.add("is-current");
      article.focus();
    }

    function move(step) {
      var list = articles();
      if (!list.length) return;
      var index = list.indexOf(current);
      if (index < 0) index = step > 0 ? -1 : list.length;
      select(list[Math.max(0, Math.min(list.length - 1, index + step))]);
    }

    function act(action) {
      if (!current || !current.hasAttribute("data-entry")) return announce(msg("no-entry"));
      var selector = action === "lock"
        ? 'button[data-action="lock"], button[data-action="unlock"]'
        : 'button[data-action="' + action + '"]';
      var button = current.querySelector(selector);
      if (!button || button.disabled) return;
      var rule = button.form && button.form.querySelector("select[name$='-rule']");
      if (rule && !rule.value) {
        rule.focus();
        return announce(msg("choose-rule"));
      }
      button.click();
    }

    var commands = {
      next: function () { move(1); },
      previous: function () { move(-1); },
      hide: function () { act("hide"); },
      dismiss: function () { act("dismiss"); },
      restore: function () { act("restore"); },
      lock: function () { act("lock"); },
      warn: function () { act("warn"); },
      note: function () {
        var note = current && current.querySelector("form textarea");
        if (note && !note.disabled) note.focus(); else if (!current) announce(msg("no-entry"));
      },
      help: function () {
        var help = document.getElementById("shortcuts");
        if (!help) return;
        help.open = !help.open;
        if (help.open) help.querySelector("summary").focus();
      }
    };

    document.addEventListener("keydown", function (event) {
      var command = shortcutFor(event);
      if (!command) return;
      event.preventDefault();
      commands[command]();
    });
    // Clicking or tabbing into an entry selects it for the keys.
    document.addEventListener("focusin", function (event) {
      var article = event.target && event.target.closest && event.target.closest("[data-entry], [data-appeal]");
      if (article && article !== current) {
        if (current) current.classList.remove("is-current");
        current = article;
        article.classList.add("is-current");
      }
    });
    document.addEventListener("submit", function () { submitting = true; });

    (root.getAttribute("data-moderation-streams") || "").split(/\s+/).forEach(function (url) {
      if (url) connections.push(new Connection(url));
    });
    showStatus();
    window.addEventListener("online", function () { connections.forEach(function (c) { c.online(); }); });
    window.addEventListener("pagehide", function () {
      submitting = false;
      connections.forEach(function (c) { c.leave(); });
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) connections.forEach(function (c) { c.back(); });
    });
  }

  var root = document.querySelector("[data-moderation-streams]");
  if (root && typeof WebSocket === "function") start(root);
})();
