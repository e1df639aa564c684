/* 工单 page: list with filters (all / mine / overdue, status, room), a ticket's detail and its changes
   (take, reassign, note, contact the viewer, resolve, close, reopen). Text from viewers only as text nodes. */
"use strict";

(function () {
  var el = LC.el;
  var PRIORITY = LC.PRIORITY, OUTCOME = LC.OUTCOME, KIND = LC.TICKET_CHANGE, OVERDUE = LC.TICKET_OVERDUE;
  var params = new URLSearchParams(window.location.search);
  var state = {
    view: params.get("view") || "all", status: params.get("status") || "", room: params.get("room") || "",
    selected: params.get("id") || "", items: [], canEdit: false, operators: []
  };

  function fmtDate(epoch) {
    if (!epoch) return "—";
    var d = new Date(epoch * 1000);
    function pad(n) { return n < 10 ? "0" + n : String(n); }
    return (d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function query() {
    var q = "view=" + encodeURIComponent(state.view);
    if (state.status) q += "&status=" + encodeURIComponent(state.status);
    if (state.room) q += "&room=" + encodeURIComponent(state.room);
    return q;
  }

  function load() {
    return LC.api("/api/tickets?" + query()).then(function (r) {
      if (!r.ok) { LC.toast((r.data && r.data.message) || "加载失败", "bad"); return; }
      state.items = r.data.items || [];
      state.canEdit = !!r.data.can_edit;
      state.operators = r.data.operators || [];
      var badge = document.getElementById("t-overdue-count");
      badge.textContent = r.data.overdue ? r.data.overdue + " 个工单已超期" : "";
      badge.classList.toggle("hidden", !r.data.overdue);
      render();
    });
  }

  function render() {
    ["all", "mine", "overdue"].forEach(function (v) {
      document.getElementById("t-view-" + v).classList.toggle("active", state.view === v);
    });
    var body = document.getElementById("t-list");
    LC.clear(body);
    state.items.forEach(function (t) {
      var first = (t.comments && t.comments[0]) || {};
      var row = el("tr", {
        class: "t-row" + (t.overdue ? " overdue" : "") + (t.ticket_id === state.selected ? " selected" : ""),
        dataset: { id: t.ticket_id },
        on: { click: function () { select(t.ticket_id); } }
      },
        el("td", null, t.ticket_id),
        el("td", null, el("span", { class: "chip t-status-" + t.status }, t.status_zh),
          t.overdue ? el("span", { class: "t-flag" }, OVERDUE[t.overdue] || "超期") : null),
        el("td", null, PRIORITY[t.priority] || t.priority),
        el("td", null, (t.viewer && t.viewer.nickname) || "—"),
        el("td", null, first.text || ""),
        el("td", null, t.owner || "未分配"),
        el("td", null, fmtDate(t.due_resolution)));
      body.appendChild(row);
    });
    document.getElementById("t-empty").classList.toggle("hidden", state.items.length > 0);
    LC.setText("t-count", "共 " + state.items.length + " 个");
    var current = state.items.filter(function (t) { return t.ticket_id === state.selected; })[0];
    if (current) renderDetail(current);
    else if (state.selected) LC.api("/api/tickets/" + encodeURIComponent(state.selected)).then(function (r) {
      if (r.ok) renderDetail(r.data);
    });
  }

  function select(id) {
    if (id !== state.selected) {
      ["t-note-text", "t-contact-text", "t-close-text"].forEach(function (f) { document.getElementById(f).value = ""; });
    }
    state.selected = id;
    render();
  }

  function renderDetail(t) {
    document.getElementById("t-detail").classList.remove("hidden");
    document.getElementById("t-pick").classList.add("hidden");
    LC.setText("t-d-id", t.ticket_id);
    var st = document.getElementById("t-d-status");
    st.textContent = t.status_zh;
    st.className = "chip t-status-" + t.status;
    var flag = document.getElementById("t-d-overdue");
    flag.textContent = t.overdue ? (OVERDUE[t.overdue] || "超期") : "";
    flag.classList.toggle("hidden", !t.overdue);
    var v = t.viewer || {};
    LC.setText("t-d-viewer", (v.nickname || "—") + (v.user_id ? "（" + v.user_id + "）" : ""));
    LC.setText("t-d-room", t.room + " / " + t.session_id);
    LC.setText("t-d-prio", (PRIORITY[t.priority] || t.priority) + " · " + (LC.INTENT[t.intent] || t.intent));
    LC.setText("t-d-owner", t.owner || "未分配");
    LC.setText("t-d-created", fmtDate(t.created_at) + " · " + t.created_by);
    LC.setText("t-d-due1", fmtDate(t.due_first_response) + (t.first_response_at ? "（已于 " + fmtDate(t.first_response_at) + " 响应）" : ""));
    LC.setText("t-d-due2", fmtDate(t.due_resolution));
    LC.setText("t-d-resolution", t.outcome ? OUTCOME[t.outcome] + "：" + t.resolution : "—");
    LC.setText("t-d-note", t.note);
    var cl = document.getElementById("t-d-comments");
    LC.clear(cl);
    (t.comments || []).forEach(function (c) {
      cl.appendChild(el("li", null, el("span", { class: "muted" }, LC.fmtTime(c.ts) + " " + (c.nickname || "") + "："), c.text));
    });
    var hl = document.getElementById("t-d-history");
    LC.clear(hl);
    (t.history || []).forEach(function (h) {
      hl.appendChild(el("li", { dataset: { kind: h.kind } },
        el("span", { class: "muted" }, fmtDate(h.at) + " " + h.by + " "), el("b", null, KIND[h.kind] || h.kind),
        h.text ? " " + h.text : ""));
    });
    if (t.contact_status) {
      hl.appendChild(el("li", { class: "muted" }, "最近一次联系观众：" + (LC.DELIVERY[t.contact_status] || t.contact_status)));
    }
    var sel = document.getElementById("t-reassign-to");
    var keep = sel.value;
    LC.clear(sel);
    state.operators.forEach(function (name) { sel.appendChild(el("option", { value: name }, name)); });
    if (keep) sel.value = keep;
    document.getElementById("t-actions").classList.toggle("hidden", !state.canEdit);
    document.getElementById("t-readonly").classList.toggle("hidden", state.canEdit);
    var closed = t.status === "closed";
    ["t-take", "t-reassign", "t-note", "t-contact", "t-resolve", "t-close"].forEach(function (id) {
      document.getElementById(id).disabled = closed;
    });
    document.getElementById("t-reopen").disabled = !t.done;
  }

  function change(kind, extra) {
    if (!state.selected) return;
    var body = Object.assign({ kind: kind }, extra || {});
    LC.api("/api/tickets/" + encodeURIComponent(state.selected), { method: "POST", json: body }).then(function (r) {
      if (!r.ok) { LC.toast((r.data && r.data.message) || "操作失败", "bad"); return; }
      LC.toast(state.selected + " " + (KIND[kind] || kind) + " 成功", "ok");
      var done = ["t-note-text", "t-contact-text"];
      if (kind === "close" || kind === "resolve") done.push("t-close-text");
      done.forEach(function (id) { document.getElementById(id).value = ""; });
      load();
    });
  }

  function value(id) { return document.getElementById(id).value.trim(); }

  function bind() {
    ["all", "mine", "overdue"].forEach(function (v) {
      document.getElementById("t-view-" + v).addEventListener("click", function () { state.view = v; load(); });
    });
    var status = document.getElementById("t-status");
    status.value = state.status;
    status.addEventListener("change", function () { state.status = status.value; load(); });
    var room = document.getElementById("t-room");
    room.value = state.room;
    room.addEventListener("change", function () { state.room = room.value.trim(); load(); });
    document.getElementById("t-refresh").addEventListener("click", load);
    document.getElementById("t-take").addEventListener("click", function () { change("take"); });
    document.getElementById("t-reassign").addEventListener("click", function () {
      change("reassign", { owner: value("t-reassign-to") });
    });
    document.getElementById("t-note").addEventListener("click", function () { change("note", { text: value("t-note-text") }); });
    document.getElementById("t-contact").addEventListener("click", function () {
      change("contact", { text: value("t-contact-text") });
    });
    document.getElementById("t-resolve").addEventListener("click", function () {
      change("resolve", { text: value("t-close-text") });
    });
    document.getElementById("t-close").addEventListener("click", function () {
      change("close", { text: value("t-close-text"), outcome: value("t-close-outcome") });
    });
    document.getElementById("t-reopen").addEventListener("click", function () { change("reopen"); });
  }

  LC.me().then(function (me) {
    if (me && me.role === "merchant") document.getElementById("t-console-link").classList.add("hidden");
  });
  bind();
  load();
  setInterval(load, 5000);
})();
