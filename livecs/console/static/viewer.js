/* The viewer card (观众卡片): click a nickname on the console to see that viewer's comments, the actions about
   them, coupons, orders and tickets across broadcasts (GET /api/viewer). Text only as text nodes. */
"use strict";

(function () {
  var el = LC.el;
  var KIND = LC.ACTION, TICKET = LC.TICKET_STATUS, CHANGE = LC.TICKET_CHANGE;

  function change(note) {
    var code = String(note || "").split(/[ :]/)[0];
    return CHANGE[code] ? CHANGE[code] + String(note).slice(code.length) : note;
  }

  function fmt(epoch) {
    if (!epoch) return "";
    var d = new Date(epoch * 1000);
    function pad(n) { return n < 10 ? "0" + n : String(n); }
    return (d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function section(title, rows, render) {
    return el("section", { class: "vc-section" }, el("h3", null, title + "（" + rows.length + "）"),
      rows.length ? el("ul", null, rows.map(function (r) { return el("li", null, render(r)); }))
        : el("p", { class: "muted" }, "无"));
  }

  function show(v) {
    LC.setText("vc-name", v.nickname || "（未知昵称）");
    LC.setText("vc-uid", v.user_id + (v.masked ? " · 个人信息已脱敏" : ""));
    var t = v.totals;
    LC.setText("vc-totals", "评论 " + t.comments + " 条 · " + t.sessions + " 场直播 · 优惠券 " + t.coupons +
      " · 订单 " + t.orders + " · 工单 " + t.tickets);
    var body = document.getElementById("vc-body");
    LC.clear(body);
    body.appendChild(section("评论", v.comments, function (c) {
      return [el("span", { class: "muted" }, fmt(c.ts) + " "), c.intent ? el("span", { class: "chip" }, LC.INTENT[c.intent] || c.intent) : null, c.text];
    }));
    body.appendChild(section("工单", v.tickets, function (k) {
      return [el("b", null, k.ticket_id + " "), (TICKET[k.status] || k.status) + " · " + (k.owner || "未分配") + " · " + k.note];
    }));
    body.appendChild(section("订单", v.orders, function (o) {
      var d = o.data || {};
      return [el("span", { class: "muted" }, fmt(o.ts) + " "), (d.link ? d.link + "号链接 " : "") + (d.amount !== undefined ? "¥" + d.amount : "")];
    }));
    body.appendChild(section("优惠券", v.coupons, function (a) {
      return [el("span", { class: "muted" }, fmt(a.ts) + " "), a.coupon_rule_id + " · " + a.operator];
    }));
    body.appendChild(section("客服操作", v.actions, function (a) {
      var what = (KIND[a.kind] || a.kind) + (a.kind === "ticket" ? "（" + change(a.note) + "）" : "");
      return [el("span", { class: "muted" }, fmt(a.ts) + " "), what + " · " + a.operator + (a.text ? " · " + a.text : "")];
    }));
    document.getElementById("viewer-card").classList.remove("hidden");
  }

  function open(uid) {
    LC.api("/api/viewer?user_id=" + encodeURIComponent(uid)).then(function (r) {
      if (!r.ok) { LC.toast((r.data && r.data.message) || "无法加载观众信息", "error"); return; }
      show(r.data);
    });
  }

  document.addEventListener("click", function (e) {
    var nick = e.target && e.target.closest ? e.target.closest(".nick[data-uid]") : null;
    if (nick && nick.dataset.uid) { e.stopPropagation(); open(nick.dataset.uid); }
  }, true);
  document.getElementById("vc-close").addEventListener("click", function () {
    document.getElementById("viewer-card").classList.add("hidden");
  });
})();
