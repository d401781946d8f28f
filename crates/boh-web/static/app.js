// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Forms that go back where they came from.
  document.querySelectorAll('input[name="back"]').forEach(function (el) {
    if (!el.value) el.value = location.pathname + location.search;
  });
  // Selects that submit their form on change (the scope picker).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // The phone menu toggles the sidebar.
  var toggle = document.querySelector(".nav-toggle");
  if (toggle) {
    toggle.addEventListener("toggle", function () {
      document.body.classList.toggle("nav-open", toggle.open);
    });
  }
  // The stock posting form: changing the document type redraws the form for that type while
  // nothing is entered yet.
  var kindSel = document.querySelector("#doc-form #f-kind");
  if (kindSel) {
    kindSel.addEventListener("change", function () {
      var filled = Array.prototype.some.call(
        document.querySelectorAll('#doc-form input[name^="item_"], #doc-form input[name^="qty_"]'),
        function (el) { return el.value.trim() !== ""; });
      if (filled) return;
      var loc = document.querySelector("#doc-form #f-location");
      location.href = "/inventory/documents/new?kind=" + encodeURIComponent(kindSel.value) +
        (loc ? "&location_id=" + encodeURIComponent(loc.value) : "");
    });
  }
  // The order guide: choosing another source shows its unit and, while the quantity is the
  // previous source's suggestion (not typed over), its suggestion.
  document.querySelectorAll("select.guide-source").forEach(function (sel) {
    var row = sel.closest("tr");
    var qty = row && row.querySelector(".qty-input");
    var unit = row && row.querySelector(".unit");
    var last = sel.options[sel.selectedIndex];
    sel.addEventListener("change", function () {
      var opt = sel.options[sel.selectedIndex];
      if (unit) unit.textContent = opt.getAttribute("data-unit") || "";
      if (qty && qty.value === (last.getAttribute("data-suggest") || "")) {
        qty.value = opt.getAttribute("data-suggest") || "";
      }
      last = opt;
    });
  });
  // Confirmation for destructive buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });
  // Job progress: poll the job and update the bar until it finishes.
  document.querySelectorAll("[data-job]").forEach(function (box) {
    var id = box.getAttribute("data-job");
    var bar = box.querySelector("progress");
    var label = box.querySelector("[data-job-label]");
    var status = box.querySelector("[data-job-status]");
    function tick() {
      fetch("/api/v1/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (j.progress_total > 0) { bar.max = j.progress_total; bar.value = j.progress_done; }
          if (label) label.textContent = j.progress_done + " / " + j.progress_total;
          if (status) status.textContent = j.status;
          if (j.status === "succeeded" || j.status === "failed") {
            if (j.status === "succeeded" && bar) { bar.max = 1; bar.value = 1; }
            setTimeout(function () { location.reload(); }, 400);
          } else {
            setTimeout(tick, 500);
          }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    if (box.getAttribute("data-job-done") !== "1") tick();
  });
  // Signature pad: draw with finger or mouse; the hidden field gets a PNG data URL.
  document.querySelectorAll("canvas[data-signature]").forEach(function (c) {
    var field = document.getElementById(c.getAttribute("data-signature"));
    var ctx = c.getContext("2d");
    var drawing = false, drawn = false;
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.strokeStyle = "#1c2a33";
    function at(ev) {
      var r = c.getBoundingClientRect();
      return { x: (ev.clientX - r.left) * c.width / r.width, y: (ev.clientY - r.top) * c.height / r.height };
    }
    c.addEventListener("pointerdown", function (ev) {
      drawing = true; var p = at(ev); ctx.beginPath(); ctx.moveTo(p.x, p.y);
      try { c.setPointerCapture(ev.pointerId); } catch (e) {} ev.preventDefault();
    });
    c.addEventListener("pointermove", function (ev) {
      if (!drawing) return; var p = at(ev); ctx.lineTo(p.x, p.y); ctx.stroke(); drawn = true;
    });
    function end() { if (drawing && drawn && field) field.value = c.toDataURL("image/png"); drawing = false; }
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    document.querySelectorAll("[data-signature-clear='" + c.getAttribute("data-signature") + "']").forEach(function (b) {
      b.addEventListener("click", function () { ctx.clearRect(0, 0, c.width, c.height); drawn = false; if (field) field.value = ""; });
    });
  });
  // Share the technician's position (for dispatch distances).
  document.querySelectorAll("[data-share-position]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(function (pos) {
        fetch("/api/v1/maintenance/technicians/" + encodeURIComponent(b.getAttribute("data-share-position")) + "/position", {
          method: "POST", credentials: "same-origin",
          headers: { "content-type": "application/json", "x-csrf-token": b.getAttribute("data-csrf") },
          body: JSON.stringify({ latitude: pos.coords.latitude, longitude: pos.coords.longitude })
        }).then(function (r) { b.textContent = r.ok ? "✓" : "×"; });
      });
    });
  });
})();
