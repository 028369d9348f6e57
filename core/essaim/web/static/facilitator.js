// The facilitator console: create a campaign, share it, run its phases,
// watch participation, moderation, the live structure and the results.
// It polls the HTTP API (one client, a few small requests every couple of seconds).
import { h, fill, clock } from "./dom.js";
import { barChart, sparkline } from "./charts.js";
import { renderSVG } from "./vendor/uqr.mjs";

// Live numbers: every 2 s is live enough for a room and cheap for the server.
const POLL_MS = 2000;
// The structure and results are computed on demand server-side: ask less often.
const SLOW_POLL_MS = 6000;
// Points kept for the contribution sparkline (2 s apart: about 4 minutes).
const HISTORY_POINTS = 120;
const EXTEND_SECONDS = 60;
const EXPORT_FORMATS = ["json", "csv", "polis", "html"];

const main = document.getElementById("main");
const statusEl = document.getElementById("fstatus");
const live = document.getElementById("live");

/** "1 card", "2 cards": the console is in English. */
function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function announce(text) {
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

/** Campaign id and token from #campaign=..&token=.. or ?campaign=..#token=.. ; the token is then kept in sessionStorage and removed from the address bar. */
function credentials() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const campaign = hash.get("campaign") || query.get("campaign");
  let token = hash.get("token");
  if (campaign && token) {
    sessionStorage.setItem(`essaim:fac:${campaign}`, token);
    history.replaceState(null, "", `/facilitator?campaign=${encodeURIComponent(campaign)}`);
  } else if (campaign) {
    token = sessionStorage.getItem(`essaim:fac:${campaign}`);
  }
  return { campaign, token };
}

class Api {
  constructor(token) { this.token = token; }
  async call(path, { method = "GET", body } = {}) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : await response.blob();
    if (!response.ok) {
      const error = new Error(data?.error?.message || `HTTP ${response.status}`);
      error.code = data?.error?.code;
      error.status = response.status;
      throw error;
    }
    return data;
  }
}

// -- no campaign yet: create one or open one ------------------------------------------------------

function showStart(error = null) {
  const adminToken = h("input", { id: "admin-token", type: "password", autocomplete: "off", required: true });
  const template = h("select", { id: "template" }, h("option", { value: "demo" }, "demo"));
  const toml = h("input", { id: "toml", type: "file", accept: ".toml,text/plain" });
  const createError = h("p", { class: "error", role: "alert" }, error || "");
  const loadTemplates = async () => {
    if (!adminToken.value) return;
    try {
      const { templates } = await new Api(adminToken.value).call("/api/templates");
      fill(template, templates.map((name) => h("option", { value: name }, name)));
    } catch (e) {
      createError.textContent = e.message;
    }
  };
  adminToken.addEventListener("change", loadTemplates);
  const create = h("form", { class: "panel stack", onsubmit: async (event) => {
    event.preventDefault();
    createError.textContent = "";
    try {
      const body = toml.files.length ? { toml: await toml.files[0].text() } : { template: template.value };
      const created = await new Api(adminToken.value).call("/api/campaigns", { method: "POST", body });
      sessionStorage.setItem(`essaim:fac:${created.campaign_id}`, created.facilitator_token);
      location.assign(`/facilitator?campaign=${encodeURIComponent(created.campaign_id)}`);
    } catch (e) {
      createError.textContent = e.message;
    }
  } },
    h("h2", {}, "Create a campaign"),
    h("div", {}, h("label", { for: "admin-token" }, "Server admin token"), adminToken,
      h("p", { class: "hint" }, "Printed by `essaim serve` at start-up, or set with ESSAIM_ADMIN_TOKEN.")),
    h("div", {}, h("label", { for: "template" }, "Built-in template"), template),
    h("div", {}, h("label", { for: "toml" }, "…or upload a template (TOML)"), toml),
    createError,
    h("button", { type: "submit", class: "primary" }, "Create"));
  const campaignId = h("input", { id: "open-campaign", autocomplete: "off", required: true });
  const facToken = h("input", { id: "open-token", type: "password", autocomplete: "off", required: true });
  const open = h("form", { class: "panel stack", onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(`essaim:fac:${campaignId.value.trim()}`, facToken.value.trim());
    location.assign(`/facilitator?campaign=${encodeURIComponent(campaignId.value.trim())}`);
  } },
    h("h2", {}, "Open a campaign"),
    h("div", {}, h("label", { for: "open-campaign" }, "Campaign id"), campaignId),
    h("div", {}, h("label", { for: "open-token" }, "Facilitator token"), facToken),
    h("button", { type: "submit" }, "Open"));
  fill(main, h("h1", {}, "Facilitator console"), h("div", { class: "grid" }, create, open));
}

