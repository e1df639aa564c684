/* livecs shared helpers. Strangers' text (comments, nicknames) only ever goes in as text nodes:
   el() turns every string child into document.createTextNode; nothing here uses innerHTML. */
"use strict";

var LC = (function () {
  // label tables: one vocabulary, served by the console from livecs/vocabulary.py as /static/vocabulary.js
  var V = LC_VOCAB;
  var INTENT = V.intent, SENTIMENT = V.sentiment, EMOTION = V.emotion, TIER = V.tier, DELIVERY = V.delivery;
  var SOURCE_STATE = V.source_state, SOURCE = V.source, STATUS = V.status;

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
    SOURCE_STATE: SOURCE_STATE, SOURCE: SOURCE, PRIORITY: V.priority, ACTION: V.action, OUTCOME: V.outcome,
    TICKET_STATUS: V.ticket_status, TICKET_CHANGE: V.ticket_change, TICKET_OVERDUE: V.ticket_overdue
  };
})();
