/* The verification page. Every value that comes from a report or a file name is attacker-
   controlled: it is only ever put into the page with textContent / createTextNode, never as HTML. */
"use strict";
(function () {
  const I18N = window.AIGC_I18N;
  const state = {lang: "en", items: [], checks: {}, health: null, seq: 0};
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, ...children) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function t(key) {
    const parts = key.split(".");
    let v = I18N[state.lang];
    for (const p of parts) v = v && typeof v === "object" ? v[p] : undefined;
    if (v === undefined) {
      v = I18N.en;
      for (const p of parts) v = v && typeof v === "object" ? v[p] : undefined;
    }
    return v === undefined ? key : v;
  }
  function fmt(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : ""));
  }
  function show(v) {
    if (v === null || v === undefined || v === "") return "—";
    if (v === true) return t("yes");
    if (v === false) return t("no");
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function kv(rows) {
    const table = el("table", "kv");
    for (const [k, v, key] of rows) {
      const tr = el("tr", null, el("th", null, t("f." + k)), el("td", null, show(v)));
      if (key) tr.dataset.field = key;
      table.appendChild(tr);
    }
    return table;
  }
  function section(titleKey, cls, ...body) {
    const s = el("section", cls, el("h3", null, t(titleKey)), ...body);
    s.dataset.section = titleKey.slice(2);
    return s;
  }

  /* ---------- sections ---------- */
  function previewSection(r) {
    const p = r.preview;
    if (!p || typeof p.data_uri !== "string" || !p.data_uri.startsWith("data:image/jpeg;base64,")) {
      return null;
    }
    const wrap = el("div", "preview");
    const img = el("img");
    img.alt = "";
    img.src = p.data_uri;
    wrap.appendChild(img);
    const vis = r.visible_label;
    const box = vis && Array.isArray(vis.box) && vis.box.length === 4 ? vis.box.map(Number) : null;
    if (box && box.every(Number.isFinite) && p.width > 0 && p.height > 0) {
      const [x0, y0, x1, y1] = box;
      const outline = el("div", "box");
      outline.dataset.role = "caption-box";
      outline.style.left = (100 * x0 / p.width) + "%";
      outline.style.top = (100 * y0 / p.height) + "%";
      outline.style.width = (100 * (x1 - x0) / p.width) + "%";
      outline.style.height = (100 * (y1 - y0) / p.height) + "%";
      outline.appendChild(el("span", "box-label", t("caption_box")));
      wrap.appendChild(outline);
    }
    const title = r.media_type === "video" ? t("s_preview") + " (" + t("first_frame") + ")" : t("s_preview");
    const s = el("section", null, el("h3", null, title), wrap);
    s.dataset.section = "preview";
    return s;
  }

  function visibleSection(r) {
    const v = r.visible_label;
    if (r.media_type !== "image" && r.media_type !== "video") return null;
    if (!v) return section("s_visible", null, el("p", "muted", t("no_visible")));
    const pct = (x) => (typeof x === "number" ? (100 * x).toFixed(1) + " %" : x);
    const yes = (x) => (x === true ? t("yes") : x === false ? t("no") : x);
    const rows = [["source", v.source && (t("src." + v.source) || v.source)],
      ["found", yes(v.found)], ["text", v.text],
      ["position", v.position && (t("pos." + v.position) || v.position)], ["box", v.box],
      ["found_in_pixels", yes(v.found_in_pixels)], ["match", v.match],
      ["glyph_height_px", v.glyph_height_px], ["ratio", pct(v.ratio)],
      ["glyph_height_ratio", pct(v.glyph_height_ratio)],
      ["contrast", typeof v.contrast === "number" ? v.contrast + ":1" : v.contrast],
      ["confidence", v.confidence],
      ["duration_s", typeof v.duration_s === "number" ? v.duration_s + " s" : v.duration_s]];
    const s = section("s_visible", null,
      kv(rows.filter(([, val]) => val !== undefined && val !== null)));
    if (v.error) s.appendChild(el("p", "muted", String(v.error)));
    return s;
  }

  function timeline(duration, wmRanges, cueRanges) {
    if (!(duration > 0)) return null;
    const bar = el("div", "timeline");
    const add = (ranges, cls) => {
      for (const rg of ranges || []) {
        const a = Number(rg[0]), b = Number(rg[1]);
        if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
        const seg = el("div", "seg " + cls);
        seg.style.left = Math.max(0, 100 * a / duration) + "%";
        seg.style.width = Math.max(0.5, 100 * (Math.min(b, duration) - a) / duration) + "%";
        seg.title = a.toFixed(2) + "–" + b.toFixed(2) + " s";
        bar.appendChild(seg);
      }
    };
    add(wmRanges, "seg-wm");
    add(cueRanges, "seg-cue");
    const legend = el("div", "legend", "0 s",
      el("i", "seg-wm"), t("legend_wm"), el("i", "seg-cue"), t("legend_cue"),
      " · " + duration.toFixed(2) + " s");
    legend.querySelectorAll("i").forEach((i) => { i.style.position = "static"; });
    return el("div", null, bar, legend);
  }

  function audibleSection(r) {
    const a = r.audible_label;
    if (!a) return null;
    const cues = (a.rhythm || []).map((c) => [c.start_s, c.end_s]);
    const placements = (a.declared && a.declared.placements) || [];
    const declared = placements.map((p) => [p.kind, p.where, p.status].map(show).join(" · "));
    const rows = [["duration", typeof a.duration_s === "number" ? a.duration_s + " s" : a.duration_s],
      ["cues", cues.map(([s, e]) => show(s) + "–" + show(e) + " s").join(", ") || "—"],
      ["declared", declared.join("; ") || "—"], ["speech", a.speech]];
    return section("s_audible", null, kv(rows));
  }

  function textSection(r) {
    const tl = r.text_label;
    if (!tl || typeof tl !== "object") return null;
    // a person reads found / where / what, not the raw evidence objects
    const yes = (v) => (v === true ? t("yes") : v === false ? t("no") : "—");
    const ex = tl.explicit || {}, inv = tl.invisible || {}, side = tl.sidecar;
    const hits = (ex.hits || []).map((h) => h && h.text).filter(Boolean).map(show);
    const rows = [["t_explicit", ex.error ? show(ex.error)
      : [yes(ex.found), ex.position, ...hits].filter(Boolean).join(" · ")],
      ["t_invisible", inv.found ? t("yes") + " · " + show(inv.payload_hex) : yes(inv.found)]];
    if (side) rows.push(["t_sidecar", side.found
      ? [show(side.path), "SHA-256 " + yes(side.hash_ok)].join(" · ") : yes(side.found)]);
    if (tl.statistical) rows.push(["t_statistical", show(tl.statistical.detected !== undefined
      ? yes(tl.statistical.detected) : tl.statistical)]);
    const table = el("table", "kv");
    for (const [k, v] of rows) table.appendChild(el("tr", null, el("th", null, t(k)), el("td", null, v)));
    return section("s_text", null, table);
  }

  function metadataSection(r) {
    const m = r.metadata_label;
    // a label place that is there but unreadable or not JSON is not "no label" (see M04)
    const broken = !m && (r.labels || []).length > 0;
    if (!m) return section("s_metadata", null,
      el("p", "muted", t(broken ? "broken_metadata" : "no_metadata")));
    const keys = ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
      "PropagateID", "ReservedCode2", "carrier"];
    const rows = keys.map((k) => [k, k === "Label" ? (t("label_values")[m[k]] || m[k]) : m[k], k]);
    return section("s_metadata", null, kv(rows));
  }

  function watermarkSection(r) {
    const w = r.watermark;
    if (!w) return section("s_watermark", null, el("p", "muted", t("no_watermark")));
    const p = typeof w.p_value === "number" ? w.p_value.toExponential(1) : w.p_value;
    const rows = [["detected", w.detected], ["payload", w.payload ? w.payload.hex : null],
      ["p_value", p], ["confidence", w.bit_confidence], ["score", w.score], ["key", w.key]];
    if (Array.isArray(w.ranges)) {
      rows.push(["ranges", w.ranges.map((rg) => show(rg[0]) + "–" + show(rg[1]) + " s").join(", ") || "—"]);
    }
    const s = section("s_watermark", null, kv(rows));
    const dur = r.audible_label ? Number(r.audible_label.duration_s)
      : (w.duration_s !== undefined ? Number(w.duration_s) : NaN);
    const cues = r.audible_label ? (r.audible_label.rhythm || []).map((c) => [c.start_s, c.end_s]) : [];
    let total = dur;
    if (!(total > 0) && Array.isArray(w.ranges) && w.ranges.length) {
      total = Math.max(...w.ranges.map((rg) => Number(rg[1]) || 0));
    }
    if (Array.isArray(w.ranges)) {
      const tl = timeline(total, w.ranges, cues);
      if (tl) s.appendChild(tl);
    }
    return s;
  }

  function c2paSection(r) {
    const c = r.c2pa;
    if (!c || !c.present) {
      // "cannot check" is not "no manifest": an unreadable store or an encrypted file
      const unreadable = c && (c.error || c.state === "Error");
      const s = section("s_c2pa", null, el("p", "muted", t(unreadable ? "c2pa_unreadable" : "no_c2pa")));
      if (c && c.error) s.appendChild(el("p", "muted", String(c.error)));
      if (c && c.stripped) s.appendChild(el("p", "muted", t("c2pa_stripped")));
      return s;
    }
    const rows = [["present", c.present], ["state", c.state], ["trust", c.trust],
      ["trusted", c.trusted], ["signer", c.signer], ["claim_generator", c.claim_generator],
      ["ai_declared", c.ai_declared],
      ["source_types", (c.digital_source_types || []).join(", ")],
      ["failures", (c.failures || []).map(show).join("; ")]];
    return section("s_c2pa", null, kv(rows));
  }

  function checksSection(r) {
    const table = el("table", "checks");
    table.appendChild(el("thead", null, el("tr", null, el("th", null, t("col_id")),
      el("th", null, t("col_question")), el("th", null, t("col_outcome")),
      el("th", null, t("col_clause")), el("th", null, t("col_message")))));
    const body = el("tbody");
    for (const c of r.checks || []) {
      const spec = state.checks[c.id] || {};
      const question = state.lang === "zh" && spec.title_zh ? spec.title_zh : (spec.question || "");
      const outcome = String(c.outcome);
      const tr = el("tr", null, el("td", "id", c.id), el("td", null, question),
        el("td", "o o-" + outcome.replace(/[^a-z]/g, ""), t("outcome." + outcome)),
        el("td", null, c.clause), el("td", "msg", c.message));
      tr.dataset.check = String(c.id);
      tr.dataset.outcome = outcome;
      body.appendChild(tr);
    }
    table.appendChild(body);
    return section("s_checks", "wide", table);
  }

  function problemOf(r) {
    if (r.error) return r.error;
    if (r.verdict !== "inconclusive") return null;
    const bad = (r.checks || []).filter((c) => c.outcome === "error");
    return bad.map((c) => c.message).join("; ") || null;
  }

  /* ---------- cards ---------- */
  /* not_found with an explicit label in the text: that label was found, the metadata one is
     missing, so "No label found" would be untrue (docs/report-schema.md, Verdict semantics). */
  function wordingKey(v, r) {
    const explicit = r && r.text_label && r.text_label.explicit;
    return v === "not_found" && explicit && (explicit.found || explicit.middle)
      ? "not_found_explicit" : v;
  }
  function verdictBadge(v, key) {
    const b = el("span", "verdict v-" + v, t("verdict." + (key || v)));
    b.dataset.verdict = v;
    b.title = v === "pending" ? "" : t("verdict_help." + (key || v));
    return b;
  }

  function card(item) {
    const c = el("article", "card");
    c.dataset.name = item.name;
    const r = item.report;
    const verdict = item.status === "pending" ? "pending"
      : item.status === "failed" ? "inconclusive" : (r.error ? "inconclusive" : r.verdict);
    const kind = r ? [t("media." + r.media_type) !== "media." + r.media_type ? t("media." + r.media_type)
      : r.media_type, r.format].filter(Boolean).join(" / ") : "";
    const head = el("div", "card-head", el("span", "fname", item.name), el("span", "kind", kind),
      verdictBadge(verdict, wordingKey(verdict, r)));
    c.appendChild(head);
    if (item.status === "pending") return c;
    const body = el("div", "card-body");
    if (item.status === "failed") {
      body.appendChild(el("div", "problem", el("strong", null, t("failed_request")), el("br"),
        item.error));
      c.appendChild(body);
      return c;
    }
    body.appendChild(el("p", "wide muted", t("verdict_help." + wordingKey(verdict, r))));
    const problem = problemOf(r);
    if (problem) {
      const box = el("div", "problem", el("strong", null, t("problem")), el("br"), problem);
      box.dataset.role = "problem";
      body.appendChild(box);
    }
    // a file whose format was not recognised was not searched: show the problem and checks only
    const sections = r.media_type ? [previewSection(r), visibleSection(r), audibleSection(r),
      textSection(r), metadataSection(r), watermarkSection(r), c2paSection(r)] : [];
    for (const s of [...sections, checksSection(r)]) {
      if (s) body.appendChild(s);
    }
    c.appendChild(body);
    const actions = el("div", "actions");
    const j = el("button", null, t("download_json"));
    j.type = "button";
    j.dataset.action = "json";
    j.addEventListener("click", () => downloadJson([item]));
    actions.appendChild(j);
    if (state.health && state.health.render_html) {
      const h = el("button", null, t("download_html"));
      h.type = "button";
      h.dataset.action = "html";
      h.addEventListener("click", () => downloadHtml([item]));
      actions.appendChild(h);
    }
    c.appendChild(actions);
    return c;
  }

  function renderAll() {
    const results = $("results");
    results.replaceChildren(...state.items.map(card));
    $("toolbar").hidden = !state.items.some((i) => i.status === "done");
  }

  /* ---------- downloads ---------- */
  function stripped(item) {
    const copy = Object.assign({}, item.report);
    delete copy.preview;
    return copy;
  }
  function save(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }
  function baseName(items) {
    if (items.length !== 1) return "aigc-tag-reports";
    return ("aigc-tag-" + items[0].name).replace(/[^\w.\-]+/g, "_").slice(0, 120);
  }
  function downloadJson(items) {
    const done = items.filter((i) => i.status === "done");
    const data = done.length === 1 && items.length === 1 ? stripped(done[0]) : done.map(stripped);
    save(new Blob([JSON.stringify(data, null, 2)], {type: "application/json"}),
      baseName(items) + ".json");
  }
  async function downloadHtml(items) {
    const done = items.filter((i) => i.status === "done").map((i) => i.report);
    const resp = await fetch("/api/render", {method: "POST", body: JSON.stringify(done),
      headers: {"Content-Type": "application/json", "X-AIGC-Tag-Token": pageToken()}});
    if (!resp.ok) return;
    save(await resp.blob(), baseName(items) + ".html");
  }

  /* ---------- uploads ---------- */
  /* The per-run token the server put in the page; every POST sends it (CSRF). */
  function pageToken() {
    const meta = document.querySelector('meta[name="aigc-tag-token"]');
    return meta ? meta.content : "";
  }
  async function errorText(resp) {
    try {
      const body = await resp.json();
      return (body && body.message) ? String(body.message) : "HTTP " + resp.status;
    } catch (e) {
      return "HTTP " + resp.status;
    }
  }
  let queue = Promise.resolve();
  function addFiles(fileList) {
    // the newest drop goes on top, in view: results below the first screen go unseen
    const added = [];
    for (const file of Array.from(fileList)) {
      const item = {id: ++state.seq, name: file.name, status: "pending", report: null, error: null};
      added.push(item);
      queue = queue.then(() => verifyOne(item, file));
    }
    state.items.unshift(...added);
    renderAll();
    if (added.length) $("results").scrollIntoView({block: "start", behavior: "smooth"});
  }
  async function verifyOne(item, file) {
    const max = state.health ? state.health.max_upload_bytes : 0;
    if (max && file.size > max) {
      item.status = "failed";
      item.error = fmt(t("limits"), {mb: Math.round(max / 1048576)});
      renderAll();
      return;
    }
    const form = new FormData();
    form.append("files", file, file.name);
    try {
      const resp = await fetch("/api/verify?preview=1", {method: "POST", body: form,
        headers: {"X-AIGC-Tag-Token": pageToken()}});
      if (!resp.ok) {
        item.status = "failed";
        item.error = await errorText(resp);
      } else {
        const reports = await resp.json();
        item.report = reports[0];
        item.status = "done";
      }
    } catch (e) {
      item.status = "failed";
      item.error = String(e);
    }
    renderAll();
    document.body.dataset.pending = String(state.items.filter((i) => i.status === "pending").length);
  }

  async function tagOne(file) {
    const status = $("tag-status");
    status.className = "status";
    status.textContent = t("checking");
    const form = new FormData();
    form.append("file", file, file.name);
    const resp = await fetch("/api/tag", {method: "POST", body: form,
      headers: {"X-AIGC-Tag-Token": pageToken()}});
    if (!resp.ok) {
      status.className = "status err";
      status.textContent = await errorText(resp);
      return;
    }
    const disp = resp.headers.get("Content-Disposition") || "";
    const m = /filename="([^"]+)"/.exec(disp);
    const name = m ? m[1] : "tagged";
    save(await resp.blob(), name);
    status.textContent = fmt(t("tag_done"), {name});
  }

  /* ---------- language ---------- */
  function setLang(lang) {
    state.lang = lang === "zh" ? "zh" : "en";
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.documentElement.dataset.lang = state.lang;
    try { localStorage.setItem("aigc-tag-lang", state.lang); } catch (e) { /* private mode */ }
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll("[data-set-lang]").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.setLang === state.lang));
    });
    document.title = t("title") + " · aigc-tag";
    if (state.health) $("limits").textContent = fmt(t("limits"), {mb: Math.round(state.health.max_upload_bytes / 1048576)});
    renderAll();
  }

  async function init() {
    let stored = null;
    try { stored = localStorage.getItem("aigc-tag-lang"); } catch (e) { /* private mode */ }
    const fromUrl = new URLSearchParams(location.search).get("lang");
    const initial = fromUrl || stored || document.documentElement.dataset.lang;
    document.querySelectorAll("[data-set-lang]").forEach((b) => {
      b.addEventListener("click", () => setLang(b.dataset.setLang));
    });
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
    });
    $("picker").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
    $("clear").addEventListener("click", () => { state.items = state.items.filter((i) => i.status === "pending"); renderAll(); });
    $("dl-json").addEventListener("click", () => downloadJson(state.items));
    $("dl-html").addEventListener("click", () => downloadHtml(state.items));
    $("tag-picker").addEventListener("change", (e) => {
      if (e.target.files.length) tagOne(e.target.files[0]);
      e.target.value = "";
    });
    try {
      const [health, checks] = await Promise.all([
        fetch("/api/health").then((r) => r.json()),
        fetch("/api/checks").then((r) => r.json())]);
      state.health = health;
      for (const c of checks) state.checks[c.id] = c;
      $("dl-html").hidden = !health.render_html;
      $("tagger").hidden = !health.tag;
    } catch (e) { /* the page still works without the extras */ }
    setLang(initial);
    document.body.dataset.ready = "1";
  }
  document.addEventListener("DOMContentLoaded", init);
})();
