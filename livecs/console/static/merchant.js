/* Merchant page: upload library/catalogue/coupon files and see errors and lint warnings with their
   locations, list versions, activate and roll back, set the product on air. */
"use strict";

(function () {
  var el = LC.el;

  function location(i) {
    var parts = [];
    if (i.file) parts.push(i.file);
    if (i.sheet) parts.push("[" + i.sheet + "]");
    if (i.line !== null && i.line !== undefined) parts.push("第" + i.line + "行");
    if (i.column) parts.push(i.column);
    return parts.join(" ");
  }

  function showUpload(r) {
    var box = document.getElementById("upload-result");
    var list = document.getElementById("issues");
    LC.clear(box);
    LC.clear(list);
    var d = r.data || {};
    if (r.ok) {
      box.appendChild(el("p", { class: "ok" }, "校验通过，已保存为 " + d.version + (d.active ? "（已启用）" : "") +
        (d.warnings ? "，" + d.warnings + " 条警告" : "")));
      if (d.message) box.appendChild(el("p", { class: "error terms" }, d.message));
    } else if (d.issues) {
      box.appendChild(el("p", { class: "error" }, "校验未通过：" + d.errors + " 个错误，" + d.warnings + " 条警告。请修改后重新上传。"));
    } else {
      box.appendChild(el("p", { class: "error" }, d.message || "上传失败"));
    }
    (d.issues || []).forEach(function (i) {
      list.appendChild(el("li", { class: "issue issue-" + i.severity, dataset: { code: i.code } },
        el("span", { class: "sev" }, i.severity === "error" ? "错误" : "警告"),
        el("span", { class: "loc" }, location(i)),
        el("span", { class: "msg" }, i.zh),
        el("small", { class: "muted en" }, i.en)));
    });
    loadVersions();
  }

  function loadVersions() {
    LC.api("/api/merchant/versions").then(function (r) {
      var body = document.getElementById("versions");
      LC.clear(body);
      (r.data.versions || []).forEach(function (v) {
        var btn = v.active ? el("span", { class: "chip active" }, "使用中") :
          el("button", { class: "btn small", type: "button", on: { click: function () { activate(v.version); } } }, "启用");
        var terms = (v.terms || []).length ?
          el("small", { class: "terms error", title: "广告法/禁忌用语：需管理员填写理由后强制启用" }, " 含违禁用语：" + v.terms.join("、")) : null;
        body.appendChild(el("tr", { class: v.active ? "active" : "" },
          el("td", null, v.version), el("td", null, v.version_name || (v.name + (v.library_version ? " " + v.library_version : ""))),
          el("td", null, (v.files || []).join("、")), el("td", null, String(v.scripts)), el("td", null, String(v.products)),
          el("td", null, String(v.coupons)), el("td", null, String(v.warnings)),
          el("td", null, v.uploaded_by + " " + LC.fmtTime(v.uploaded_at)), el("td", { class: "diff" }, diffText(v)),
          el("td", null, btn, terms)));
      });
    });
    loadProducts();
  }

  var SECTION_ZH = { scripts: "话术", products: "商品", coupons: "优惠券" };
  function diffText(v) {
    if (v.active || !v.diff) return "";
    var parts = [];
    Object.keys(SECTION_ZH).forEach(function (k) {
      var d = v.diff[k];
      if (!d) return;
      // the counts (changes) are whole; the lists (diff) stop at 20 ids
      var n = (v.changes && v.changes[k]) || { added: d.added.length, removed: d.removed.length, changed: d.changed.length };
      var bits = [];
      if (n.added) bits.push("+" + n.added);
      if (n.removed) bits.push("−" + n.removed);
      if (n.changed) bits.push("改" + n.changed);
      if (bits.length) parts.push(SECTION_ZH[k] + " " + bits.join(" "));
    });
    var prices = ((v.diff.products || {}).changed || []).filter(function (c) { return c.indexOf("→") >= 0; });
    return (parts.join("；") || "无变化") + (prices.length ? "（" + prices.slice(0, 3).join("，") + "）" : "");
  }

  function loadProducts() {
    LC.api("/api/merchant/products").then(function (r) {
      var d = r.data || {};
      var body = document.getElementById("products");
      LC.clear(body);
      var onAir = null;
      (d.products || []).forEach(function (p) {
        if (p.link === d.on_air) onAir = p;
        var btn = p.link === d.on_air ? el("span", { class: "chip active" }, "讲解中") :
          el("button", { class: "btn small", type: "button", on: { click: function () { setOnAir(p.link); } } }, "设为讲解中");
        body.appendChild(el("tr", { class: p.link === d.on_air ? "active" : "" },
          el("td", null, p.link + "号"), el("td", null, p.sku), el("td", null, p.name), el("td", null, "¥" + p.price),
          el("td", null, p.stock === null || p.stock === undefined ? "" : String(p.stock)), el("td", null, btn)));
      });
      LC.setText("on-air", onAir ? onAir.link + "号 " + onAir.name : "—");
    });
  }

  function activate(version, reason) {
    var body = { version: version };
    if (reason) body.override_reason = reason;
    LC.api("/api/merchant/activate", { method: "POST", json: body }).then(function (r) {
      if (!r.ok && r.status === 422 && r.data.terms && !reason) {
        // error-level terms: an admin may override with a reason, which is recorded
        var why = window.prompt(r.data.message + "\n管理员强制启用请填写理由（将被记录）：", "");
        if (why && why.trim()) { activate(version, why.trim()); return; }
      }
      LC.toast(r.ok ? "已启用 " + version + (reason ? "（强制，理由已记录）" : "") : (r.data.message || "启用失败"),
        r.ok ? "ok" : "error");
      loadVersions();
    });
  }

  function setOnAir(link) {
    LC.api("/api/merchant/on-air", { method: "POST", json: { link: link } }).then(function (r) {
      LC.toast(r.ok ? "已设置 " + link + "号 为讲解中" : (r.data.message || "设置失败"), r.ok ? "ok" : "error");
      loadProducts();
    });
  }

  document.getElementById("upload-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = document.getElementById("upload-file");
    if (!input.files.length) { LC.toast("请选择文件", "error"); return; }
    var form = new FormData();
    for (var i = 0; i < input.files.length; i++) form.append("file", input.files[i], input.files[i].name);
    if (document.getElementById("upload-activate").checked) form.append("activate", "1");
    var versionName = document.getElementById("upload-name").value.trim();
    if (versionName) form.append("name", versionName);
    LC.api("/api/merchant/upload", { method: "POST", form: form }).then(showUpload);
  });

  // Rollback: the server says what it would do (the version, when and by whom uploaded, what it adds and
  // removes) and gives a token naming exactly that change; the dialog shows it, 确认回滚 sends the token
  // (a version change since the preview makes it stale: 409, nothing rolled back).
  function fmtDateTime(epoch) {
    if (!epoch) return "";
    var d = new Date(epoch * 1000);
    function pad(n) { return n < 10 ? "0" + n : String(n); }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function changesText(changes) {
    var parts = [];
    Object.keys(SECTION_ZH).forEach(function (k) {
      var c = changes[k];
      if (!c) return;
      var bits = [];
      if (c.added) bits.push("新增 " + c.added);
      if (c.removed) bits.push("删除 " + c.removed);
      if (c.changed) bits.push("修改 " + c.changed);
      if (bits.length) parts.push(SECTION_ZH[k] + " " + bits.join("、"));
    });
    return parts.length ? "回滚后：" + parts.join("；") : "回滚后：话术、商品、优惠券都没有变化";
  }

  var rollbackToken = null;
  var dialog = document.getElementById("rollback-dialog");

  function showRollback(p) {
    rollbackToken = p.confirm_token;
    LC.setText("rb-version", "版本 " + p.version);
    LC.setText("rb-name", p.version_name ? "「" + p.version_name + "」" : "");
    LC.setText("rb-from", "版本 " + p.from_version);
    LC.setText("rb-uploaded", (p.uploaded_by || "—") + " 上传于 " + fmtDateTime(p.uploaded_at) +
      ((p.files || []).length ? "（" + p.files.join("、") + "）" : ""));
    LC.setText("rb-counts", "该版本含话术 " + p.scripts + " 条、商品 " + p.products + " 个、优惠券规则 " + p.coupons + " 条");
    LC.setText("rb-changes", changesText(p.changes || {}));
    LC.setText("rb-confirm", "确认回滚到版本 " + p.version);
    dialog.showModal();
    document.getElementById("rb-cancel").focus();
  }

  document.getElementById("rollback-btn").addEventListener("click", function () {
    LC.api("/api/merchant/rollback").then(function (r) {
      if (!r.ok) { LC.toast(r.data.message || "无法回滚", "error"); return; }
      showRollback(r.data);
    });
  });

  document.getElementById("rb-cancel").addEventListener("click", function () {
    rollbackToken = null;
    dialog.close();
  });
  dialog.addEventListener("close", function () { rollbackToken = null; });

  document.getElementById("rb-confirm").addEventListener("click", function () {
    var token = rollbackToken;
    dialog.close();
    if (!token) return;
    LC.api("/api/merchant/rollback", { method: "POST", json: { confirm_token: token } }).then(function (r) {
      LC.toast(r.ok ? "已回滚到版本 " + r.data.active : (r.data.message || "回滚失败"), r.ok ? "ok" : "error");
      loadVersions();
    });
  });

  LC.me();
  loadVersions();
})();
