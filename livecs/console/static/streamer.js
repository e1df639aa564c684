/* Streamer view: the hottest question clusters with on-air lines, the buy-signal counter and the coupon to
   announce, pushed over the websocket; large type, no clicks. */
"use strict";

(function () {
  var el = LC.el;
  var shownKey = "";

  function render(msg) {
    LC.setText("st-buy", msg.buy_signals_total);
    LC.setText("st-buy-rate", msg.buy_signals_per_min + " /分钟");
    LC.setText("st-coupon", msg.coupon ? (msg.coupon.text || msg.coupon.name) : "—");
    LC.setText("st-coupon-name", msg.coupon && msg.coupon.text && msg.coupon.text !== msg.coupon.name ? msg.coupon.name : "");
    var p = msg.product;
    document.getElementById("st-product").classList.toggle("hidden", !p);
    if (p) {
      LC.setText("st-product-name", p.link + "号 " + p.name);
      LC.setText("st-product-meta", "¥" + p.price + (p.stock !== null && p.stock !== undefined ? " · 库存 " + p.stock : ""));
    }
    var alert = document.getElementById("st-alert");
    LC.clear(alert);
    (msg.alerts || []).forEach(function (a) {
      alert.appendChild(el("div", { class: "alert alert-" + a.level }, el("b", null, a.title), " ", a.detail || "", "：注意安抚情绪，承诺会有专人跟进"));
    });
    var pinned = msg.pinned || [];
    var key = JSON.stringify([pinned, msg.hot]);
    if (key === shownKey) return;  // nothing moved: no flicker
    shownKey = key;
    var list = document.getElementById("st-hot");
    LC.clear(list);
    var pinnedKeys = {};
    pinned.forEach(function (p) {
      pinnedKeys[p.key] = true;
      list.appendChild(el("li", { class: "st-item st-pinned intent-" + p.intent },
        el("div", { class: "st-q" }, el("span", { class: "st-pin" }, "置顶"), el("span", { class: "st-label-text" }, p.label)),
        p.answer ? el("div", { class: "st-line" }, p.answer) : null));
    });
    msg.hot.filter(function (h) { return !pinnedKeys[h.key]; }).forEach(function (h) {
      list.appendChild(el("li", { class: "st-item intent-" + h.intent },
        el("div", { class: "st-q" }, el("span", { class: "st-count" }, "×" + h.count), el("span", { class: "st-label-text" }, h.label)),
        h.on_air ? el("div", { class: "st-line" }, h.on_air) : el("div", { class: "st-line muted" }, LC.INTENT[h.intent] || "")));
    });
    document.getElementById("st-empty").classList.toggle("hidden", msg.hot.length + pinned.length > 0);
  }

  LC.connect("streamer", LC.roomParam(), function (msg) { if (msg.type === "streamer") render(msg); });
})();
