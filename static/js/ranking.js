/* Ranking page, progressive enhancement (hand-written, no dependency).
 *
 * Without this script the page is a plain form: one <select name="rank_N"> per item.
 * With it, each row also gets "move up" / "move down" buttons (keyboard, switch
 * access, screen readers) and a handle to drag it (mouse, touch and pen through
 * pointer events). The script only reorders the rows and rewrites the selects'
 * values, so what is submitted is exactly what the plain form would submit.
 *
 * The rows are kept in ballot order: the first `count` rows are ranked 1..count,
 * the rest are "not ranked". Moving an unranked row up brings it into the ranking
 * (even the first row, when nothing is ranked yet); moving the last ranked row down
 * takes it out. Choosing a rank in a select puts the row at that place and renumbers
 * the others, so two rows never show the same rank.
 *
 * The keyboard model, for long lists (docs/decisions/0037-browser-tests.md): a search
 * field above the list shows only the items whose title holds what is typed, and Enter
 * there adds the first unranked one to the ranking; on a row's move buttons the up and
 * down arrow keys move the row; skip links (in the page, without JavaScript too) go
 * to the ranking and to the save button. Every move is announced in a polite live region.
 */
(function () {
  "use strict";

  var list = document.querySelector("[data-ranking]");
  if (!list) {
    return;
  }
  var size = parseInt(list.getAttribute("data-size"), 10) || 1;
  var status = document.querySelector("[data-ranking-status]");

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll(".ranking-row"));
  }

  function selectOf(row) {
    return row.querySelector("select");
  }

  function titleOf(row) {
    var label = row.querySelector("label");
    return label ? label.textContent.trim().replace(/\s*:$/, "") : "";
  }

  function rankOf(row) {
    var value = parseInt(selectOf(row).value, 10);
    return isNaN(value) ? null : value;
  }

  // The rows in the order their selects say (ranked first, ties kept in page order).
  function readState() {
    var entries = rows().map(function (row, index) {
      return { row: row, rank: rankOf(row), index: index };
    });
    entries.sort(function (a, b) {
      var ra = a.rank === null ? Infinity : a.rank;
      var rb = b.rank === null ? Infinity : b.rank;
      if (ra !== rb) {
        return ra < rb ? -1 : 1;
      }
      return a.index - b.index;
    });
    var count = entries.filter(function (entry) { return entry.rank !== null; }).length;
    return {
      order: entries.map(function (entry) { return entry.row; }),
      count: Math.min(count, size)
    };
  }

  var current = { order: [], count: 0 };

  function writeState(state) {
    current = state;
    state.order.forEach(function (row, index) {
      list.appendChild(row);
      selectOf(row).value = index < state.count ? String(index + 1) : "";
    });
    refreshButtons(state);
  }

  function refreshButtons(state) {
    state.order.forEach(function (row, index) {
      var up = row.querySelector("[data-move='-1']");
      var down = row.querySelector("[data-move='1']");
      // aria-disabled rather than disabled: the focused button keeps its focus. An
      // unranked first row can still move up: that ranks it.
      up.setAttribute("aria-disabled", index === 0 && index < state.count ? "true" : "false");
      down.setAttribute("aria-disabled", index >= state.count ? "true" : "false");
    });
  }

  function announce(row) {
    if (!status) {
      return;
    }
    var rank = rankOf(row);
    var template = rank === null
      ? list.getAttribute("data-msg-unranked")
      : list.getAttribute("data-msg-rank");
    status.textContent = template
      .replace("%(title)s", titleOf(row))
      .replace("%(rank)s", rank === null ? "" : String(rank));
  }

  function move(row, direction) {
    var state = readState();
    var order = state.order;
    var index = order.indexOf(row);
    if (direction < 0) {
      if (index === 0 && state.count > 0) {
        return false; // already first in the ranking
      }
      if (index >= state.count) {
        // Into the ranking, at its end; when it is full, in place of the last one.
        order.splice(index, 1);
        order.splice(state.count, 0, row);
        if (state.count < size) {
          state.count += 1;
        } else {
          order.splice(state.count, 1);
          order.splice(state.count - 1, 0, row);
        }
      } else {
        order.splice(index, 1);
        order.splice(index - 1, 0, row);
      }
    } else {
      if (index >= state.count) {
        return false;
      }
      if (index === state.count - 1) {
        state.count -= 1; // out of the ranking
      } else {
        order.splice(index, 1);
        order.splice(index + 1, 0, row);
      }
    }
    writeState(state);
    announce(row);
    return true;
  }

  function button(direction, label, title) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "secondary move-button";
    element.setAttribute("data-move", String(direction));
    var arrow = document.createElement("span");
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = direction < 0 ? "↑ " : "↓ ";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ": " + title;
    element.appendChild(arrow);
    element.appendChild(document.createTextNode(label));
    element.appendChild(hidden);
    return element;
  }

  // --- Set up ---------------------------------------------------------------
  rows().forEach(function (row) {
    var title = titleOf(row);
    var controls = document.createElement("div");
    controls.className = "ranking-controls";
    var handle = document.createElement("span");
    handle.className = "drag-handle";
    handle.setAttribute("aria-hidden", "true");
    handle.setAttribute("title", list.getAttribute("data-label-handle"));
    handle.textContent = "⠿";
    controls.appendChild(handle);
    controls.appendChild(button(-1, list.getAttribute("data-label-up"), title));
    controls.appendChild(button(1, list.getAttribute("data-label-down"), title));
    row.insertBefore(controls, row.firstChild);
  });
  list.classList.add("is-enhanced");
  writeState(readState());

  list.addEventListener("click", function (event) {
    var target = event.target.closest("[data-move]");
    if (!target || target.getAttribute("aria-disabled") === "true") {
      return;
    }
    var row = target.closest(".ranking-row");
    if (move(row, parseInt(target.getAttribute("data-move"), 10))) {
      // Moving the row in the DOM drops the focus: give it back to the same button,
      // or to its sibling when this one can no longer act.
      var again = row.querySelector("[data-move='" + target.getAttribute("data-move") + "']");
      var other = row.querySelector("[data-move='" + -parseInt(target.getAttribute("data-move"), 10) + "']");
      (again.getAttribute("aria-disabled") === "true" ? other : again).focus();
    }
  });

  // A rank chosen in a select: the row goes to that place, the others close up behind
  // it (and the last one leaves a full ranking); "not ranked" takes it out.
  function choose(row) {
    var chosen = rankOf(row);
    var order = current.order.slice();
    var index = order.indexOf(row);
    var ranked = current.count - (index >= 0 && index < current.count ? 1 : 0);
    if (index >= 0) {
      order.splice(index, 1);
    }
    var count = ranked;
    var place = ranked;
    if (chosen !== null) {
      place = Math.min(chosen - 1, ranked);
      count = Math.min(ranked + 1, size);
    }
    order.splice(place, 0, row);
    writeState({ order: order, count: count });
    announce(row);
  }

  list.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") {
      var select = event.target;
      choose(select.closest(".ranking-row"));
      // Moving the row in the page drops the focus: give it back.
      select.focus();
    }
  });

  // Arrow keys on a row's move buttons move the row, the focus staying on the button.
  list.addEventListener("keydown", function (event) {
    var target = event.target.closest ? event.target.closest("[data-move]") : null;
    if (!target || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) {
      return;
    }
    event.preventDefault();
    var direction = event.key === "ArrowUp" ? -1 : 1;
    var row = target.closest(".ranking-row");
    if (move(row, direction)) {
      var again = row.querySelector("[data-move='" + target.getAttribute("data-move") + "']");
      again.focus();
    }
  });

  // --- Finding an item by typing --------------------------------------------------
  var finder = document.querySelector("[data-ranking-finder]");
  if (finder) {
    var input = finder.querySelector("input");
    finder.hidden = false;
    var matching = function () {
      var words = input.value.trim().toLocaleLowerCase();
      return rows().filter(function (row) {
        return !words || titleOf(row).toLocaleLowerCase().indexOf(words) !== -1;
      });
    };
    input.addEventListener("input", function () {
      var shown = matching();
      rows().forEach(function (row) {
        row.hidden = shown.indexOf(row) === -1;
      });
      if (status) {
        status.textContent = finder.getAttribute("data-msg-found").replace("%(count)s", String(shown.length));
      }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") {
        return;
      }
      event.preventDefault(); // never submits the form half-made
      var state = readState();
      var candidates = matching().filter(function (row) {
        return state.order.indexOf(row) >= state.count;
      });
      if (!candidates.length || !input.value.trim()) {
        return;
      }
      var row = candidates[0];
      var order = state.order.slice();
      order.splice(order.indexOf(row), 1);
      var count = Math.min(state.count + 1, size);
      order.splice(count - 1, 0, row);
      writeState({ order: order, count: count });
      announce(row);
      input.value = "";
      rows().forEach(function (each) {
        each.hidden = false;
      });
    });
  }

  // --- Dragging (pointer events: mouse, touch, pen) -----------------------------
  var drag = null;

  list.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest(".drag-handle");
    if (!handle || (event.pointerType === "mouse" && event.button !== 0)) {
      return;
    }
    event.preventDefault();
    var state = readState();
    writeState(state);
    var row = handle.closest(".ranking-row");
    drag = {
      row: row,
      handle: handle,
      wasRanked: state.order.indexOf(row) < state.count,
      count: state.count
    };
    handle.setPointerCapture(event.pointerId);
    row.classList.add("is-dragging");
  });

  list.addEventListener("pointermove", function (event) {
    if (!drag) {
      return;
    }
    var under = document.elementFromPoint(event.clientX, event.clientY);
    var target = under && under.closest(".ranking-row");
    if (!target || target === drag.row || target.parentNode !== list) {
      return;
    }
    var box = target.getBoundingClientRect();
    var before = event.clientY < box.top + box.height / 2;
    list.insertBefore(drag.row, before ? target : target.nextSibling);
  });

  function endDrag() {
    if (!drag) {
      return;
    }
    var row = drag.row;
    var order = rows();
    var index = order.indexOf(row);
    var others = drag.count - (drag.wasRanked ? 1 : 0);
    var count = index <= others ? Math.min(size, others + 1) : others;
    row.classList.remove("is-dragging");
    drag = null;
    writeState({ order: order, count: count });
    announce(row);
  }

  list.addEventListener("pointerup", endDrag);
  list.addEventListener("pointercancel", endDrag);
})();
