/* The menu's unread notices counter, live (hand-written, no dependency).
 *
 * Loaded on every page for signed-in people. Without it the counter is the one the page
 * was rendered with. With it, the page follows the person's own stream, ws/me/
 * (docs/realtime.md), whose every frame is {"type": "notices.unread", "stream":
 * "personal", "unread": n, "order": k}: the first one on each connection, then one on
 * every change (a new notice, notices marked read, in any tab). Two changes close
 * together send frames that may cross on their way: `order` is taken before the count is
 * read, so the frame with the larger one holds the newer count, and an older frame that
 * arrives last is not shown. The menu link carries the stream's
 * address and every text shown, translated by the page:
 *   data-notices-url                 the stream's path
 *   data-notices-unread              the count the page was rendered with
 *   data-msg-unread-one / -other     the hidden word after the number ("unread")
 *   data-msg-new-one / -other        the polite announcement of a new notice, rendered
 *                                    for 1 and 2 ("A new notification: 2 unread.")
 * The number and that word, inside [data-notices-count], are the link's accessible name;
 * a new notice is also said in the polite live region [data-notices-announce]. A count
 * that goes down (read in another tab) is shown without a word.
 *
 * Loaded by node (tests/js/notices.test.mjs), the file exports its pure parts instead.
 */
(function () {
  "use strict";

  // Signed out, no such stream, suspended: retrying cannot help.
  var FINAL_CLOSE_CODES = [4403, 4404, 4408];

  // --- Pure logic ----------------------------------------------------------------------

  // The unread count a frame gives, or null when it is not an unread-count frame.
  function unreadOf(frame) {
    if (!frame || typeof frame !== "object") return null;
    if (frame.type !== "notices.unread" || frame.stream !== "personal") return null;
    var n = frame.unread;
    return typeof n === "number" && isFinite(n) && n >= 0 && Math.floor(n) === n ? n : null;
  }

  // What a new count means, given the one shown: whether to redraw, and to say it.
  function change(shown, unread) {
    return { redraw: unread !== shown, announce: unread > shown };
  }

  // Whether a frame numbered `order` is newer than the last one kept (`last`, null at the
  // start of a connection). An unnumbered frame is taken as it comes.
  function isNewer(order, last) {
    if (typeof order !== "number" || last === null) return true;
    return order > last;
  }

  // Delay before reconnection attempt number `attempt` (0 first): 1 s, 2 s, 4 s…
  // capped at 30 s, times a random factor in [0.5, 1.5) so clients do not return in step.
  function backoffDelay(attempt, random) {
    return Math.round(Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + random));
  }

  // `one` and `other` are the server's renderings for 1 and 2: the language's plural rules
  // pick one, and the count replaces its number (if it has one).
  function plural(lang, n, one, other) {
    var category = typeof Intl !== "undefined" && Intl.PluralRules
      ? new Intl.PluralRules(lang).select(n)
      : n === 1 ? "one" : "other";
    return String((category === "one" ? one : other) || "").replace(/\d+/, String(n));
  }

  var pure = {
    unreadOf: unreadOf, change: change, isNewer: isNewer, backoffDelay: backoffDelay, plural: plural,
  };
  if (typeof module === "object" && module.exports) {
    module.exports = pure;
    return;
  }

  // --- The page ------------------------------------------------------------------------

  function start(link) {
    var lang = document.documentElement.lang || "fr";
    var countEl = link.querySelector("[data-notices-count]");
    var regionEl = document.querySelector("[data-notices-announce]");
    var shown = parseInt(link.getAttribute("data-notices-unread"), 10) || 0;
    var socket = null, attempt = 0, retryTimer = null, leaving = false;
    var lastOrder = null; // the `order` of the last frame kept, on this connection

    function msg(name) { return link.getAttribute("data-msg-" + name) || ""; }

    // " (3<span class="visually-hidden"> unread</span>)", as the server renders it; nothing at 0.
    function draw(n) {
      while (countEl.firstChild) countEl.removeChild(countEl.firstChild);
      if (n <= 0) return;
      var word = document.createElement("span");
      word.className = "visually-hidden";
      word.textContent = " " + plural(lang, n, msg("unread-one"), msg("unread-other"));
      countEl.appendChild(document.createTextNode(" (" + n));
      countEl.appendChild(word);
      countEl.appendChild(document.createTextNode(")"));
    }

    function receive(event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      var unread = unreadOf(frame);
      if (unread === null) return;
      attempt = 0; // this connection works: the next outage starts over at 1 s
      if (!isNewer(frame.order, lastOrder)) return; // an older count, overtaken on its way
      if (typeof frame.order === "number") lastOrder = frame.order;
      var what = change(shown, unread);
      shown = unread;
      if (what.redraw) draw(unread);
      if (what.announce && regionEl) regionEl.textContent = plural(lang, unread, msg("new-one"), msg("new-other"));
    }

    function connect() {
      retryTimer = null;
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      try {
        socket = new WebSocket(scheme + location.host + link.getAttribute("data-notices-url"));
      } catch (error) {
        return reconnectLater();
      }
      var current = socket;
      lastOrder = null; // a new connection: its numbers may start over (its first frame counts)
      socket.addEventListener("message", receive);
      socket.addEventListener("close", function (event) {
        if (current !== socket) return; // an earlier socket, closed on leaving the page
        socket = null;
        if (leaving || FINAL_CLOSE_CODES.indexOf(event.code) >= 0) return;
        reconnectLater();
      });
    }

    function reconnectLater() {
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

    connect();
  }

  var link = document.querySelector("[data-notices-url]");
  if (link && link.querySelector("[data-notices-count]") && typeof WebSocket === "function") start(link);
})();