// -- the dashboard ------------------------------------------------------------------------------

function dashboard(campaignId, api) {
  const state = { info: null, stats: null, moderation: null, structure: null, results: null, history: [], clockOffset: 0, lastSlow: 0 };
  const panels = {
    title: h("h1", { id: "title" }),
    share: h("section", { class: "panel", "aria-labelledby": "share-h" }),
    phase: h("section", { class: "panel", "aria-labelledby": "phase-h" }),
    people: h("section", { class: "panel", "aria-labelledby": "people-h" }),
    moderation: h("section", { class: "panel", "aria-labelledby": "moderation-h" }),
    structure: h("section", { class: "panel", "aria-labelledby": "structure-h" }),
    results: h("section", { class: "panel", "aria-labelledby": "results-h" }),
    exports: h("section", { class: "panel exports", "aria-labelledby": "exports-h" }),
  };
  fill(main, panels.title, h("div", { class: "grid" }, Object.values(panels).slice(1)));
  let phaseKey = null;
  let moderationKey = null;
  const timer = h("p", { class: "big-timer", role: "timer", "aria-label": "Time left" });

  function renderShare() {
    const { campaign, links } = state.info;
    // The server's advertised link, not this page's address: a console opened
    // on http://127.0.0.1 must still show phones an address they can reach.
    const url = links?.join_url || `${location.origin}/join/${campaign.code}`;
    const qr = h("div", { "aria-hidden": "true" });
    qr.innerHTML = renderSVG(url, { border: 1 }); // SVG built from the URL by the vendored encoder, no user HTML
    fill(panels.share,
      h("h2", { id: "share-h" }, "Join"),
      h("div", { class: "share" }, qr,
        h("div", {},
          h("p", { class: "code", "aria-label": `Join code ${campaign.code.split("").join(" ")}` }, campaign.code),
          h("p", {}, h("a", { href: url, id: "join-link" }, url)),
          links && !links.reachable ? h("p", { class: "error", id: "unreachable" },
            "Phones cannot open this link: the server only listens on this computer. "
            + "Restart it with HOST=0.0.0.0 make run (or set PUBLIC_URL) so devices on your network can join.") : null,
          h("button", { type: "button", onclick: async () => {
            try { await navigator.clipboard.writeText(url); announce("Link copied."); } catch { announce(url); }
          } }, "Copy link"))));
  }

  async function control(action, body) {
    try {
      await api.call(`/api/campaigns/${campaignId}/phase/${action}`, { method: "POST", body: body ?? {} });
      announce(`Done: ${action}.`);
      await poll();
    } catch (e) {
      announce(e.message);
      statusEl.textContent = e.message;
    }
  }

  function renderPhase() {
    const { campaign, phase } = state.info;
    const key = `${phase.index}:${phase.status}`;
    if (key === phaseKey) return renderTimer();
    const focused = document.activeElement?.id;
    phaseKey = key;
    const buttons = [];
    const button = (id, label, action, cls = "", body) => buttons.push(
      h("button", { type: "button", id, class: cls, onclick: () => control(action, body) }, label));
    if (phase.status === "draft") button("ctl-start", "Start", "start", "primary");
    if (phase.status === "running") {
      button("ctl-pause", "Pause", "pause");
      button("ctl-extend", `+${EXTEND_SECONDS / 60} min`, "extend", "", { seconds: EXTEND_SECONDS });
    }
    if (phase.status === "paused") button("ctl-resume", "Resume", "resume", "primary");
    if (phase.status !== "finished" && phase.status !== "draft") {
      const last = phase.index >= campaign.phases.length - 1;
      // The phase shown is the one to end: if its timer ends it first, the click ends nothing.
      button("ctl-advance", last ? "Finish" : "Next phase", "advance", "primary", { index: phase.index });
    }
    fill(panels.phase,
      h("h2", { id: "phase-h" }, "Phases"),
      h("ol", { class: "phases" }, campaign.phases.map((p) =>
        h("li", { "aria-current": p.index === phase.index && phase.status !== "finished" ? "step" : null }, `${p.index + 1}. ${p.title}`))),
      h("p", {}, h("strong", {}, phase.title || campaign.title), ` — ${phase.status}`),
      timer,
      h("div", { class: "row" }, buttons));
    renderTimer();
    if (focused) document.getElementById(focused)?.focus();
    else if (buttons.length && panels.phase.contains(document.activeElement) === false && document.activeElement === document.body) buttons[0].focus();
  }

  function renderTimer() {
    const phase = state.info?.phase;
    if (!phase) return;
    let left = null;
    if (phase.status === "paused") left = phase.remaining;
    else if (phase.status === "running" && phase.deadline != null) left = phase.deadline - (Date.now() / 1000 + state.clockOffset);
    timer.textContent = left == null ? "" : (left <= 0 ? "overtime" : clock(left)) + (phase.status === "paused" ? " (paused)" : "");
  }

  function renderPeople() {
    const counters = { ...(state.info?.counters || {}), ...(state.stats?.counters || {}) };
    const rate = state.stats?.contribution_rate_per_minute ?? 0;
    const items = [
      ["Online", state.stats?.participants_online ?? counters.online ?? 0],
      ["Joined", counters.participants ?? 0],
      ["Cards", counters.cards ?? 0],
      ["Sorters", counters.sorters ?? 0],
      ["Placements", counters.placements ?? 0],
      ["Judgments", counters.judgments ?? 0],
      ["Per minute", rate],
    ];
    fill(panels.people,
      h("h2", { id: "people-h" }, "Participation"),
      h("dl", { class: "stats" }, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { "data-stat": k }, String(v))))),
      sparkline(state.history, { label: `Contributions per minute over the last minutes, now ${rate}` }));
  }

  async function decide(cid, verdict) {
    try {
      await api.call(`/api/campaigns/${campaignId}/moderation`, { method: "POST", body: { cid, verdict } });
      announce(verdict === "hide" ? "Card hidden." : "Card kept.");
      await poll();
    } catch (e) {
      announce(e.message);
    }
  }

  function renderModeration() {
    const m = state.moderation;
    if (!m) return;
    const key = JSON.stringify([m.open_cases, m.hidden_cards]);
    if (key === moderationKey) return;
    moderationKey = key;
    fill(panels.moderation,
      h("h2", { id: "moderation-h" }, `Moderation (${m.open_cases.length} open)`),
      m.open_cases.length ? null : h("p", { class: "hint" }, "No open case."),
      m.open_cases.map((c) => h("div", { class: "case" },
        h("p", {}, c.text),
        h("p", { class: "hint" }, `${count(c.flags, "report")}${c.reasons.length ? ": " + c.reasons.join("; ") : ""} · jury ${c.votes.hide} hide / ${c.votes.keep} keep of ${c.jury_size}`),
        h("div", { class: "row" },
          h("button", { type: "button", class: "danger", "aria-label": `Hide: ${c.text}`, onclick: () => decide(c.cid, "hide") }, "Hide"),
          h("button", { type: "button", class: "good", "aria-label": `Keep: ${c.text}`, onclick: () => decide(c.cid, "keep") }, "Keep")))),
      m.hidden_cards.length ? h("details", {},
        h("summary", {}, `Hidden cards (${m.hidden_cards.length})`),
        m.hidden_cards.map((c) => h("div", { class: "case" }, h("p", {}, c.text),
          h("button", { type: "button", class: "good", "aria-label": `Restore: ${c.text}`, onclick: () => decide(c.cid, "keep") }, "Restore")))) : null);
  }

  function renderStructure() {
    const s = state.structure;
    const themes = s?.themes || [];
    const rows = themes.map((t) => ({
      label: t.title, value: t.ideas.reduce((n, i) => n + i.cards.length, 0),
      note: `${count(t.ideas.reduce((n, i) => n + i.cards.length, 0), "card")} · ${count(t.ideas.length, "idea")}`,
    }));
    fill(panels.structure,
      h("h2", { id: "structure-h" }, `Live structure (${themes.length} themes)`),
      themes.length ? barChart(rows, { label: `Themes by number of cards: ${rows.map((r) => `${r.label} ${r.value}`).join(", ")}` })
        : h("p", { class: "hint" }, "Themes appear as participants sort cards."));
  }

  function renderResults() {
    const sheets = state.results?.sheets || [];
    const fmt = (v) => v.toFixed(2);
    fill(panels.results,
      h("h2", { id: "results-h" }, "Live results"),
      sheets.length ? [
        barChart(sheets.slice(0, 10).map((s) => ({ label: `${s.rank}. ${s.title}`, value: Math.max(0, s.score), low: Math.max(0, s.low), high: Math.max(0, s.high) })),
          { label: `Top ideas by score: ${sheets.slice(0, 10).map((s) => `${s.rank}. ${s.title} ${fmt(s.score)}`).join("; ")}`, format: fmt }),
        h("table", {}, h("caption", { class: "visually-hidden" }, "Ranked opportunity sheets"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, "Idea"), h("th", { scope: "col" }, "Score"), h("th", { scope: "col" }, "Supporters"), h("th", { scope: "col" }, "Consensus"))),
          h("tbody", {}, sheets.map((s) => h("tr", {}, h("td", {}, s.rank), h("td", {}, s.title), h("td", {}, fmt(s.score)), h("td", {}, s.supporters), h("td", {}, fmt(s.consensus ?? 0)))))),
      ] : h("p", { class: "hint" }, "Results appear once participants evaluate ideas."));
  }

  function renderExports() {
    const download = async (fmt) => {
      try {
        const blob = await api.call(`/api/campaigns/${campaignId}/export/${fmt}`);
        const data = blob instanceof Blob ? blob : new Blob([JSON.stringify(blob, null, 2)], { type: "application/json" });
        const link = h("a", { href: URL.createObjectURL(data), download: `${campaignId}.${fmt === "polis" ? "zip" : fmt}` });
        document.body.append(link);
        link.click();
        link.remove();
      } catch (e) {
        announce(e.message);
      }
    };
    fill(panels.exports,
      h("h2", { id: "exports-h" }, "Exports"),
      h("p", { class: "hint" }, "Results, structure and moderation log, ready to share."),
      h("div", { class: "row" }, EXPORT_FORMATS.map((fmt) => h("button", { type: "button", id: `export-${fmt}`, onclick: () => download(fmt) }, fmt.toUpperCase()))));
  }

  async function poll() {
    const base = `/api/campaigns/${campaignId}`;
    const [info, stats, moderation] = await Promise.all([api.call(base), api.call(`${base}/stats`), api.call(`${base}/moderation`)]);
    const firstTime = !state.info;
    state.info = info;
    state.stats = stats;
    state.moderation = moderation;
    if (info.phase.server_time != null) state.clockOffset = info.phase.server_time - Date.now() / 1000;
    state.history.push(stats.contribution_rate_per_minute ?? 0);
    if (state.history.length > HISTORY_POINTS) state.history.shift();
    const now = Date.now();
    if (now - state.lastSlow >= SLOW_POLL_MS || firstTime) {
      state.lastSlow = now;
      const [structure, results] = await Promise.all([
        api.call(`${base}/structure`).catch(() => null), api.call(`${base}/results`).catch(() => null)]);
      state.structure = structure;
      state.results = results;
      renderStructure();
      renderResults();
    }
    if (firstTime) {
      document.title = `${info.campaign.title} · Essaim facilitator`;
      fill(panels.title, info.campaign.title);
      renderShare();
      renderExports();
    }
    renderPhase();
    renderPeople();
    renderModeration();
    statusEl.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  }

  async function loop() {
    try {
      // A console left in a background tab costs the server nothing.
      if (!document.hidden || !state.info) await poll();
    } catch (e) {
      if (e.status === 401 || e.status === 404) {
        sessionStorage.removeItem(`essaim:fac:${campaignId}`);
        return showStart(`${e.message}`);
      }
      statusEl.textContent = `Connection problem (${e.message}); retrying…`;
    }
    setTimeout(loop, POLL_MS);
  }
  setInterval(renderTimer, 1000);
  loop();
}

const { campaign, token } = credentials();
if (campaign && token) dashboard(campaign, new Api(token));
else showStart();
