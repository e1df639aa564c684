/* Operator console: the queue pushed over the websocket, one card per comment or cluster, actions over
   POST /api/actions, keyboard shortcuts for the selected (by default the top) card. */
"use strict";

(function () {
  var el = LC.el;
  var room = LC.roomParam();
  var items = {};          // id -> item (as last pushed)
  var order = [];          // visible open items, most urgent first
  var recent = [];         // recently handled item ids
  var cards = {};          // id -> card element
  var drafts = {};         // id -> edited reply text
  var coupons = [];
  var clockOffset = 0;     // server now - browser now (seconds)
  var selected = null;     // selected item id
  var editing = null;      // card whose editor (reply, ticket note, ban confirmation) has focus: frozen
  var missed = 0;          // pushes that arrived while a card was frozen
  var me = { name: "" };
  var view = "all";        // 全部 / 我的 / 未分配
  var modPicked = {};      // moderation cards ticked for a bulk action
  var takenNotice = {};    // cards whose take-over by someone else was already announced
  var socket = null;

  function now() { return Date.now() / 1000 + clockOffset; }

  function act(id, kind, extra) {
    var item = items[id];
    if (!item) return Promise.resolve(false);
    var body = { room: room || null, item_id: id, kind: kind };
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    return LC.api("/api/actions", { method: "POST", json: body }).then(function (r) {
      if (!r.ok && kind === "send" && r.status === 422 && r.data && r.data.terms && !body.force_terms) {
        // an error-level term (广告法, 禁忌语): the operator may still send it, and that is recorded
        if (window.confirm(r.data.message + "\n确认强制发送？（将记录在质检表）")) {
          return act(id, kind, Object.assign({}, extra, { force_terms: true }));
        }
        LC.toast(r.data.message, "error");
        return false;
      }
      if (!r.ok) { LC.toast((r.data && r.data.message) || "操作失败", "error"); return false; }
      var done = {
        take: "已接手", takeover: "已接管", send: "已提交发送", copy: "已复制", dismiss: "已忽略", escalate: "已转工单",
        issue_coupon: "优惠券已发放", approve_coupon: "优惠券已批准发放", mute: "已禁言", ban: "已封禁",
        pin: r.data && r.data.pinned ? "已置顶到主播视图" : "已取消置顶",
        resolve: "已标记", satisfaction: "已标记"
      };
      var msg = done[kind] || "完成";
      if ((kind === "resolve" || kind === "satisfaction") && MARK_ZH[body.note]) msg = "已标记：" + MARK_ZH[body.note];
      if (kind === "send" && r.data && r.data.members > 1) msg = "已回复全部 " + r.data.members + " 人";
      LC.toast(msg, "ok");
      if (kind === "send" || kind === "copy" || kind === "dismiss" || kind === "escalate") delete drafts[id];
      return true;
    });
  }

  function replyText(id) {
    if (drafts[id] !== undefined) return drafts[id];
    var s = items[id] && items[id].suggestion;
    return s ? s.reply : "";
  }

  function copyReply(id) {
    var text = replyText(id);
    var done = function () { act(id, "copy", { text: text }); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, done);
    } else {
      done();
    }
  }

  function slaClass(item) {
    if (!item.sla_deadline) return "sla-none";
    var total = Math.max(1, item.sla_deadline - item.created_at);
    var left = item.sla_deadline - now();
    if (left < 0) return "sla-breach";
    if (left < total / 2) return "sla-warn";
    return "sla-ok";
  }

  function slaText(item) {
    var age = now() - item.created_at;
    if (!item.sla_deadline) return "已等 " + LC.fmtSeconds(age);
    var left = item.sla_deadline - now();
    return "已等 " + LC.fmtSeconds(age) + (left < 0 ? " · 超时 " + LC.fmtSeconds(-left) : " · 剩 " + LC.fmtSeconds(left));
  }

  function chip(text, cls) { return el("span", { class: "chip " + (cls || "") }, text); }

  function buildCard(item) {
    var id = item.id;
    var isMod = item.queue === "mod";
    var isCluster = item.kind === "cluster";
    var tier = LC.TIER[item.member_tier] || "";
    var many = isCluster && item.count > 1;  // a cluster of one reads like a single comment
    var who = many ? el("span", { class: "who muted" }, "代表：") :
      el("span", { class: "who" }, el("span", { class: "nick", dataset: { uid: item.user_id || "" }, title: "查看观众" }, item.nickname), tier ? chip(tier, "tier tier-" + item.member_tier) : null, "：");
    var body = el("p", { class: "text", title: item.text }, who, el("span", { class: "comment-text" }, item.text));
    if (isMod && item.spam_reason) body.appendChild(el("small", { class: "muted reason" }, " 原因：" + item.spam_reason));
    var head = el("div", { class: "card-head" },
      el("span", { class: "prio prio-" + item.priority }, item.priority === "mod" ? "审核" : item.priority),
      chip(LC.INTENT[item.intent] || item.intent, "intent"),
      item.sentiment !== "neu" ? chip(LC.SENTIMENT[item.sentiment] || item.sentiment, "sent-" + item.sentiment) : null,
      item.emotion ? chip(LC.EMOTION[item.emotion] || item.emotion, "emotion") : null,
      many ? el("span", { class: "count" }, "×" + item.count) : null,
      body,
      el("span", { class: "sla " + slaClass(item), dataset: { sla: "1" } }, slaText(item)),
      item.answered_before ? chip("此前已回复 " + item.answered_before + " 人", "answered") : null,
      item.pinned ? chip("已置顶", "pinned") : null,
      item.offered_to && !item.taken_by ? chip(item.offered_to === me.name ? "分配给我，请接手" : "已分配给 " + item.offered_to, "offered") : null,
      item.taken_by ? chip(item.taken_by === me.name ? "我在处理" : "由 " + item.taken_by + " 处理中", "taken") : null,
      isMod ? null : cardMarks(item)
    );
    if (isMod) {
      var pick = el("input", { type: "checkbox", class: "pick", "aria-label": "选择", title: "选择（批量操作）" });
      pick.checked = !!modPicked[id];
      pick.addEventListener("click", function (e) { e.stopPropagation(); });
      pick.addEventListener("change", function () { if (pick.checked) modPicked[id] = true; else delete modPicked[id]; renderBulk(); });
      head.insertBefore(pick, head.firstChild);
    }
    var members = null;
    if (many && item.members && item.members.length) {
      members = el("details", { class: "members" }, el("summary", null, "最新 " + item.members.length + " 条（共 " + item.count + " 条）"),
        el("ul", null, item.members.slice().reverse().map(function (m) {
          return el("li", null, el("span", { class: "nick", dataset: { uid: m.user_id || "" }, title: "查看观众" }, m.nickname), "：", m.text);
        })));
    }
    var sugg = item.suggestion;
    var editor = null;
    if (!isMod) {
      editor = el("textarea", { class: "reply", rows: "1", maxlength: "500", placeholder: "输入回复…", "aria-label": "回复内容",
        value: replyText(id) });
      editor.addEventListener("input", function () { drafts[id] = editor.value; });
    }
    var onAir = sugg && sugg.on_air ? el("p", { class: "on-air" }, "口播：", sugg.on_air) : null;
    if (sugg && !sugg.script_id && (sugg.why || [])[0] === "无匹配话术" && !isMod) {
      // no script answers: say so, and offer the closest scripts to pick (never an invented answer)
      onAir = el("div", { class: "no-match" }, el("strong", null, "无匹配话术"),
        (sugg.why || []).filter(function (w) { return w.indexOf("候选 ") === 0; }).map(function (w) {
          var cut = w.indexOf("：");
          var reply = cut >= 0 ? w.slice(cut + 1) : w;
          return el("button", { type: "button", class: "btn small candidate", title: reply,
            on: { click: function (e) { e.stopPropagation(); drafts[id] = reply; if (editor) editor.value = reply; } } },
            w.slice(3, cut >= 0 ? cut : w.length));
        }));
    }
    var couponLine = null;
    if (item.coupon && item.coupon.status) {
      couponLine = el("p", { class: "coupon-status " + item.coupon.status },
        item.coupon.status === "issued" ? "已发券：" + (item.coupon.name || item.coupon.rule_id) : "发券失败：" + (item.coupon.reason || ""));
    }
    var btn = function (label, key, kind, handler, cls) {
      return el("button", { type: "button", class: "btn small " + (cls || ""), title: key ? "快捷键 " + key : null,
        dataset: { act: kind }, on: { click: function (e) { e.stopPropagation(); select(id); handler(); } } },
        label, key ? el("kbd", null, key) : null);
    };
    var actions = el("div", { class: "actions" });
    if (!item.taken_by) actions.appendChild(btn("接手", "T", "take", function () { act(id, "take"); }));
    else if (item.taken_by !== me.name) actions.appendChild(btn("接管", null, "takeover", function () { act(id, "takeover"); }, "warn"));
    if (!isMod) {
      actions.appendChild(btn(isCluster ? "回复全部" : "发送", "S", "send", function () { sendReply(id); }, "primary"));
      actions.appendChild(btn("复制", "C", "copy", function () { copyReply(id); }));
      if (sugg && sugg.coupon_rule_id && !isCluster) {
        actions.appendChild(btn("批准券 " + couponName(sugg.coupon_rule_id), "A", "approve_coupon", function () {
          act(id, "approve_coupon", { coupon_rule_id: sugg.coupon_rule_id });
        }));
      }
      if (!isCluster && coupons.length) {
        actions.appendChild(btn("发券…", null, "coupon_menu", function () { openCoupons(id); }));
      }
    }
    if (isCluster) {
      actions.appendChild(btn(item.pinned ? "取消置顶" : "置顶主播", "P", "pin", function () { act(id, "pin"); }, item.pinned ? "active" : ""));
    }
    actions.appendChild(btn(isCluster ? "全部忽略" : "忽略", "D", "dismiss", function () { act(id, "dismiss"); }));
    actions.appendChild(btn("工单", "X", "escalate", function () { openTicket(id); }));
    if (!isCluster) {
      actions.appendChild(btn("禁言", "M", "mute", function () { act(id, "mute"); }, "warn"));
      actions.appendChild(btn("封禁", "B", "ban", function () { confirmBan(id); }, "danger"));
    }
    var editRow = el("div", { class: "card-edit" }, editor, actions);
    var couponMenu = null;
    if (!isMod && !isCluster && coupons.length) {
      var sel = el("select", { class: "coupon-select", "aria-label": "选择优惠券" },
        el("option", { value: "" }, "选择要发的券…"),
        coupons.map(function (c) { return el("option", { value: c.id }, c.name + (c.text ? "（" + c.text + "）" : "")); }));
      sel.addEventListener("change", function () {
        if (sel.value) act(id, "issue_coupon", { coupon_rule_id: sel.value });
        sel.value = "";
        couponMenu.classList.add("hidden");
      });
      couponMenu = el("div", { class: "coupon-menu hidden" }, sel);
    }
    var ticket = el("form", { class: "ticket hidden" },
      el("input", { type: "text", maxlength: "500", placeholder: "工单备注（必填，Ctrl+Enter 提交）", "aria-label": "工单备注" }),
      el("button", { type: "submit", class: "btn small" }, "提交工单"));
    ticket.addEventListener("submit", function (e) { e.preventDefault(); submitTicket(id); });
    var confirm = el("div", { class: "confirm hidden", role: "alertdialog", "aria-label": "确认封禁" },
      el("span", null, "确认封禁 ", el("span", { class: "confirm-nick" }, item.nickname || ""), "？其弹幕将不再进入队列"),
      el("button", { type: "button", class: "btn small danger", dataset: { confirm: "ban" },
        on: { click: function (e) { e.stopPropagation(); closeConfirm(id); act(id, "ban"); } } }, "确认封禁"),
      el("button", { type: "button", class: "btn small", dataset: { confirm: "cancel" },
        on: { click: function (e) { e.stopPropagation(); closeConfirm(id); } } }, "取消"));
    var delivery = null;
    if (item.delivery && item.delivery.status) {
      delivery = el("p", { class: "delivery d-" + item.delivery.status },
        LC.DELIVERY[item.delivery.status] || item.delivery.status,
        item.delivery.attempts ? "（第 " + item.delivery.attempts + " 次）" : "",
        item.delivery.error ? " · " + item.delivery.error : "");
    }
    var card = el("article", { class: "card" + (isMod ? " card-mod" : "") + (item.taken_by && item.taken_by !== me.name ? " taken-other" : ""),
      tabindex: "-1", dataset: { id: id, priority: item.priority } },
      head, members, onAir, editRow, couponMenu, couponLine, delivery, ticket, confirm);
    card.addEventListener("click", function () { select(id); });
    return card;
  }

  function openCoupons(id) {
    var menu = cards[id] && cards[id].querySelector(".coupon-menu");
    if (!menu) return;
    menu.classList.toggle("hidden");
    if (!menu.classList.contains("hidden")) menu.querySelector("select").focus();
  }

  function couponName(ruleId) {
    for (var i = 0; i < coupons.length; i++) if (coupons[i].id === ruleId) return coupons[i].name;
    return ruleId;
  }

  function sendReply(id) {
    var ta = cards[id] && cards[id].querySelector("textarea.reply");
    var text = (ta ? ta.value : replyText(id)).trim();
    if (!text) { LC.toast("回复内容为空", "error"); return; }
    act(id, "send", { text: text }).then(function (ok) { if (ok) leaveCard(id); });
  }

  function openTicket(id) {
    var card = cards[id];
    if (!card) return;
    var form = card.querySelector(".ticket");
    form.classList.remove("hidden");
    form.querySelector("input").focus();
  }

  function submitTicket(id) {
    var card = cards[id];
    var input = card && card.querySelector(".ticket input");
    var note = input ? input.value.trim() : "";
    if (!note) { LC.toast("请填写工单备注", "error"); return; }
    act(id, "escalate", { note: note }).then(function (ok) { if (ok) leaveCard(id); });
  }

  // Ban asks first: an inline confirmation in the card (its buttons hold the focus, so the card is frozen).
  function confirmBan(id) {
    var card = cards[id];
    if (!card || !items[id] || items[id].kind !== "single") return;
    var box = card.querySelector(".confirm");
    box.classList.remove("hidden");
    box.querySelector("[data-confirm=cancel]").focus();
  }

  function closeConfirm(id) {
    var card = cards[id];
    var box = card && card.querySelector(".confirm");
    if (!box) return;
    box.classList.add("hidden");
    if (box.contains(document.activeElement)) document.activeElement.blur();
  }

  // -- safe editing: while an editor of a card has focus, that card is never rebuilt or moved (its column is
  //    not re-rendered at all), its item is kept even if it left the pushed list, and shortcuts are off.
  function editorCard(node) {
    if (!node || !node.closest) return null;
    if (!node.matches("textarea.reply, .ticket input, .confirm button, .coupon-menu select")) return null;
    var card = node.closest(".card");
    return card ? card.dataset.id : null;
  }

  document.addEventListener("focusin", function (e) {
    var id = editorCard(e.target);
    if (id) { editing = id; select(id); }
  });

  document.addEventListener("focusout", function (e) {
    var card = editing && cards[editing];
    if (!card || !card.contains(e.target)) return;
    if (e.relatedTarget && card.contains(e.relatedTarget)) return;  // focus moves within the card (its buttons)
    var id = editing;
    setTimeout(function () {
      var active = document.activeElement;
      if (editing !== id || (active && card.contains(active))) return;
      editing = null;
      render();
    }, 0);
  });

  function leaveCard(id) {
    var card = cards[id];
    var active = document.activeElement;
    if (card && active && card.contains(active)) active.blur();
  }

  function buildRecent(item) {
    var d = item.delivery && item.delivery.status;
    return el("div", { class: "recent-row", dataset: { id: item.id } },
      el("span", { class: "prio prio-" + item.priority }, item.priority === "mod" ? "审核" : item.priority),
      el("span", { class: "recent-status" }, LC.STATUS[item.status] || item.status),
      d ? el("span", { class: "delivery d-" + d }, LC.DELIVERY[d] || d) : null,
      el("span", { class: "recent-text" }, (item.kind === "cluster" ? "×" + item.count + " " : item.nickname + "：") + item.text),
      item.taken_by ? el("small", { class: "muted" }, " · " + item.taken_by) : null,
      item.queue === "mod" ? null : markButtons(item)
    );
  }

  // On an open card: close it as 已解决 (R) / 未解决 (U); 满意 (Y) / 不满意 (N) where the viewers already got an
  // answer (a reply sent on this card, or earlier members of the cluster answered). Recorded as actions; the
  // live panel's 问题解决率 counts them.
  var MARK_ZH = { resolved: "已解决", unresolved: "未解决", satisfied: "满意", unsatisfied: "不满意" };
  var CARD_MARKS = [["resolve", "resolved", "R", "good"], ["resolve", "unresolved", "U", "bad"],
    ["satisfaction", "satisfied", "Y", "good"], ["satisfaction", "unsatisfied", "N", "bad"]];

  function satisfactionApplies(item) {
    return item.queue !== "mod" && ((item.delivery && item.delivery.status === "sent") || item.answered_before > 0);
  }

  function markCard(id, kind, note) {
    var item = items[id];
    if (!item || item.queue === "mod") return;
    if (kind === "satisfaction" && !satisfactionApplies(item)) return;
    act(id, kind, { note: note });
  }

  function cardMarks(item) {
    var marks = item.marks || {};
    var shown = CARD_MARKS.filter(function (m) { return m[0] === "resolve" || satisfactionApplies(item); });
    return el("span", { class: "mark-btns card-marks", role: "group", "aria-label": "结案标记" }, shown.map(function (m) {
      var on = marks[m[0]] === m[1];
      return el("button", {
        type: "button", class: "mark " + m[3] + (on ? " on" : ""), title: "快捷键 " + m[2],
        "aria-pressed": on ? "true" : "false", dataset: { act: "mark", mark: m[1] },
        on: { click: function (e) { e.stopPropagation(); select(item.id); markCard(item.id, m[0], m[1]); } }
      }, MARK_ZH[m[1]], el("kbd", null, m[2]));
    }));
  }

  // 已解决/未解决 and 满意/不满意 on a handled card (the last mark counts; the live panel shows the rates)
  var MARKS = [["resolve", "resolved", "已解决", "good"], ["resolve", "unresolved", "未解决", "bad"],
    ["satisfaction", "satisfied", "满意", "good"], ["satisfaction", "unsatisfied", "不满意", "bad"]];
  function markButtons(item) {
    var marks = item.marks || {};
    return el("span", { class: "mark-btns" }, MARKS.map(function (m) {
      var on = marks[m[0]] === m[1];
      return el("button", {
        type: "button", class: "mark " + m[3] + (on ? " on" : ""), dataset: { mark: m[1] },
        on: { click: function () { act(item.id, m[0], { note: m[1] }); } }
      }, m[2]);
    }));
  }

  function fmtRate(r) {
    return r.rate === null || r.rate === undefined ? "—" : Math.round(r.rate * 100) + "%（" + r.good + "/" + r.marked + "）";
  }

  function select(id) {
    if (selected === id) return;
    selected = id;
    Object.keys(cards).forEach(function (k) { cards[k].classList.toggle("selected", k === selected); });
  }

  // Put the elements of ids in order under parent, rebuilding only those whose item changed (built by build,
  // kept in cache: id -> element). An element already in its place is not touched: moving a node, even to where
  // it already is, between a mouse press and its release makes the browser drop the click — and the room pushes
  // up to console.max_push_per_s (40) updates a second, so re-appending every card made buttons unclickable with the mouse in a burst.
  function placeKeyed(parent, ids, cache, build) {
    var at = parent.firstElementChild;
    ids.forEach(function (id) {
      var item = items[id];
      if (!item) return;
      var node = cache[id];
      if (!node || node._ver !== item.ver) {
        var fresh = build(item);
        fresh._ver = item.ver;
        if (node) {
          if (node === at) at = fresh;
          node.replaceWith(fresh);
        }
        cache[id] = node = fresh;
      }
      if (node === at) at = at.nextElementSibling;
      else parent.insertBefore(node, at);  // moves it into order
    });
  }

  function renderColumn(parent, ids) { placeKeyed(parent, ids, cards, buildCard); }

  var recentRows = {};     // id -> row of 最近处理 (rebuilt only when its item changes, like the cards)
  function renderRecent() {
    var rec = document.getElementById("recent");
    var shown = {};
    recent.forEach(function (id) { if (items[id]) shown[id] = true; });
    Object.keys(recentRows).forEach(function (id) {
      if (!shown[id]) { recentRows[id].remove(); delete recentRows[id]; }
    });
    placeKeyed(rec, recent, recentRows, buildRecent);
  }

  // -- pointer pause: while the mouse moves over a column, arrivals do not slide its cards under the pointer
  //    (in a raid a press would land on the neighbouring card: the wrong viewer muted). The column resumes when
  //    the pointer leaves it, on the operator's own click or key press (its result shows at once), or
  //    HOVER_PAUSE_MS after the last movement (a mouse left resting on the queue does not freeze it).
  var HOVER_PAUSE_MS = 4000;
  var hoverCol = null, hoverAt = 0, hoverTimer = null;
  function hovered() { return hoverCol && Date.now() - hoverAt < HOVER_PAUSE_MS ? hoverCol : null; }
  ["queue", "modqueue"].forEach(function (colId) {
    var col = document.getElementById(colId);
    col.addEventListener("pointermove", function (e) {
      if (e.pointerType && e.pointerType !== "mouse") return;
      hoverCol = col;
      hoverAt = Date.now();
      clearTimeout(hoverTimer);
      hoverTimer = setTimeout(render, HOVER_PAUSE_MS + 50);
    });
    col.addEventListener("pointerleave", function () {
      if (hoverCol !== col) return;
      hoverCol = null;
      render();
    });
    col.addEventListener("click", function () { hoverAt = 0; }, true);
  });
  // a key pressed means the operator works with the keyboard (J/K, D, S…), not aiming with the mouse: the
  // columns show the results of those shortcuts at once
  document.addEventListener("keydown", function () { hoverAt = 0; }, true);

  function render() {
    var queue = document.getElementById("queue");
    var modq = document.getElementById("modqueue");
    var frozen = [];
    if (editing && cards[editing]) frozen.push(cards[editing].parentNode === modq ? modq : queue);
    var hover = hovered();
    if (hover && frozen.indexOf(hover) < 0) frozen.push(hover);
    if (frozen.length) missed++;
    var replies = [], mods = [];
    order.forEach(function (id) { if (items[id]) (items[id].queue === "mod" ? mods : replies).push(id); });
    var keep = {};
    order.forEach(function (id) { keep[id] = true; });
    Object.keys(cards).forEach(function (id) {
      if (!keep[id] && frozen.indexOf(cards[id].parentNode) < 0) { cards[id].remove(); delete cards[id]; }
    });
    if (frozen.indexOf(queue) < 0) renderColumn(queue, replies);
    if (frozen.indexOf(modq) < 0) renderColumn(modq, mods);
    if (!frozen.length) missed = 0;
    var note = document.getElementById("q-frozen");
    if (editing && cards[editing]) {
      note.textContent = "编辑中：队列暂停刷新（" + missed + " 次更新待显示），按 Esc 或提交后恢复";
    } else if (hover) {
      note.textContent = "鼠标停在" + hover.dataset.name + "上：暂停刷新（" + missed + " 次更新待显示），移开鼠标后恢复";
    } else {
      note.textContent = "";
    }
    note.classList.toggle("hidden", !frozen.length);
    if (!editing && (!selected || !cards[selected])) selected = order.length ? order[0] : null;
    Object.keys(cards).forEach(function (k) { cards[k].classList.toggle("selected", k === selected); });
    LC.setText("q-count", replies.length ? "（" + replies.length + "）" : "");
    document.getElementById("q-empty").classList.toggle("hidden", order.length > 0);
    renderRecent();
  }

  // -- optional alert for a new P0 card: a short tone and, if allowed, a desktop notification (at most one
  //    every few seconds); the choice is remembered in this browser
  var seenP0 = null;
  var lastBell = 0;
  var bellOn = window.localStorage && localStorage.getItem("livecs.bell") === "1";

  function renderBell() {
    var b = document.getElementById("bell");
    b.textContent = bellOn ? "新P0提醒：开" : "新P0提醒：关";
    b.classList.toggle("active", bellOn);
  }

  function ring(item) {
    var t = Date.now();
    if (t - lastBell < 5000) return;
    lastBell = t;
    document.body.dataset.p0Alerts = String((+document.body.dataset.p0Alerts || 0) + 1);
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
    } catch (e) { /* no audio: the notification is enough */ }
    if (window.Notification && Notification.permission === "granted") {
      new Notification("新 P0：" + (LC.INTENT[item.intent] || ""), { body: item.text, tag: "livecs-p0" });
    }
  }

  function checkNewP0() {
    var now0 = {};
    order.forEach(function (id) { if (items[id] && items[id].priority === "P0") now0[id] = true; });
    if (seenP0 !== null && bellOn) {
      var fresh = Object.keys(now0).filter(function (id) { return !seenP0[id]; });
      if (fresh.length) ring(items[fresh[0]]);
    }
    seenP0 = now0;
  }

  document.getElementById("bell").addEventListener("click", function () {
    bellOn = !bellOn;
    if (window.localStorage) localStorage.setItem("livecs.bell", bellOn ? "1" : "0");
    if (bellOn && window.Notification && Notification.permission === "default") Notification.requestPermission();
    renderBell();
  });
  renderBell();

  // -- views (全部 / 我的 / 未分配), rooms, bulk moderation
  var VIEW_LABEL = { all: "全部", mine: "我的", unassigned: "未分配" };

  function renderViews(current, counts) {
    view = current;
    var box = document.getElementById("views");
    LC.clear(box);
    ["all", "mine", "unassigned"].forEach(function (v) {
      box.appendChild(el("button", { type: "button", class: "tab" + (v === current ? " active" : ""), dataset: { view: v },
        on: { click: function () { if (v !== view) { view = v; socket.send({ type: "view", filter: v }); } } } },
        VIEW_LABEL[v] + " " + (counts[v] || 0)));
    });
  }

  function renderRooms(current, rooms) {
    var sel = document.getElementById("room-switch");
    if (document.activeElement === sel) return;  // never redrawn while the operator is choosing
    LC.clear(sel);
    rooms.forEach(function (r) {
      var label = r.room + " · P0 " + r.open_p0 + " · P1 " + r.open_p1 + (r.alerts.length ? " · ⚠ " + r.alerts.join("、") : "");
      var opt = el("option", { value: r.room }, label);
      if (r.room === current) opt.selected = true;
      sel.appendChild(opt);
    });
    sel.classList.toggle("hidden", rooms.length < 2);
    LC.setText("room-name", current);
  }

  function switchRoom(name) {
    if (!name || name === room) return;
    room = name;
    items = {}; order = []; recent = []; drafts = {}; modPicked = {}; seenP0 = null;
    Object.keys(cards).forEach(function (id) { cards[id].remove(); });
    cards = {};
    var url = new URL(window.location.href);
    url.searchParams.set("room", name);
    window.history.replaceState(null, "", url.toString());
    socket.send({ type: "room", room: name });
  }

  function renderBulk() {
    var mods = order.filter(function (id) { return items[id] && items[id].queue === "mod"; });
    var n = Object.keys(modPicked).length;
    LC.setText("bulk-count", n ? "已选 " + n + " 条" : "");
    var all = document.getElementById("bulk-all");
    all.checked = mods.length > 0 && n === mods.length;
    document.getElementById("bulk").classList.toggle("hidden", mods.length === 0);
    ["bulk-mute", "bulk-ban", "bulk-dismiss"].forEach(function (b) { document.getElementById(b).disabled = n === 0; });
  }

  function bulk(kind) {
    var ids = Object.keys(modPicked);
    if (!ids.length) return;
    LC.api("/api/actions/bulk", { method: "POST", json: { room: room || null, item_ids: ids, kind: kind } }).then(function (r) {
      if (!r.ok) { LC.toast((r.data && r.data.message) || "批量操作失败", "error"); return; }
      var failed = Object.keys(r.data.failed || {}).length;
      var word = { mute: "禁言", ban: "封禁", dismiss: "忽略" }[kind];
      LC.toast("已" + word + " " + r.data.done.length + " 条" + (failed ? "，" + failed + " 条未成功" : ""), failed ? "error" : "ok");
      modPicked = {};
      renderBulk();
    });
  }

  document.getElementById("bulk-all").addEventListener("change", function (e) {
    modPicked = {};
    if (e.target.checked) order.forEach(function (id) { if (items[id] && items[id].queue === "mod") modPicked[id] = true; });
    Object.keys(cards).forEach(function (id) { var p = cards[id].querySelector(".pick"); if (p) p.checked = !!modPicked[id]; });
    renderBulk();
  });
  document.getElementById("bulk-mute").addEventListener("click", function () { bulk("mute"); });
  document.getElementById("bulk-dismiss").addEventListener("click", function () { bulk("dismiss"); });
  document.getElementById("bulk-ban").addEventListener("click", function () {
    document.getElementById("bulk-confirm").classList.remove("hidden");
    LC.setText("bulk-confirm-n", String(Object.keys(modPicked).length));
    document.getElementById("bulk-ban-cancel").focus();
  });
  document.getElementById("bulk-ban-ok").addEventListener("click", function () {
    document.getElementById("bulk-confirm").classList.add("hidden");
    bulk("ban");
  });
  document.getElementById("bulk-ban-cancel").addEventListener("click", function () {
    document.getElementById("bulk-confirm").classList.add("hidden");
  });
  document.getElementById("room-switch").addEventListener("change", function (e) { switchRoom(e.target.value); });

  function renderStats(s) {
    LC.setText("room-name", s.room);
    LC.setText("s-cpm", s.comments_per_min);
    LC.setText("s-neg", Math.round(s.negative_share * 100) + "%");
    LC.setText("s-buy", s.buy_signals_total);
    LC.setText("s-buy-rate", " " + s.buy_signals_per_min + "/分");
    LC.setText("s-p0", s.open_p0);
    LC.setText("s-p1", s.open_p1);
    LC.setText("s-breach", s.sla_breached);
    LC.setText("s-first", s.median_first_action_s === null ? "—" : LC.fmtSeconds(s.median_first_action_s));
    var ingest = Object.keys(s.ingest || {}).map(function (k) {
      return (LC.SOURCE[k] || k) + " " + (LC.SOURCE_STATE[s.ingest[k]] || s.ingest[k]);
    }).join("，");
    var cap = Object.keys(s.capture || {}).map(function (k) { var c = s.capture[k]; return (LC.SOURCE[k] || k) + " " + ((c.rates || {}).total || 0) + "条/秒 · 最近" + (c.last_message_age_s == null ? "—" : c.last_message_age_s + "秒前") + " · 重连" + (c.reconnects || 0) + " · 丢弃" + (c.dropped || 0); }).join("，");
    LC.setText("s-ingest", [ingest, cap].filter(Boolean).join("；") || "—");
    var marks = s.marks || {};
    var res = marks.resolve || { marked: 0 }, sat = marks.satisfaction || { marked: 0 };
    var resolveEl = document.getElementById("s-resolve");  // the share large, the counts small: it fits the tile
    LC.clear(resolveEl);
    if (res.rate === null || res.rate === undefined) resolveEl.textContent = "—";
    else resolveEl.append(Math.round(res.rate * 100) + "%", el("small", { class: "rate-n" }, "（" + res.good + "/" + res.marked + "）"));
    LC.setText("s-satisfaction", sat.marked ? "满意 " + fmtRate(sat) : "");
    var by = [];
    Object.keys(res.by_intent || {}).forEach(function (k) { by.push((LC.INTENT[k] || k) + " " + fmtRate(res.by_intent[k])); });
    Object.keys(res.by_operator || {}).forEach(function (k) { by.push(k + " " + fmtRate(res.by_operator[k])); });
    LC.setText("s-resolve-by", by.join(" · "));
    document.getElementById("s-resolve-tile").title = by.join("\n");  // the whole list on hover
    var mix = document.getElementById("s-mix");
    var MIX_ROWS = 6;  // two columns of three: the tile's height (every intent on hover)
    LC.clear(mix);
    var total = 0;
    Object.keys(s.intent_mix).forEach(function (k) { total += s.intent_mix[k]; });
    var byCount = Object.keys(s.intent_mix).sort(function (a, b) { return s.intent_mix[b] - s.intent_mix[a]; });
    mix.parentNode.title = byCount.map(function (k) { return (LC.INTENT[k] || k) + " " + s.intent_mix[k]; }).join("\n");
    byCount.slice(0, MIX_ROWS).forEach(function (k) {  // the largest, in as many rows as the tile shows
      var n = s.intent_mix[k];
      var bar = el("span", { class: "mix-bar intent-" + k });
      bar.style.width = Math.max(2, Math.round(100 * n / Math.max(1, total))) + "%";
      mix.appendChild(el("div", { class: "mix-row" }, el("span", { class: "mix-label" }, LC.INTENT[k] || k), bar, el("span", { class: "mix-n" }, String(n))));
    });
    var alerts = document.getElementById("alerts");
    LC.clear(alerts);
    (s.alerts || []).forEach(function (a) {
      alerts.appendChild(el("div", { class: "alert alert-" + a.level, dataset: { code: a.code } }, el("b", null, a.title), " ", a.detail));
    });
  }

  function onMessage(msg) {
    if (msg.type !== "console") return;
    clockOffset = msg.now - Date.now() / 1000;
    if (msg.full) items = {};
    msg.items.forEach(function (it) { items[it.id] = it; });
    order = msg.order;
    recent = msg.recent;
    var live = {};
    order.forEach(function (id) { live[id] = true; });
    recent.forEach(function (id) { live[id] = true; });
    if (editing) live[editing] = true;  // the card being edited keeps its item until the editor closes
    Object.keys(items).forEach(function (id) { if (!live[id]) { delete items[id]; delete drafts[id]; } });
    if (msg.coupons) coupons = msg.coupons;
    msg.items.forEach(function (it) {
      if (it.taken_from === me.name && it.taken_by && it.taken_by !== me.name && !takenNotice[it.id]) {
        takenNotice[it.id] = true;
        LC.toast(it.taken_by + " 接管了你处理中的卡片：" + it.text, "error");
      }
    });
    Object.keys(modPicked).forEach(function (id) { if (!live[id] || (items[id] && items[id].status !== "open")) delete modPicked[id]; });
    checkNewP0();
    if (msg.views) renderViews(msg.view, msg.views);
    if (msg.rooms) renderRooms(msg.room, msg.rooms);
    renderBulk();
    var hidden = document.getElementById("q-hidden");
    hidden.textContent = msg.hidden ? "另有 " + msg.hidden + " 条较低优先级未显示" : "";
    render();
    if (msg.stats) renderStats(msg.stats);  // the live panel comes at most panel_push_per_s times a second
  }

  function tick() {
    Object.keys(cards).forEach(function (id) {
      var item = items[id];
      var span = cards[id].querySelector("[data-sla]");
      if (!item || !span) return;
      span.textContent = slaText(item);
      span.className = "sla " + slaClass(item);
    });
  }

  function move(delta) {
    if (!order.length) return;
    var i = order.indexOf(selected);
    i = Math.min(order.length - 1, Math.max(0, (i < 0 ? 0 : i) + delta));
    select(order[i]);
    cards[order[i]].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var typing = t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT");
    var inEditor = editorCard(t);
    if (typing || inEditor) {
      // in an editor only Esc (leave it) and Ctrl+Enter (submit it) act; every other key just types
      var submit = e.key === "Enter" && (e.ctrlKey || e.metaKey);
      if (inEditor && submit) {
        e.preventDefault();
        if (t.tagName === "TEXTAREA") sendReply(inEditor);
        else if (t.closest(".ticket")) submitTicket(inEditor);
      } else if (e.key === "Escape") {
        e.preventDefault();
        if (inEditor && t.closest(".ticket")) t.closest(".ticket").classList.add("hidden");
        if (inEditor && t.closest(".confirm")) closeConfirm(inEditor);
        t.blur();
      } else if (e.key === "Enter" && inEditor && t.tagName === "INPUT") {
        e.preventDefault();  // a plain Enter does not submit a ticket note
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var id = selected;
    var key = e.key.toLowerCase();
    if (key === "j") { move(1); e.preventDefault(); return; }
    if (key === "k") { move(-1); e.preventDefault(); return; }
    if (!id || !items[id]) return;
    var item = items[id];
    var handled = true;
    switch (key) {
      case "t": act(id, "take"); break;
      case "s": if (item.queue !== "mod") sendReply(id); break;
      case "e": var ta = cards[id] && cards[id].querySelector("textarea"); if (ta) ta.focus(); break;
      case "c": if (item.queue !== "mod") copyReply(id); break;
      case "a": if (item.suggestion && item.suggestion.coupon_rule_id) act(id, "approve_coupon", { coupon_rule_id: item.suggestion.coupon_rule_id }); break;
      case "d": act(id, "dismiss"); break;
      case "p": if (item.kind === "cluster") act(id, "pin"); break;
      case "x": openTicket(id); break;
      case "m": if (item.kind === "single") act(id, "mute"); break;
      case "b": if (item.kind === "single") confirmBan(id); break;
      case "r": markCard(id, "resolve", "resolved"); break;
      case "u": markCard(id, "resolve", "unresolved"); break;
      case "y": markCard(id, "satisfaction", "satisfied"); break;
      case "n": markCard(id, "satisfaction", "unsatisfied"); break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });

  // -- post-stream review downloads (GET /api/sessions, GET /api/review/{id}); plain links, so the
  //    browser streams the file to disk itself; "不脱敏" only for admins (the server refuses others too)
  var reviewSessions = null;

  function pad2(n) { return n < 10 ? "0" + n : String(n); }

  function fmtDateTime(epoch) {
    if (!epoch) return "进行中";
    var d = new Date(epoch * 1000);
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
      pad2(d.getHours()) + ":" + pad2(d.getMinutes());
  }

  function reviewHref(id, format, unmasked, inline) {
    return "/api/review/" + encodeURIComponent(id) + "?format=" + format + "&mask=" + (unmasked ? "0" : "1") +
      (inline ? "&inline=1" : "");
  }

  function reviewLink(text, href, download) {
    return el("a", {
      class: "btn small", href: href, download: download ? true : null,
      target: download ? null : "_blank", rel: "noopener noreferrer",
      on: { click: function () { if (download) LC.toast("正在生成复盘报告，完成后浏览器会开始下载…", "ok"); } }
    }, text);
  }

  function renderReview() {
    var list = document.getElementById("review-list");
    LC.clear(list);
    var sessions = reviewSessions || [];
    var box = document.getElementById("review-unmask");
    var unmasked = me.role === "admin" && box && box.checked;
    document.getElementById("review-empty").classList.toggle("hidden", sessions.length > 0);
    sessions.forEach(function (s) {
      var tag = unmasked ? "（不脱敏）" : "";
      list.appendChild(el("li", { class: "review-row", dataset: { session: s.id } },
        el("div", { class: "review-id" }, s.id),
        el("div", { class: "review-meta" },
          "直播间 " + s.room + " · " + fmtDateTime(s.started_at) + " – " + fmtDateTime(s.ended_at) +
          " · " + s.comments + " 条评论"),
        el("div", { class: "review-links" + (unmasked ? " unmasked" : "") },
          reviewLink("下载 HTML" + tag, reviewHref(s.id, "html", unmasked, false), true),
          reviewLink("下载 ZIP" + tag, reviewHref(s.id, "zip", unmasked, false), true),
          reviewLink("查看" + tag, reviewHref(s.id, "html", unmasked, true), false))));
    });
  }

  function loadReview() {
    return LC.api("/api/sessions").then(function (r) {
      if (!r.ok) { LC.toast((r.data && r.data.message) || "无法读取场次", "error"); return; }
      reviewSessions = r.data.sessions || [];
      renderReview();
    });
  }

  document.getElementById("review").addEventListener("toggle", function (e) {
    if (e.target.open && reviewSessions === null) loadReview();
  });
  document.getElementById("review-refresh").addEventListener("click", loadReview);
  document.getElementById("review-unmask").addEventListener("change", renderReview);

  LC.me().then(function (m) {
    me = m || me;
    document.getElementById("review-unmask-label").classList.toggle("hidden", me.role !== "admin");
    if (reviewSessions !== null) renderReview();
  });
  socket = LC.connect("console", room, function (msg) {
    if (msg.type === "console" && msg.room !== room && room) return;  // a push of the room we just left
    onMessage(msg);
  }, function () {
    if (view !== "all") socket.send({ type: "view", filter: view });  // after a reconnect
  });
  setInterval(tick, 1000);
})();
