/* capgap's HTML report renderer. Reads the JSON document in #capgap-data (see
   src/report/html.cpp for its shape) and draws the page: headline, findings, input problems,
   timeline and loss-against-load charts (Chart.js, inlined beside this file), breakdown
   tables, and the sessions and events as paged tables (only the visible page is in the DOM,
   so hundreds of thousands of rows stay responsive). No request leaves the page. */
(function () {
  "use strict";
  var started = performance.now();
  var root = document.documentElement;
  var data = JSON.parse(document.getElementById("capgap-data").textContent);
  var report = data.report || {};
  var summary = report.summary || {};
  var ingest = report.ingest || {};
  var diagnosis = report.diagnosis || null;
  var addresses = data.addresses || [];
  var PAGE = 50;

  // ---------- formatting ----------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (k === "text") e.textContent = attrs[k];
        else if (k === "cls") e.className = attrs[k];
        else e.setAttribute(k, attrs[k]);
      }
    }
    (children || []).forEach(function (c) {
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }
  function fmtInt(n) {
    if (n === null || n === undefined) return "";
    return Number(n).toLocaleString("en-US");
  }
  function fmtPct(x) {
    return x === null || x === undefined || !isFinite(x) ? "" : Number(x).toFixed(2) + "%";
  }
  function fmtNum(x) {
    if (x === null || x === undefined) return "";
    if (typeof x !== "number") return String(x);
    if (Number.isInteger(x)) return fmtInt(x);
    return Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3);
  }
  function fmtRate(bits) {
    if (bits === null || bits === undefined || !isFinite(bits)) return "";
    var units = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
    var i = 0;
    while (Math.abs(bits) >= 1000 && i < units.length - 1) { bits /= 1000; i++; }
    return (i === 0 ? bits.toFixed(0) : bits.toPrecision(3)) + " " + units[i];
  }
  // Microseconds since the epoch as "2026-01-02 03:04:05.123456" (UTC).
  function fmtTimeUs(us) {
    var ms = Math.floor(us / 1000);
    var iso = new Date(ms).toISOString();
    var frac = String(((us % 1000000) + 1000000) % 1000000).padStart(6, "0");
    return iso.slice(0, 10) + " " + iso.slice(11, 19) + "." + frac;
  }
  // "2026-01-02T03:04:05.123456789Z" (or epoch seconds as text) to milliseconds.
  function parseTimeMs(text) {
    if (text === null || text === undefined) return NaN;
    if (typeof text === "number") return text * 1000;
    if (/^-?\d+(\.\d+)?$/.test(text)) return parseFloat(text) * 1000;
    var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z?$/.exec(text);
    if (m) return Date.parse(m[1] + "Z") + (m[2] ? parseFloat("0" + m[2]) * 1000 : 0);
    return Date.parse(text);
  }
  function endpoint(ip, port) {
    var a = addresses[ip];
    return (a.indexOf(":") >= 0 ? "[" + a + "]" : a) + ":" + port;
  }
  function wilson(k, n) {
    if (n === 0) return [0, 0];
    var z = 1.959963984540054, p = k / n, z2 = z * z;
    var d = 1 + z2 / n, c = (p + z2 / (2 * n)) / d;
    var h = (z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / d;
    return [k === 0 ? 0 : Math.max(0, c - h) * 100, k === n ? 100 : Math.min(1, c + h) * 100];
  }
  function guarded(name, fn) {
    try { fn(); } catch (err) {
      window.capgapNoteError(name + ": " + (err && err.stack ? err.stack : err));
    }
  }

  // ---------- time axis (Chart.js linear axis with UTC date/time ticks) ----------
  var STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4,
    3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5];
  function timeStep(span, most) {
    for (var i = 0; i < STEPS.length; i++) if (span / STEPS[i] <= most) return STEPS[i];
    return Math.ceil(span / most / 864e5) * 864e5;
  }
  function timeLabel(v, step, span) {
    var iso = new Date(v).toISOString();
    if (step >= 864e5) return iso.slice(0, 10);
    var days = span >= 864e5 || iso.slice(0, 10) !== new Date(v - step).toISOString().slice(0, 10);
    var clock = step >= 6e4 ? iso.slice(11, 16) : step >= 1e3 ? iso.slice(11, 19) : iso.slice(11, 23);
    return days ? [iso.slice(5, 10), clock] : clock;
  }
  function timeAxis(title) {
    return {
      type: "linear",
      title: { display: true, text: title },
      afterBuildTicks: function (scale) {
        var span = scale.max - scale.min;
        var step = timeStep(span, 8);
        var ticks = [];
        for (var v = Math.ceil(scale.min / step) * step; v <= scale.max; v += step) ticks.push({ value: v });
        scale.ticks = ticks;
        scale.capgapStep = step;
      },
      ticks: {
        autoSkip: false, maxRotation: 0,
        callback: function (v) { return timeLabel(v, this.capgapStep || 1e3, this.max - this.min); }
      }
    };
  }
  function utcDays(minMs, maxMs) {
    var a = new Date(minMs).toISOString().slice(0, 10), b = new Date(maxMs).toISOString().slice(0, 10);
    return a === b ? a : a + " to " + b;
  }

  // ---------- the embedded tables ----------
  function undelta(col) {
    var out = new Float64Array(col.length), acc = 0;
    for (var i = 0; i < col.length; i++) { acc += col[i]; out[i] = acc; }
    return out;
  }
  var S = data.sessions || { columns: {}, total: 0, included: 0 };
  var sc = S.columns || {};
  var sessionCount = (sc.id || []).length;
  var sid = undelta(sc.id || []);
  var stime = undelta(sc.time_us || []);
  for (var i0 = 0; i0 < stime.length; i0++) stime[i0] += S.t0_us;
  var E = data.events || { columns: {}, total: 0, included: 0 };
  var ec = E.columns || {};
  var eventCount = (ec.kind || []).length;
  var etime = undelta(ec.time_us || []);
  for (var i1 = 0; i1 < etime.length; i1++) etime[i1] += E.t0_us;
  var badCol = summary.mode === "wireshark" ? sc.bad_wireshark : sc.bad;

  // ---------- header ----------
  function renderMeta() {
    var meta = document.getElementById("meta");
    var parts = [];
    if (data.sources && data.sources.length) parts.push("capture: " + data.sources.join(", "));
    if (ingest.first_time) {
      parts.push("time span: " + fmtTimeUs(parseTimeMs(ingest.first_time) * 1000).slice(0, 23) +
        " to " + fmtTimeUs(parseTimeMs(ingest.last_time) * 1000).slice(0, 23) + " UTC");
    }
    parts.push("window: " + (data.window || "whole capture"));
    parts.push("verdict: " + (summary.mode || "confirmed"));
    parts.forEach(function (p) { meta.appendChild(el("span", { text: p })); });
    document.getElementById("footer").textContent = "Written by " + data.generator +
      ". Self-contained: this page loads nothing from anywhere else. Chart.js (MIT licence) is inlined.";
  }

  function card(label, value, sub, cls) {
    return el("div", { cls: "card" + (cls ? " " + cls : "") }, [
      el("div", { cls: "label", text: label }), el("div", { cls: "value", text: value }),
      el("div", { cls: "sub", text: sub || "" })]);
  }
  function renderHeadline() {
    var h = document.getElementById("headline");
    var total = summary.total_sessions || 0;
    h.appendChild(card("Sessions", fmtInt(total), "started by a SYN in the window"));
    h.appendChild(card("Bad sessions", fmtInt(summary.bad_sessions), summary.mode + " verdict",
      summary.bad_sessions ? "bad" : ""));
    h.appendChild(card("Percentage", total ? fmtPct(summary.percentage) : "no sessions",
      total ? "95% interval " + fmtPct(summary.ci95_low) + " to " + fmtPct(summary.ci95_high) : ""));
    // CSV exports carry Wireshark's flags only: there is no confirmed verdict to show.
    var flagsOnly = ingest.csv_rows > 0 && !ingest.packets_read;
    h.appendChild(flagsOnly ? card("Bad (confirmed)", "n/a", "CSV input carries Wireshark's flags only") :
      card("Bad (confirmed)", fmtInt(summary.bad_confirmed),
        fmtInt(summary.bad_data_missing) + " data missing, " + fmtInt(summary.bad_control_only) + " control only"));
    h.appendChild(card("Wireshark would say", fmtInt(summary.bad_wireshark),
      fmtInt(summary.wireshark_only) + " only Wireshark, " + fmtInt(summary.confirmed_only) + " only confirmed"));
    var rec = diagnosis && diagnosis.reconstructable;
    if (rec && rec.total) {
      h.appendChild(card("Reconstructable", fmtInt(rec.sessions),
        fmtPct(rec.percentage) + " of " + fmtInt(rec.total) + ": every byte both ways"));
    }
  }

  function categoriesTable() {
    var rows = [["complete", "counted"], ["syn_only", "counted, never bad"], ["one_sided", "counted"],
      ["evicted", "counted, verdict may be incomplete"], ["partial", "not counted (no SYN)"],
      ["synack_only", "not counted (SYN missed)"], ["before_window", "not counted"],
      ["after_window", "not counted"], ["filtered_out", "not counted"], ["unmatched_events", "events"]];
    var t = el("table", { id: "categories-table" });
    t.appendChild(el("thead", null, [el("tr", null, [el("th", { text: "category" }),
      el("th", { cls: "num", text: "sessions" }), el("th", { text: "" })])]));
    var body = el("tbody");
    var complete = (summary.total_sessions || 0) - (summary.syn_only || 0) - (summary.one_sided || 0);
    rows.forEach(function (r) {
      var v = r[0] === "complete" ? complete : summary[r[0]];
      if (v === undefined) return;
      body.appendChild(el("tr", null, [el("td", { text: r[0] }), el("td", { cls: "num", text: fmtInt(v) }),
        el("td", { text: r[1] })]));
    });
    t.appendChild(body);
    return t;
  }
  function renderFindings() {
    var box = document.getElementById("findings");
    var findings = diagnosis && diagnosis.findings;
    if (!findings) {
      box.appendChild(el("p", { cls: "note", text: "This report carries no diagnosis; the sessions by category:" }));
      box.appendChild(categoriesTable());
      return;
    }
    if (!findings.length) box.appendChild(el("p", { cls: "note", text: "No findings." }));
    findings.forEach(function (f) {
      var sev = f.severity || "info";
      var figs = Object.keys(f.figures || {}).map(function (k) { return k + " " + fmtNum(f.figures[k]); });
      var rows = (f.rows || []).map(function (r) { return r.table + " " + r.group; });
      box.appendChild(el("div", { cls: "finding " + sev, "data-name": f.name }, [
        el("div", null, [el("span", { cls: "sev", text: sev }), el("span", { cls: "title", text: f.title || f.name })]),
        el("div", { cls: "figures", text: figs.join(" · ") + (rows.length ? " — " + rows.join(", ") : "") }),
        el("div", { cls: "check", text: f.check ? "Check: " + f.check : "" })]));
    });
    var details = el("details", null, [el("summary", { text: "Sessions by category" }), categoriesTable()]);
    box.appendChild(details);
  }

  var PLAIN_COUNTERS = { packets_read: 1, decoded: 1, open_flows_peak: 1 };
  function renderProblems() {
    var box = document.getElementById("problems");
    var t = el("table", { id: "ingest-table" });
    var body = el("tbody");
    var flagged = 0;
    Object.keys(ingest).forEach(function (k) {
      var v = ingest[k];
      if (typeof v !== "number" || v === 0) return;
      var tr = el("tr", null, [el("td", { text: k }), el("td", { cls: "num", text: fmtInt(v) })]);
      if (!PLAIN_COUNTERS[k]) { tr.className = "problem"; flagged++; }
      body.appendChild(tr);
    });
    ["unsupported_link_types", "unsupported_encapsulations"].forEach(function (k) {
      var m = ingest[k] || {};
      Object.keys(m).forEach(function (name) {
        flagged++;
        body.appendChild(el("tr", { cls: "problem" }, [el("td", { text: k.replace(/_/g, " ") + " " + name }),
          el("td", { cls: "num", text: fmtInt(m[name]) })]));
      });
    });
    t.appendChild(el("thead", null, [el("tr", null, [el("th", { text: "ingest counter (non-zero)" }),
      el("th", { cls: "num", text: "count" })])]));
    t.appendChild(body);
    var problems = ingest.problems || [];
    var head = problems.length ? problems.length + " input problem" + (problems.length > 1 ? "s" : "") :
      "No input problems.";
    box.appendChild(el("p", { id: "problems-headline", text: head }));
    if (problems.length) {
      var ul = el("ul", { id: "problems-list" });
      problems.forEach(function (p) {
        ul.appendChild(el("li", { text: p.source + ":" + p.position + ": " + p.reason }));
      });
      box.appendChild(ul);
    }
    if ((ingest.csv_bad_lines || []).length) {
      box.appendChild(el("p", { text: "Bad CSV lines: " + ingest.csv_bad_lines.join(" ") }));
    }
    if ((ingest.tunnels || []).length) {
      box.appendChild(el("p", { text: "Tunnels: " + ingest.tunnels.map(function (t, i) { return (i + 1) + ": " + t; }).join("; ") }));
    }
    box.appendChild(el("div", { cls: "table-wrap" }, [t]));
  }

  // ---------- charts ----------
  var charts = [];
  function chart(id, config) {
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false,
      plugins: {}, interaction: { mode: "nearest", intersect: false } }, config.options || {});
    config.options.plugins.legend = Object.assign({ position: "bottom" }, config.options.plugins.legend || {});
    var c = new Chart(document.getElementById(id), config);
    charts.push(c);
    return c;
  }
  // New and bad sessions by SYN time, from the sessions the page carries.
  function sessionBuckets() {
    if (!sessionCount) return null;
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < sessionCount; i++) { if (stime[i] < lo) lo = stime[i]; if (stime[i] > hi) hi = stime[i]; }
    var loMs = lo / 1000, hiMs = hi / 1000;
    var width = timeStep(Math.max(hiMs - loMs, 1), 120);
    var start = Math.floor(loMs / width) * width;
    var n = Math.floor((hiMs - start) / width) + 1;
    var fresh = new Float64Array(n), bad = new Float64Array(n);
    for (var j = 0; j < sessionCount; j++) {
      var b = Math.floor((stime[j] / 1000 - start) / width);
      fresh[b]++;
      if (badCol[j]) bad[b]++;
    }
    return { start: start, width: width, n: n, fresh: fresh, bad: bad };
  }
  function durationText(ms) {
    var u = [[864e5, "d"], [36e5, "h"], [6e4, "min"], [1e3, "s"], [1, "ms"]];
    for (var i = 0; i < u.length; i++) if (ms >= u[i][0] && ms % u[i][0] === 0) return ms / u[i][0] + " " + u[i][1];
    return ms + " ms";
  }
  function renderTimeline() {
    var note = document.getElementById("timeline-note");
    var tl = diagnosis && diagnosis.timeline;
    if (tl && tl.rows && tl.rows.length) {
      var rate = [], lossPct = [], events = [];
      var lo = Infinity, hi = -Infinity;
      tl.rows.forEach(function (r) {
        var x = parseTimeMs(r.start);
        lo = Math.min(lo, x); hi = Math.max(hi, x);
        rate.push({ x: x, y: r.bits_per_s });
        lossPct.push({ x: x, y: r.new_sessions ? 100 * r.bad_sessions / r.new_sessions : null });
        events.push({ x: x, y: r.loss_events });
      });
      note.textContent = "Traffic rate and loss per " + durationText(tl.bucket_ns / 1e6) +
        " (start of each bucket, UTC " + utcDays(lo, hi) + ").";
      chart("timeline-chart", {
        type: "line",
        data: { datasets: [
          { label: "traffic (bit/s)", data: rate, yAxisID: "y", borderColor: "#1f5fa8", backgroundColor: "#1f5fa8", pointRadius: 0, borderWidth: 1.5, parsing: false },
          { label: "bad sessions (% of new)", data: lossPct, yAxisID: "pct", borderColor: "#c62828", backgroundColor: "#c62828", pointRadius: 1.5, borderWidth: 1.5, spanGaps: false, clip: false, parsing: false },
          { label: "loss events", data: events, yAxisID: "ev", borderColor: "#b26a00", backgroundColor: "#b26a00", pointRadius: 0, borderWidth: 1, borderDash: [4, 3], parsing: false }
        ] },
        options: { scales: {
          x: timeAxis("time (UTC)"),
          y: { position: "left", beginAtZero: true, title: { display: true, text: "traffic" }, ticks: { callback: function (v) { return fmtRate(v); } } },
          pct: { position: "right", beginAtZero: true, max: 100, title: { display: true, text: "bad sessions (%)" }, grid: { drawOnChartArea: false } },
          // Counts: whole-number ticks, and headroom so the busiest bucket's peak is not drawn
          // on the chart's top edge.
          ev: { position: "right", beginAtZero: true, grace: "10%", ticks: { precision: 0 }, title: { display: true, text: "loss events" }, grid: { drawOnChartArea: false } }
        } }
      });
      return;
    }
    var b = sessionBuckets();
    if (!b) { note.textContent = "No sessions to draw."; chart("timeline-chart", { type: "line", data: { datasets: [] } }); return; }
    var fresh = [], pct = [];
    for (var i = 0; i < b.n; i++) {
      var x = b.start + i * b.width;
      fresh.push({ x: x, y: b.fresh[i] });
      pct.push({ x: x, y: b.fresh[i] ? 100 * b.bad[i] / b.fresh[i] : null });
    }
    note.textContent = "New sessions and the share of them that are bad, per " + durationText(b.width) +
      " by SYN time (UTC " + utcDays(b.start, b.start + b.n * b.width) + "). " +
      (S.included < S.total ? "From the " + fmtInt(S.included) + " sessions this page carries. " : "") +
      "This report has no packet timeline (no diagnosis): traffic rate is not shown.";
    chart("timeline-chart", {
      type: "line",
      data: { datasets: [
        { label: "new sessions", data: fresh, yAxisID: "y", borderColor: "#1f5fa8", backgroundColor: "rgba(31,95,168,0.15)", fill: true, stepped: "before", pointRadius: 0, borderWidth: 1.5, parsing: false },
        { label: "bad sessions (% of new)", data: pct, yAxisID: "pct", borderColor: "#c62828", backgroundColor: "#c62828", pointRadius: 2, borderWidth: 1.5, parsing: false }
      ] },
      options: { scales: {
        x: timeAxis("SYN time (UTC)"),
        y: { position: "left", beginAtZero: true, title: { display: true, text: "sessions per " + durationText(b.width) } },
        pct: { position: "right", beginAtZero: true, suggestedMax: 5, title: { display: true, text: "bad sessions (%)" }, grid: { drawOnChartArea: false } }
      } }
    });
  }
  function renderLoad() {
    var note = document.getElementById("load-note");
    var load = diagnosis && diagnosis.load;
    if (load && load.points && load.points.length) {
      // loss_rate: missing bytes / (bytes + missing bytes), drawn in percent.
      var pts = load.points.map(function (p) { return { x: p.bits_per_s, y: p.loss_rate === null ? null : 100 * p.loss_rate }; });
      var ys = pts.map(function (p) { return p.y; }).filter(isFinite);
      var ymax = ys.length ? Math.max.apply(null, ys) : 1;
      var sets = [{ label: "buckets", data: pts, type: "scatter", borderColor: "#1f5fa8", backgroundColor: "rgba(31,95,168,0.5)", pointRadius: 2.5, parsing: false }];
      if (load.knee_bits_per_s !== null && load.knee_bits_per_s !== undefined) {
        sets.push({ label: "knee " + fmtRate(load.knee_bits_per_s) + (load.knee_confidence ? " (" + load.knee_confidence + ")" : ""),
          type: "line", data: [{ x: load.knee_bits_per_s, y: 0 }, { x: load.knee_bits_per_s, y: ymax || 1 }],
          borderColor: "#c62828", borderDash: [6, 4], pointRadius: 0, borderWidth: 2, parsing: false });
      }
      note.textContent = "Each point is one timeline bucket with traffic: its rate and the share of its bytes the capture missed. " +
        (load.knee_bits_per_s !== null && load.knee_bits_per_s !== undefined ? "Loss rises past the knee at " + fmtRate(load.knee_bits_per_s) + ". " : "No knee found. ") +
        "Peak rate: " + fmtRate(load.peak_bits_per_s_1ms) + " over 1 ms, " + fmtRate(load.peak_bits_per_s_10ms) + " over 10 ms.";
      chart("load-chart", { type: "scatter", data: { datasets: sets }, options: { scales: {
        x: { type: "linear", beginAtZero: true, title: { display: true, text: "traffic rate" }, ticks: { callback: function (v) { return fmtRate(v); } } },
        y: { beginAtZero: true, title: { display: true, text: "bytes missing (%)" } } } } });
      return;
    }
    var b = sessionBuckets();
    var pts2 = [];
    if (b) {
      for (var i = 0; i < b.n; i++) if (b.fresh[i]) pts2.push({ x: b.fresh[i] * 1000 / b.width, y: 100 * b.bad[i] / b.fresh[i] });
    }
    note.textContent = "This report has no packet timeline (no diagnosis): load is shown as new sessions per second, " +
      "one point per " + (b ? durationText(b.width) : "bucket") + " of SYN time.";
    chart("load-chart", { type: "scatter", data: { datasets: [{ label: "buckets", data: pts2, borderColor: "#1f5fa8", backgroundColor: "rgba(31,95,168,0.5)", pointRadius: 2.5, parsing: false }] },
      options: { scales: {
        x: { type: "linear", beginAtZero: true, title: { display: true, text: "new sessions per second" } },
        y: { beginAtZero: true, title: { display: true, text: "bad sessions (%)" } } } } });
  }

  // ---------- tables ----------
  // A sortable table over an array of row objects; columns: [key, label, numeric, format].
  function sortableTable(id, columns, rows, rowClass) {
    var t = el("table", { id: id, cls: "sortable-table" });
    var head = el("tr");
    var body = el("tbody");
    var order = rows.map(function (_, i) { return i; });
    var sortKey = null, dir = 1;
    function fill() {
      body.textContent = "";
      order.forEach(function (i) {
        var r = rows[i];
        var tr = el("tr", rowClass ? { cls: rowClass(r) } : null);
        columns.forEach(function (c) {
          tr.appendChild(el("td", { cls: c[2] ? "num" : "", text: c[3] ? c[3](r[c[0]], r) : String(r[c[0]] === undefined ? "" : r[c[0]]) }));
        });
        body.appendChild(tr);
      });
    }
    columns.forEach(function (c) {
      var th = el("th", { cls: "sortable" + (c[2] ? " num" : ""), text: c[1], title: "sort by " + c[1] });
      th.addEventListener("click", function () {
        dir = sortKey === c[0] ? -dir : (c[2] ? -1 : 1);
        sortKey = c[0];
        Array.prototype.forEach.call(head.children, function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(dir > 0 ? "sorted-asc" : "sorted-desc");
        order.sort(function (a, b) {
          var x = rows[a][c[0]], y = rows[b][c[0]];
          if (x === y) return a - b;
          if (x === undefined || x === null) return 1;
          if (y === undefined || y === null) return -1;
          return (x < y ? -1 : 1) * dir;
        });
        fill();
      });
      head.appendChild(th);
    });
    t.appendChild(el("thead", null, [head]));
    t.appendChild(body);
    fill();
    return el("div", { cls: "table-wrap" }, [t]);
  }
  var BREAKDOWN_COLUMNS = [["group", "group"], ["sessions", "sessions", true, fmtInt], ["bad", "bad", true, fmtInt],
    ["percentage", "bad %", true, fmtPct],
    ["ci95_low", "95% interval", true, function (v, r) { return fmtPct(v) + " to " + fmtPct(r.ci95_high); }],
    ["missing_bytes", "missing bytes", true, fmtInt], ["events", "events", true, fmtInt],
    ["significant", "significant", false, function (v) { return v ? "yes" : ""; }]];
  function groupSessions(key, top) {
    var groups = new Map();
    for (var i = 0; i < sessionCount; i++) {
      var k = key(i);
      var g = groups.get(k);
      if (!g) { g = { group: k, sessions: 0, bad: 0, missing_bytes: 0, events: 0 }; groups.set(k, g); }
      g.sessions++;
      if (badCol[i]) g.bad++;
      g.missing_bytes += sc.missing_bytes[i];
      g.events += sc.events[i];
    }
    var all = Array.from(groups.values()).sort(function (a, b) { return b.bad - a.bad || b.sessions - a.sessions; });
    var rows = all.slice(0, top);
    if (all.length > top) {
      var rest = { group: "rest", sessions: 0, bad: 0, missing_bytes: 0, events: 0 };
      all.slice(top).forEach(function (g) { rest.sessions += g.sessions; rest.bad += g.bad; rest.missing_bytes += g.missing_bytes; rest.events += g.events; });
      rows.push(rest);
    }
    rows.forEach(function (g) {
      g.percentage = g.sessions ? 100 * g.bad / g.sessions : null;
      var ci = wilson(g.bad, g.sessions);
      g.ci95_low = ci[0]; g.ci95_high = ci[1];
    });
    return rows;
  }
  function renderBreakdowns() {
    var box = document.getElementById("breakdowns");
    var tables = diagnosis && diagnosis.breakdowns;
    if (!tables) {
      box.appendChild(el("p", { cls: "note", text: "This report carries no diagnosis: the tables below are computed here from the " +
        fmtInt(S.included) + " sessions the page carries (worst 10, then the rest)." }));
      tables = {
        server: groupSessions(function (i) { return endpoint(sc.server_ip[i], sc.server_port[i]); }, 10),
        server_port: groupSessions(function (i) { return String(sc.server_port[i]); }, 10)
      };
    }
    Object.keys(tables).forEach(function (name) {
      var rows = tables[name] || [];
      var sec = el("div", { cls: "breakdown", "data-table": name }, [el("h3", { text: "by " + name.replace(/_/g, " ") })]);
      if (!rows.length) sec.appendChild(el("p", { cls: "note", text: "nothing to break down" }));
      else sec.appendChild(sortableTable("breakdown-" + name, BREAKDOWN_COLUMNS, rows,
        function (r) { return r.significant ? "significant" : ""; }));
      box.appendChild(sec);
    });
  }

  // A paged table over `n` rows: `cell(i, col)` gives a cell's text, `match(i, query)` whether
  // row i passes the filter. Only the rows of the visible page are in the DOM.
  function pagedTable(opts) {
    var wrap = el("div");
    var controls = el("div", { cls: "controls" });
    var search = el("input", { type: "search", placeholder: opts.placeholder, "aria-label": "filter" });
    controls.appendChild(search);
    var select = null;
    if (opts.choices) {
      select = el("select", { "aria-label": "show" });
      opts.choices.forEach(function (c) { select.appendChild(el("option", { value: c[0], text: c[1] })); });
      controls.appendChild(select);
    }
    var pager = el("span", { cls: "pager" });
    var prev = el("button", { type: "button", text: "‹ previous" }), next = el("button", { type: "button", text: "next ›" });
    var where = el("span", { cls: "where" });
    pager.appendChild(prev); pager.appendChild(where); pager.appendChild(next);
    controls.appendChild(pager);
    var count = el("span", { cls: "count", id: opts.id + "-count" });
    controls.appendChild(count);
    wrap.appendChild(controls);
    var table = el("table", { id: opts.id });
    var head = el("tr");
    var body = el("tbody");
    table.appendChild(el("thead", null, [head]));
    table.appendChild(body);
    wrap.appendChild(el("div", { cls: "table-wrap" }, [table]));
    if (opts.footnote) wrap.appendChild(el("p", { cls: "note", id: opts.id + "-note", text: opts.footnote }));

    if (opts.initial) {
      search.value = opts.initial.q || "";
      if (select && opts.initial.choice) select.value = opts.initial.choice;
    }
    var all = new Uint32Array(opts.n);
    for (var i = 0; i < opts.n; i++) all[i] = i;
    var view = all, page = 0, sortCol = -1, dir = 1;
    function draw() {
      var pages = Math.max(1, Math.ceil(view.length / PAGE));
      page = Math.min(Math.max(page, 0), pages - 1);
      body.textContent = "";
      var frag = document.createDocumentFragment();
      for (var r = page * PAGE; r < Math.min(view.length, (page + 1) * PAGE); r++) {
        var row = view[r];
        var tr = el("tr", opts.rowClass ? { cls: opts.rowClass(row) } : null);
        for (var c = 0; c < opts.columns.length; c++) {
          tr.appendChild(el("td", { cls: opts.columns[c][1] ? "num" : "", text: opts.cell(row, c) }));
        }
        frag.appendChild(tr);
      }
      body.appendChild(frag);
      where.textContent = " page " + fmtInt(page + 1) + " of " + fmtInt(pages) + " ";
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
      count.textContent = fmtInt(view.length) + " of " + fmtInt(opts.n) + " rows";
    }
    function refilter() {
      var q = search.value.trim().toLowerCase(), choice = select ? select.value : "";
      if (!q && !choice) { view = all; }
      else {
        var out = [];
        for (var i = 0; i < all.length; i++) if (opts.match(all[i], q, choice)) out.push(all[i]);
        view = Uint32Array.from(out);
      }
      if (sortCol >= 0) sortView();
      page = 0; draw();
    }
    function sortView() {
      var key = opts.sortKey;
      var arr = Array.from(view);
      arr.sort(function (a, b) {
        var x = key(a, sortCol), y = key(b, sortCol);
        return x === y ? a - b : (x < y ? -dir : dir);
      });
      view = Uint32Array.from(arr);
    }
    opts.columns.forEach(function (c, ci) {
      var th = el("th", { cls: "sortable" + (c[1] ? " num" : ""), text: c[0], title: "sort by " + c[0] });
      th.addEventListener("click", function () {
        dir = sortCol === ci ? -dir : (c[1] ? -1 : 1);
        sortCol = ci;
        Array.prototype.forEach.call(head.children, function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(dir > 0 ? "sorted-asc" : "sorted-desc");
        if (view === all) view = all.slice();
        sortView(); page = 0; draw();
      });
      head.appendChild(th);
    });
    var timer = null;
    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refilter, 200); });
    if (select) select.addEventListener("change", refilter);
    prev.addEventListener("click", function () { page--; draw(); });
    next.addEventListener("click", function () { page++; draw(); });
    if (search.value || (select && select.value)) refilter(); else draw();
    return wrap;
  }
  // The sessions table's filter from the address: report.html#show=bad&q=10.0.0.1 (show: bad,
  // good, bad_wireshark or a category's name), so that a filtered view can be linked.
  function hashFilter() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    var show = p.get("show") || "";
    var cat = (S.categories || []).indexOf(show);
    return { q: (p.get("q") || "").toLowerCase(), choice: cat >= 0 ? "cat:" + cat : show };
  }

  function renderSessions() {
    var box = document.getElementById("sessions");
    var cats = S.categories || [];
    var hasTunnel = !!sc.tunnel;
    var columns = [["id", true], ["SYN time (UTC)", false], ["client", false], ["server", false], ["category", false],
      ["packets", true], ["bytes", true], ["bad", false], ["Wireshark", false], ["events", true], ["missing bytes", true]];
    if (hasTunnel) columns.push(["tunnel", true]);
    var choices = [["", "all sessions"], ["bad", "bad"], ["good", "not bad"], ["bad_wireshark", "bad for Wireshark"]];
    cats.forEach(function (c, i) { choices.push(["cat:" + i, c]); });
    var note = S.included < S.total ? "This page carries " + fmtInt(S.included) + " of the " + fmtInt(S.total) +
      " sessions (every bad one first, then the others in order; the bound is " + fmtInt(S.bound) +
      "): the headline counts them all. Use --sessions-out for the full table." : "";
    box.appendChild(pagedTable({
      id: "sessions-table", n: sessionCount, columns: columns, footnote: note, initial: hashFilter(),
      placeholder: "filter: address, port or id", choices: choices,
      rowClass: function (i) { return badCol[i] ? "bad" : ""; },
      cell: function (i, c) {
        switch (c) {
          case 0: return String(sid[i]);
          case 1: return fmtTimeUs(stime[i]);
          case 2: return endpoint(sc.client_ip[i], sc.client_port[i]);
          case 3: return endpoint(sc.server_ip[i], sc.server_port[i]);
          case 4: return cats[sc.category[i]] || String(sc.category[i]);
          case 5: return fmtInt(sc.packets[i]);
          case 6: return fmtInt(sc.bytes[i]);
          case 7: return sc.bad[i] ? "bad" : "";
          case 8: return sc.bad_wireshark[i] ? "bad" : "";
          case 9: return fmtInt(sc.events[i]);
          case 10: return fmtInt(sc.missing_bytes[i]);
          default: return String(sc.tunnel[i] || "");
        }
      },
      sortKey: function (i, c) {
        switch (c) {
          case 0: return sid[i];
          case 1: return stime[i];
          case 2: return sc.client_ip[i] * 65536 + sc.client_port[i];
          case 3: return sc.server_ip[i] * 65536 + sc.server_port[i];
          case 4: return sc.category[i];
          case 5: return sc.packets[i];
          case 6: return sc.bytes[i];
          case 7: return sc.bad[i];
          case 8: return sc.bad_wireshark[i];
          case 9: return sc.events[i];
          case 10: return sc.missing_bytes[i];
          default: return sc.tunnel[i];
        }
      },
      match: function (i, q, choice) {
        if (choice === "bad" && !badCol[i]) return false;
        if (choice === "good" && badCol[i]) return false;
        if (choice === "bad_wireshark" && !sc.bad_wireshark[i]) return false;
        if (choice.indexOf("cat:") === 0 && sc.category[i] !== Number(choice.slice(4))) return false;
        if (!q) return true;
        if (String(sid[i]) === q) return true;
        return endpoint(sc.client_ip[i], sc.client_port[i]).indexOf(q) >= 0 ||
          endpoint(sc.server_ip[i], sc.server_port[i]).indexOf(q) >= 0;
      }
    }));
  }

  function renderEvents() {
    var box = document.getElementById("events");
    var tallies = report.events || [];
    box.appendChild(el("h3", { text: "By kind and direction" }));
    if (!tallies.length) box.appendChild(el("p", { cls: "note", text: "No events." }));
    else box.appendChild(sortableTable("tallies-table", [["kind", "kind"], ["direction", "direction"],
      ["count", "count", true, fmtInt], ["missing_bytes", "missing bytes", true, fmtInt],
      ["late_filled", "late filled", true, fmtInt]], tallies));
    if (!eventCount) return;
    box.appendChild(el("h3", { text: "Each event" }));
    var kinds = E.kinds || [], dirs = E.directions || [];
    var choices = [["", "all kinds"]];
    kinds.forEach(function (k, i) { choices.push(["kind:" + i, k]); });
    var note = E.included < E.total ? "This page lists " + fmtInt(E.included) + " of the " + fmtInt(E.total) +
      " events (loss events first; the bound is " + fmtInt(E.bound) + "). Use --events-out for them all." : "";
    var columns = [["session", true], ["time (UTC)", false], ["kind", false], ["direction", false], ["late filled", false],
      ["frame", true], ["missing bytes", true], ["sequence", false]];
    box.appendChild(pagedTable({
      id: "events-table", n: eventCount, columns: columns, footnote: note, choices: choices,
      placeholder: "filter: session id",
      cell: function (i, c) {
        switch (c) {
          case 0: return ec.session[i] === null ? "" : String(ec.session[i]);
          case 1: return fmtTimeUs(etime[i]);
          case 2: return kinds[ec.kind[i]];
          case 3: return dirs[ec.direction[i]];
          case 4: return ec.late_filled[i] ? "yes" : "";
          case 5: return fmtInt(ec.frame[i]);
          case 6: return fmtInt(ec.missing_bytes[i]);
          default: return ec.seq_begin[i] + "-" + ec.seq_end[i];
        }
      },
      sortKey: function (i, c) {
        switch (c) {
          case 0: return ec.session[i] === null ? -1 : ec.session[i];
          case 1: return etime[i];
          case 2: return ec.kind[i];
          case 3: return ec.direction[i];
          case 4: return ec.late_filled[i];
          case 5: return ec.frame[i];
          case 6: return ec.missing_bytes[i];
          default: return ec.seq_begin[i];
        }
      },
      match: function (i, q, choice) {
        if (choice && ec.kind[i] !== Number(choice.slice(5))) return false;
        return !q || String(ec.session[i]) === q;
      }
    }));
  }

  guarded("header", renderMeta);
  guarded("headline", renderHeadline);
  guarded("findings", renderFindings);
  guarded("input", renderProblems);
  guarded("timeline", renderTimeline);
  guarded("load", renderLoad);
  guarded("breakdowns", renderBreakdowns);
  guarded("sessions", renderSessions);
  guarded("events", renderEvents);
  root.setAttribute("data-capgap-charts", String(charts.length));
  root.setAttribute("data-capgap-render-ms", String(Math.round(performance.now() - started)));
  root.setAttribute("data-capgap-rendered", "1");
})();
