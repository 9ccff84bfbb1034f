// The dashboard (Dashboard/DashboardEndpoints.cs). Everything shown comes from the operator API with the signed-in key's
// roles. Values from webshops are only ever set as text (textContent, attributes via setAttribute on safe names): no
// innerHTML anywhere, so a trait such as <img src=x onerror=alert(1)> stays text.
"use strict";

(() => {
  if (document.body.classList.contains("sign-in")) {
    const error = new URLSearchParams(location.search).get("error");
    if (error) {
      const p = document.getElementById("error");
      p.textContent = error === "locked" ? "Too many failed sign-ins from this address; wait a minute."
        : error === "role" ? "That is the webshop's placement key: it reads banners and opens no dashboard. Sign in with a viewer, marketer or admin key."
        : "That key matches no configured key.";
      p.hidden = false;
    }
    return;
  }

  let session = { csrfToken: "" };
  let phaseNames = {};
  const phaseName = (stored) => (stored ? phaseNames[stored] || stored : "");
  const $ = (id) => document.getElementById(id);
  const status = (text) => { $("status").textContent = text || ""; };

  async function api(path, options = {}) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (options.method && options.method !== "GET") headers["X-CSRF-TOKEN"] = session.csrfToken;
    const response = await fetch(path, { credentials: "same-origin", ...options, headers });
    if (response.status === 401) { location.assign("/sign-in"); throw new Error("signed out"); }
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || `${response.status} ${response.statusText}`);
    return body;
  }

  function el(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    return node;
  }
  // A cell of more than a few words wraps (class wrap), so a table fits its page; short ones (numbers, states) stay on a line.
  function row(tbody, cells) {
    const tr = el("tr");
    for (const cell of cells) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      if ((cell instanceof Node && cell.tagName !== "BUTTON") || td.textContent.length > 24) td.className = "wrap";
      tr.append(td);
    }
    tbody.append(tr);
    return tr;
  }
  const body = (id) => { const t = $(id).tBodies[0]; t.replaceChildren(); return t; };
  const n = (v) => (v === null || v === undefined ? "" : Number(v).toLocaleString());
  const pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(1) + " %");
  const when = (v) => (v ? new Date(v).toLocaleString() : "");
  const json = (v) => (v === null || v === undefined ? "" : JSON.stringify(v));
  function dl(target, pairs) {
    target.replaceChildren();
    for (const [k, v] of pairs) { target.append(el("dt", k), el("dd", typeof v === "object" && v !== null ? json(v) : v)); }
  }
  function guard(fn) {
    return async (...args) => {
      try { status(""); await fn(...args); } catch (e) { status(e.message); }
    };
  }

  // Views by hash.
  const loaders = {};
  function show() {
    const name = (location.hash || "#funnel").slice(1);
    for (const section of document.querySelectorAll("section[data-view]")) section.hidden = section.dataset.view !== name;
    for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.getAttribute("href") === "#" + name);
    if (loaders[name]) guard(loaders[name])();
  }
  window.addEventListener("hashchange", show);

  // Funnel.
  function funnelQuery() {
    const form = new FormData($("funnel-form"));
    const q = new URLSearchParams();
    for (const [k, v] of form) if (v) q.set(k, k === "to" ? nextDay(v) : v);
    return q.toString();
  }
  function nextDay(date) { const d = new Date(date + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + 1); return d.toISOString().slice(0, 10); }
  loaders.funnel = async () => {
    const q = funnelQuery();
    const view = await api("/api/funnel?" + q);
    const img = el("img", null, { alt: "Funnel chart", src: "/dashboard/funnel.svg?" + q, id: "funnel-svg" });
    img.addEventListener("load", () => { document.body.dataset.funnelDrawn = "true"; });
    $("funnel-chart").replaceChildren(img);
    const tb = body("funnel-table");
    for (const p of view.phases) row(tb, [p.phase, n(p.reached), n(p.now), n(p.convertedToNext), pct(p.conversionRate), p.medianTimeToNext || "–", p.p90TimeToNext || "–"]);
    const mb = body("micro-table");
    for (const m of view.microConversions) row(mb, [m.step, n(m.count), pct(m.rate)]);
    $("funnel-note").textContent = `${n(view.customers)} customers; counted until ${when(view.countedUntil) || "not yet"}` +
      (view.scan ? `; segment judged ${n(view.scan.scanned)} customers, ${n(view.scan.matched)} matched${view.scan.complete ? "" : " (not all: the scan limit was reached)"}` : "");
  };
  $("funnel-form").addEventListener("submit", (e) => { e.preventDefault(); guard(loaders.funnel)(); });

  // Campaigns.
  let campaigns = [];
  async function loadCampaigns() { campaigns = (await api("/api/campaigns")).campaigns; return campaigns; }
  // The period the campaign pages show: the triggers of [from, to] (days, to inclusive); empty: the API's default.
  function period() {
    const form = new FormData($("campaigns-form"));
    const q = new URLSearchParams();
    if (form.get("from")) q.set("from", form.get("from"));
    if (form.get("to")) q.set("to", nextDay(form.get("to")));
    return q.toString();
  }
  // Lift only against a holdout; without one, what there is: the conversion rate.
  const liftText = (lift) => lift.difference === null || lift.difference === undefined
    ? `none: ${lift.reason} (conversion rate ${pct(lift.conversionRate)})`
    : lift.significant ? `${pct(lift.difference)} (${pct(lift.lower)} to ${pct(lift.upper)})`
    : `${pct(lift.difference)} · not significant: ${lift.reason}`;
  const money = (v) => Number(v || 0).toFixed(2);
  let shownCampaign = null;
  loaders.campaigns = async () => {
    const tb = body("campaigns-table");
    const q = period();
    for (const c of await loadCampaigns()) {
      const link = el("a", c.id, { href: "#campaigns" });
      link.addEventListener("click", (e) => { e.preventDefault(); guard(showCampaign)(c.id); });
      const tr = row(tb, [link, c.trigger, "…", "", "", "", "", ""]);
      tr.children[1].className = "wrap";
      tr.children[7].className = "wrap";
      api(`/api/campaigns/${encodeURIComponent(c.id)}/results?${q}`).then((r) => {
        const cells = tr.children;
        cells[2].textContent = n(r.customers.treated);
        cells[3].textContent = n(r.customers.converted);
        cells[4].textContent = money(r.customers.revenue);
        cells[5].textContent = `${n(r.customers.influenced)} (${money(r.customers.influencedRevenue)})`;
        cells[6].textContent = r.customers.holdout ? `${n(r.customers.holdout)} (${n(r.customers.holdoutConverted)} converted)` : "none";
        cells[7].textContent = liftText(r.lift);
      }).catch((e) => { tr.children[2].textContent = e.message; });
    }
    if (shownCampaign) await showCampaign(shownCampaign);
  };
  $("campaigns-form").addEventListener("submit", (e) => { e.preventDefault(); guard(loaders.campaigns)(); });
  async function showCampaign(id) {
    shownCampaign = id;
    $("campaign-detail").hidden = false;
    $("campaign-title").textContent = id;
    const r = await api(`/api/campaigns/${encodeURIComponent(id)}/results?${period()}`);
    $("campaign-period").textContent = `Triggered ${when(r.from)} to ${when(r.to)}; goal: ${r.goal.event} within ${r.goal.within}`;
    const vt = $("campaign-variants");
    vt.hidden = r.variants.length < 2;
    const vb = body("campaign-variants");
    for (const v of r.variants) {
      const ab = (r.variantComparisons || []).find((x) => x.variant === v.variant);
      row(vb, [v.variant, n(v.treated), n(v.attributed), money(v.revenue), `${n(v.converted)} (${money(v.influencedRevenue)})`, liftText(v.lift),
        ab ? `${liftText(ab.difference)} against variant ${ab.against}` : "the first"]).children[5].className = "wrap";
    }
    const tb = body("campaign-steps");
    const map = (o) => Object.entries(o || {}).map(([k, v]) => `${k} ${n(v)}`).join(", ");
    for (const s of r.steps) row(tb, [s.step, s.kind, n(s.scheduled), n(s.delivered), map(s.suppressed), map(s.cancelled), n(s.failed), `${n(s.conversions)} (${Number(s.revenue).toFixed(2)})`]);
    const log = await api(`/api/campaigns/${encodeURIComponent(id)}/log?limit=100`);
    const lb = body("campaign-log");
    for (const l of log) row(lb, [when(l.at), l.step, l.customerId || l.profileId || "", l.outcome, l.reason || ""]);
  }

  // Customers.
  let customerId = null;
  async function showCustomer(id) {
    const j = await api(`/api/customers/${encodeURIComponent(id)}`);
    customerId = j.customerId || id;
    $("customer").hidden = false;
    $("customer-title").textContent = j.customerId || j.anonymousIds.join(", ");
    dl($("customer-facts"), [["phase", j.phaseName || phaseName(j.phase) || "none"], ["since", when(j.phaseSince)], ["orders", `${j.orderCount} (${j.orderTotal})`],
      ["events", j.eventCount], ["devices", j.anonymousIds.join(", ")], ["first seen", when(j.firstSeen)], ["last seen", when(j.lastSeen)]]);
    dl($("customer-traits"), Object.entries(j.traits || {}));
    const phases = $("customer-phases");
    phases.replaceChildren(...j.phaseHistory.map((p) => el("li", `${p.name || phaseName(p.phase)} · ${when(p.occurredAt || p.at)}${p.eventId ? " · " + p.eventId : ""}`)));
    const tb = body("customer-timeline");
    for (const e of j.timeline) {
      const details = el("span", [json(e.properties), json(e.traits), e.note].filter(Boolean).join(" "));
      row(tb, [when(e.occurredAt), e.type, details]).children[2].className = "wrap";
    }
    const ab = body("customer-actions");
    for (const a of j.actions) {
      // The action's life folded: its last outcome shows, the whole log opens on a click (a row stays a line or two high).
      const life = el("details");
      const log = a.log || [];
      life.append(el("summary", log.length ? `${log.length} entries · last: ${log[log.length - 1].outcome}` : "none"),
        el("ol", null), );
      life.querySelector("ol").append(...log.map((l) => el("li", `${l.outcome}${l.reason ? " (" + l.reason + ")" : ""}`)));
      const tr = row(ab, [a.campaignId, a.step, a.kind, a.status, when(a.dueAt), a.reason || "", life]);
      tr.children[5].className = "wrap";
      tr.children[6].className = "wrap";
    }
    const select = $("explain-form").elements.campaign;
    select.replaceChildren(...(campaigns.length ? campaigns : await loadCampaigns()).map((c) => el("option", c.id, { value: c.id })));
    $("explain").replaceChildren();
  }
  $("customer-form").addEventListener("submit", (e) => { e.preventDefault(); guard(showCustomer)(new FormData(e.target).get("id")); });
  $("explain-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guard(async () => {
      const campaign = new FormData(e.target).get("campaign");
      const x = await api(`/api/customers/${encodeURIComponent(customerId)}/explain?campaign=${encodeURIComponent(campaign)}`);
      const box = $("explain");
      box.replaceChildren(el("p", `${x.campaignId}: trigger ${x.trigger || "none"} · rules ${x.rulesVersion}`));
      for (const note of x.notes) box.append(el("p", note, { class: "note" }));
      for (const o of x.occurrences) {
        const item = el("div");
        item.append(el("p", `${o.eventType || "trigger"} ${o.triggerId} at ${when(o.occurredAt)}: ${o.started ? "started" : "not started"}${o.reason ? " · " + o.reason : ""}${o.holdout ? " · holdout" : ""}`));
        const list = el("ul");
        for (const c of o.conditions) list.append(el("li", `${c.condition}: actual ${json(c.actual)} → ${c.holds ? "holds" : "does not hold"}`, { class: c.holds ? "holds" : "fails" }));
        for (const s of o.steps) list.append(el("li", `step ${s.step} ${s.kind} (variant ${s.variant}): ${s.status}${s.reason ? " · " + s.reason : ""}${s.causeEventId ? " · by " + s.causeEventId : ""}`));
        item.append(list);
        box.append(item);
      }
    })();
  });
  loaders.customers = async () => { if (!campaigns.length) await loadCampaigns(); };

  // Pending actions, with cancel.
  loaders.pending = async () => {
    const select = $("pending-form").elements.campaign;
    if (!select.options.length) select.replaceChildren(el("option", "", { value: "" }), ...(await loadCampaigns()).map((c) => el("option", c.id, { value: c.id })));
  };
  async function listPending() {
    const form = new FormData($("pending-form"));
    const q = new URLSearchParams();
    if (form.get("campaign")) q.set("campaign", form.get("campaign"));
    if (form.get("customer")) q.set("customer", form.get("customer"));
    const pending = await api("/api/actions?" + q);
    const tb = body("pending-table");
    for (const a of pending) {
      const cancel = el("button", "Cancel", { type: "button", class: "secondary", "data-action": a.actionId });
      cancel.addEventListener("click", guard(async () => {
        await api(`/api/actions/${encodeURIComponent(a.actionId)}/cancel`, { method: "POST" });
        status(`Cancelled ${a.actionId}`);
        await listPending();
      }));
      row(tb, [when(a.dueAt), a.campaignId, a.step, a.profileId, a.kind, cancel]);
    }
    if (!pending.length) row(tb, ["Nothing pending", "", "", "", "", ""]);
  }
  $("pending-form").addEventListener("submit", (e) => { e.preventDefault(); guard(listPending)(); });

  // Rejected messages, with replay (admin keys).
  loaders.errors = async () => {
    const r = await api("/api/errors?limit=50");
    const tb = body("errors-table");
    for (const m of r.messages) {
      const replay = el("button", "Replay", { type: "button", class: "secondary" });
      replay.addEventListener("click", guard(async () => {
        const done = await api("/api/errors/replay", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ids: [m.id] }) });
        status(`Replayed ${done.replayed}`);
        await loaders.errors();
      }));
      // The button first: a long message never pushes it out of sight.
      const body = m.body || m.message;
      const text = typeof body === "string" ? body : json(body);
      const tr = row(tb, [replay, m.id, m.reason || m.error || "", el("span", text.length > 600 ? text.slice(0, 600) + "…" : text)]);
      for (const i of [1, 2, 3]) tr.children[i].className = "wrap";
    }
    if (!r.messages.length) row(tb, ["", "None", "", ""]);
  };

  // Rules: in force, history (with rollback), last refusal; validate, preview and apply a file (marketers and admins).
  const canChange = () => session.role === "marketer" || session.role === "admin";
  let inForce = null;        // the version in force and its campaigns, as last read
  let checked = null;        // the file last validated: { file, version, campaigns }
  let previewed = null;      // the preview of that file, when one ran: its result
  loaders.rules = async () => {
    const s = await api("/api/rules");
    inForce = s;
    dl($("rules-status"), [["version", s.version], ["activated", when(s.activatedAt)], ["files", (s.files || []).join(", ")],
      ["campaigns", (s.campaigns || []).join(", ")],
      ["last refused change", s.lastRefusal ? `${when(s.lastRefusal.at)}: ${s.lastRefusal.errors.join("; ")}` : "none"]]);
    const tb = body("rules-history");
    for (const v of await api("/api/rules/versions?limit=20")) {
      let action = "";
      if (v.version === s.version) action = el("span", "in force", { class: "note" });
      else if (canChange()) {
        action = el("button", "Roll back to this", { type: "button", class: "secondary", "data-version": v.version });
        action.addEventListener("click", () => confirmChange(`Put version ${v.version} back in force? Its files replace the rules in force (${s.version}).`,
          [`campaigns in ${v.version}: ${Object.keys(v.campaigns || {}).join(", ") || "none"}`, `campaigns in force: ${(s.campaigns || []).join(", ") || "none"}`],
          async () => {
            const r = await api(`/api/rules/versions/${encodeURIComponent(v.version)}/activate`, { method: "POST" });
            status(`Version ${r.version} is in force`);
          }));
      }
      row(tb, [v.version, when(v.activatedAt), v.by || "", (v.files || []).join(", "), action]);
    }
    $("apply-button").hidden = !(canChange() && checked);
  };
  function confirmChange(text, lines, change) {
    $("rules-confirm-text").textContent = text;
    $("rules-confirm-summary").replaceChildren(...lines.map((l) => el("li", l)));
    const box = $("rules-confirm");
    box.hidden = false;
    $("rules-confirm-yes").onclick = guard(async () => { box.hidden = true; await change(); await loaders.rules(); });
    $("rules-confirm-no").onclick = () => { box.hidden = true; };
  }
  const chosen = () => $("rules-form").elements.file.files[0];
  $("rules-form").elements.file.addEventListener("change", () => { checked = null; previewed = null; $("apply-button").hidden = true; });
  $("rules-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guard(async () => {
      const file = chosen();
      if (!file) throw new Error("Choose a rules file first");
      const form = new FormData();
      form.append("file", file, file.name);
      const r = await api("/api/rules/validate", { method: "POST", body: form });
      $("rules-result").textContent = r.valid ? `Valid: version ${r.version}, campaigns ${r.campaigns.join(", ")}` : r.errors.map((x) => x.text).join("\n");
      checked = r.valid ? { file, version: r.version, campaigns: r.campaigns } : null;
      $("apply-button").hidden = !(canChange() && checked);
    })();
  });
  // Apply: only a file that validated, after a look at what it changes (the preview's difference when one ran).
  $("apply-button").addEventListener("click", () => {
    if (!checked) return;
    const now = new Set(inForce ? inForce.campaigns : []);
    const next = new Set(checked.campaigns);
    const lines = [
      `new campaigns: ${[...next].filter((c) => !now.has(c)).join(", ") || "none"}`,
      `campaigns removed (their pending steps are cancelled): ${[...now].filter((c) => !next.has(c)).join(", ") || "none"}`,
      `campaigns kept: ${[...next].filter((c) => now.has(c)).join(", ") || "none"}`,
    ];
    if (previewed && previewed.proposedVersion === checked.version)
      for (const c of previewed.campaigns) lines.push(`preview, ${c.campaignId}: ${outcomes(c.difference)}; no longer ${who(c.onlyCurrent)}; only now ${who(c.onlyProposed)}`);
    else lines.push("not previewed: Preview replays the stored events through both before you apply");
    const file = checked.file;
    confirmChange(`Put ${file.name} (version ${checked.version}) in force in place of ${inForce ? inForce.version : "the rules in force"}?`, lines, async () => {
      const form = new FormData();
      form.append("file", file, file.name);
      const r = await api("/api/rules", { method: "PUT", body: form });
      checked = null;
      $("rules-result").textContent = `Version ${r.version} is in force`;
      status(`Version ${r.version} is in force`);
    });
  });

  // Preview: the proposal replayed on the stored events in the background; the progress bar follows it.
  const outcomes = (o) => `${n(o.scheduled)} scheduled, ${n(o.delivered)} delivered, ${n(o.suppressed)} suppressed, ${n(o.cancelled)} cancelled, ${n(o.pending)} pending`;
  const who = (c) => (c.count ? `${n(c.count)}: ${c.examples.join(", ")}` : "0");
  $("preview-button").addEventListener("click", guard(async () => {
    const form = $("rules-form");
    const file = form.elements.file.files[0];
    if (!file) throw new Error("Choose a rules file first");
    const data = new FormData();
    data.append("file", file, file.name);
    let job = await api(`/api/rules/preview?days=${encodeURIComponent(form.elements.days.value || "7")}`, { method: "POST", body: data });
    const bar = $("preview-progress");
    bar.hidden = false;
    $("rules-result").textContent = `Preview ${job.id} running…`;
    while (job.status === "running") {
      await new Promise((r) => setTimeout(r, 500));
      job = await api(`/api/rules/preview/${encodeURIComponent(job.id)}`);
      bar.value = job.progress;
      $("rules-result").textContent = `Preview ${job.id}: ${n(job.events)} of ${n(job.totalEvents)} events replayed`;
    }
    if (job.status !== "done" && !job.result) throw new Error(`Preview failed: ${job.error}`);
    const r = job.result;
    previewed = r;
    if (job.status !== "done") status(`Preview ${job.status}: ${job.error}; it judged ${n(r.judged)} of ${n(r.events)} events`);
    $("rules-result").textContent = `${r.proposedVersion} against ${r.currentVersion} in force: ${n(r.events)} events from ${when(r.from)} to ${when(r.to)} (${r.seconds} s)`;
    const table = $("preview-table");
    table.hidden = false;
    const tb = body("preview-table");
    for (const c of r.campaigns) row(tb, [c.campaignId, outcomes(c.current), outcomes(c.proposed), outcomes(c.difference), who(c.onlyCurrent), who(c.onlyProposed), who(c.changed)]);
  }));

  $("sign-out").addEventListener("click", guard(async () => {
    await api("/dashboard/sign-out", { method: "POST" });
    location.assign("/sign-in");
  }));

  guard(async () => {
    session = await api("/dashboard/session");
    $("who").textContent = `${session.name} (${session.role})`;
    // The phase model the rules run on is the funnel's default and names the phases everywhere.
    const rules = await api("/api/rules");
    phaseNames = rules.phaseNames || {};
    $("funnel-form").elements.model.value = rules.phaseModel || "five-phase";
    show();
  })();
})();
