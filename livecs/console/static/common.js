/* livecs shared helpers. Strangers' text (comments, nicknames) only ever goes in as text nodes:
   el() turns every string child into document.createTextNode; nothing here uses innerHTML. */
"use strict";

var LC = (function () {
  var INTENT = {
    product: "商品咨询", price_promo: "价格优惠", order: "订单", logistics: "物流", payment: "支付",
    after_sales: "售后", complaint: "投诉", buy_signal: "下单信号", chitchat: "闲聊", spam: "违规"
  };
  var SENTIMENT = { pos: "正面", neu: "中性", neg: "负面" };
  var EMOTION = { angry: "生气", anxious: "着急", confused: "困惑", disappointed: "失望" };
  var TIER = ["", "粉丝团", "会员", "高级会员", "至尊会员"];
  var DELIVERY = { queued: "排队发送中", sent: "已发送", retrying: "发送失败，重试中", gave_up: "发送失败，已放弃" };
  var SOURCE_STATE = {
    running: "运行中", connected: "已连接", connecting: "连接中", reconnecting: "重连中", finished: "已结束",
    stopped: "已停止", failed: "失败", paused: "已暂停", draining: "收尾中", disconnected: "已断开"
  };
  var SOURCE = { simulator: "模拟直播", webhook: "Webhook", ws: "中继", replay: "回放", bilibili: "B站", douyin: "抖音", test: "测试" };
  var STATUS = {
    open: "待处理", sent: "已回复", copied: "已复制", dismissed: "已忽略", escalated: "已转工单",
    muted: "已禁言", banned: "已封禁", deleted: "已删除", evicted: "已移出",
    resolved: "已解决", unresolved: "未解决"
  };

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "class") node.className = v;
        else if (k === "dataset") Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
        else if (k === "on") Object.keys(v).forEach(function (ev) { node.addEventListener(ev, v[ev]); });
        else if (k === "value") node.value = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    if (typeof child === "string" || typeof child === "number") {
      node.appendChild(document.createTextNode(String(child)));
    } else {
      node.appendChild(child);
    }
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function setText(id, text) {
    var n = document.getElementById(id);
    if (n) n.textContent = text === null || text === undefined ? "" : String(text);
  }

  function api(path, opts) {
    opts = opts || {};
    var init = { method: opts.method || "GET", credentials: "same-origin", headers: {} };
    if (opts.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.json);
    } else if (opts.form) {
      init.body = opts.form;
    }
    return fetch(path, init).then(function (resp) {
      if (resp.status === 401) { window.location.assign("/login"); throw new Error("unauthorized"); }
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  var toastTimer = null;
  function toast(text, kind) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    t.className = "toast show " + (kind || "");
    if (toastTimer) clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.className = "toast"; }, 3500);
  }

  // Returns {send(obj)}: a command to the server on the current socket (view or room switch); it is also
  // re-sent after a reconnect through onOpen.
  function connect(view, room, onMessage, onOpen) {
    var delay = 500;
    var current = null;
    var conn = document.getElementById("conn");
    function status(ok, text) {
      if (!conn) return;
      conn.textContent = text;
      conn.className = "conn " + (ok ? "conn-on" : "conn-off");
    }
    function open() {
      var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
      var url = proto + "//" + window.location.host + "/ws?view=" + encodeURIComponent(view) +
        (room ? "&room=" + encodeURIComponent(room) : "");
      var ws = new WebSocket(url);
      current = ws;
      ws.onopen = function () { delay = 500; status(true, "实时连接"); if (onOpen) onOpen(); };
      ws.onmessage = function (ev) {
        var msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        onMessage(msg);
      };
      ws.onclose = function () {
        status(false, "连接断开，重连中…");
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
    return {
      send: function (obj) {
        if (current && current.readyState === 1) current.send(JSON.stringify(obj));
      }
    };
  }

  function me() {
    return api("/api/me").then(function (r) {
      if (r.ok) setText("me", r.data.name + "（" + r.data.role + "）");
      return r.data;
    });
  }

  function roomParam() {
    var p = new URLSearchParams(window.location.search);
    return p.get("room") || "";
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "—";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + "秒";
    var m = Math.floor(s / 60);
    return m + "分" + (s % 60 ? (s % 60) + "秒" : "");
  }

  function fmtTime(epoch) {
    if (!epoch) return "";
    var d = new Date(epoch * 1000);
    function pad(n) { return n < 10 ? "0" + n : String(n); }
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  return {
    el: el, clear: clear, setText: setText, api: api, toast: toast, connect: connect, me: me,
    roomParam: roomParam, fmtSeconds: fmtSeconds, fmtTime: fmtTime,
    INTENT: INTENT, SENTIMENT: SENTIMENT, EMOTION: EMOTION, TIER: TIER, DELIVERY: DELIVERY, STATUS: STATUS,
    SOURCE_STATE: SOURCE_STATE, SOURCE: SOURCE
  };
})();
