// The facilitator console: share the campaign, run its phases, watch
// participation, act on incoming cards and reports, follow the live
// structure and results, export. It polls the HTTP API (one client, a few
// small requests every couple of seconds). English and French.
import { h, fill, clock } from "./dom.js";
import { t, lang, setLang } from "./i18n.js";
import "./console-strings.js";
import { Api, copy, credentials, forget, remember } from "./console-api.js";
import { showStart } from "./console-start.js";
import { cardsPanel, moderationPanel } from "./console-cards.js";
import { structurePanel, resultsPanel } from "./console-results.js";
import { sparkline } from "./charts.js";
import { renderSVG } from "./vendor/uqr.mjs";

// Live numbers: every 2 s is live enough for a room and cheap for the server.
const POLL_MS = 2000;
// The structure and results are computed on demand server-side: ask less often.
const SLOW_POLL_MS = 6000;
// Points kept for the contribution sparkline (2 s apart: about 4 minutes).
const HISTORY_POINTS = 120;
const EXTEND_SECONDS = 60;
// "Next phase" and "Finish" count down this long, with Cancel, before acting.
const CONFIRM_SECONDS = 5;
// Cards in the live feed.
const FEED_CARDS = 30;
const EXPORT_FORMATS = ["json", "csv", "polis", "html"];
const SECTIONS = [["run", "nav_run"], ["cards", "nav_cards"], ["moderation", "nav_moderation"],
  ["structure", "nav_structure"], ["results", "nav_results"], ["exports", "nav_exports"]];

const main = document.getElementById("main");
const statusEl = document.getElementById("fstatus");
const live = document.getElementById("live");
const langButton = document.getElementById("lang");
const nav = document.getElementById("sections");

function announce(text) {
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

function renderChrome() {
  document.querySelector(".brand").textContent = t("console_brand");
  document.querySelector(".skip").textContent = t("skip");
  langButton.textContent = t("lang_switch");
  langButton.setAttribute("lang", lang() === "fr" ? "en" : "fr");
  langButton.setAttribute("aria-label", t("lang_switch_label"));
}

// -- the dashboard ------------------------------------------------------------------------------

function dashboard(campaignId, api) {
  const state = { info: null, stats: null, moderation: null, feed: null, structure: null, results: null,
    history: [], clockOffset: 0, lastSlow: 0 };
  const section = (id, cls = "panel") => h("section", { class: cls, id, "aria-labelledby": `${id}-h` });
  const panels = {
    title: h("h1", { id: "title" }),
    share: section("share"), phase: section("phase"), people: section("people"),
    cards: section("cards"), moderation: section("moderation"),
    structure: section("structure"), results: section("results", "panel wide"), exports: section("exports", "panel exports"),
    plugin: h("section", { class: "panel wide", id: "plugin-panel", hidden: true }),
  };
  const feed = cardsPanel({ panel: panels.cards, api, campaignId, announce, refresh: () => poll() });
  const moderation = moderationPanel({ panel: panels.moderation, decide: feed.decide });
  const structure = structurePanel(panels.structure);
  let results = null;
  let phaseKey = null;
  let pending = null; // a "Next phase"/"Finish" counting down: {index, left, timer}
  const timer = h("p", { class: "big-timer", role: "timer" });

  function layout() {
    fill(main, panels.title,
      h("div", { class: "grid", id: "run" }, panels.share, panels.phase, panels.people),
      panels.plugin,
      h("div", { class: "grid two" }, panels.cards, panels.moderation),
      panels.structure, panels.results, panels.exports);
    fill(nav, SECTIONS.map(([id, key]) => h("a", { href: `#${id === "run" ? "run" : id}` }, t(key))));
    nav.hidden = false;
  }

  function renderShare() {
    const { campaign, links } = state.info;
    // The server's advertised link, not this page's address: a console opened
    // on http://127.0.0.1 must still show phones an address they can reach.
    const url = links?.join_url || `${location.origin}/join/${campaign.code}`;
    const qr = h("div", { "aria-hidden": "true", class: "qr" });
    qr.innerHTML = renderSVG(url, { border: 1 }); // SVG built from the URL by the vendored encoder, no user HTML
    fill(panels.share,
      h("h2", { id: "share-h" }, t("join_h")),
      h("div", { class: "share" }, qr,
        h("div", {},
          h("p", { class: "code", "aria-label": t("join_code_aria", { code: campaign.code.split("").join(" ") }) }, campaign.code),
          h("p", {}, h("a", { href: url, id: "join-link" }, url)),
          links && !links.reachable ? h("p", { class: "error", id: "unreachable" }, t("unreachable")) : null,
          h("div", { class: "row" },
            h("button", { type: "button", onclick: () => copy(url, announce, t("copied")) }, t("copy_link")),
            links?.presenter_url ? h("a", { class: "button", id: "open-presenter", href: links.presenter_url,
              target: "_blank", rel: "noopener", "aria-describedby": "presenter-hint" }, t("presenter_open")) : null),
          h("p", { class: "hint", id: "presenter-hint" }, t("presenter_hint")))));
  }

  async function control(action, body) {
    try {
      await api.call(`/api/campaigns/${campaignId}/phase/${action}`, { method: "POST", body: body ?? {} });
      announce(t("done_action", { action: t(action === "advance" ? "next_phase" : action, { n: 1 }) }));
      await poll();
    } catch (e) {
      announce(e.message);
      statusEl.textContent = e.message;
    }
  }

  function cancelPending(say = true) {
    if (!pending) return;
    clearInterval(pending.timer);
    pending = null;
    phaseKey = null;
    if (say) announce(t("cancelled"));
    renderPhase();
    document.getElementById("ctl-advance")?.focus();
  }

  function confirmAdvance(index, last) {
    const next = state.info.campaign.phases[index + 1];
    pending = { index, last, left: CONFIRM_SECONDS, nextTitle: next?.title };
    pending.timer = setInterval(() => {
      pending.left -= 1;
      if (pending.left <= 0) {
        const { index: phase } = pending;
        cancelPending(false);
        control("advance", { index: phase });
      } else {
        renderCountdown();
      }
    }, 1000);
    phaseKey = null;
    renderPhase();
    document.getElementById("ctl-cancel")?.focus();
  }

  function countdownText() {
    return pending.last ? t("confirm_finish", { n: pending.left }) : t("confirm_next", { title: pending.nextTitle, n: pending.left });
  }

  function renderCountdown() {
    const el = document.getElementById("countdown");
    if (el && pending) el.textContent = countdownText();
  }

  function renderPhase() {
    const { campaign, phase } = state.info;
    if (pending && (phase.index !== pending.index || phase.status === "finished")) cancelPending(false); // the timer moved on first
    const key = `${phase.index}:${phase.status}:${!!pending}:${lang()}`;
    if (key === phaseKey) return renderTimer();
    const focused = document.activeElement?.id;
    phaseKey = key;
    const buttons = [];
    const button = (id, label, onclick, cls = "") => buttons.push(h("button", { type: "button", id, class: cls, onclick }, label));
    if (phase.status === "draft") button("ctl-start", t("start"), () => control("start"), "primary");
    if (phase.status === "running") {
      button("ctl-pause", t("pause"), () => control("pause"));
      button("ctl-extend", t("extend", { n: EXTEND_SECONDS / 60 }), () => control("extend", { seconds: EXTEND_SECONDS }));
    }
    if (phase.status === "paused") button("ctl-resume", t("resume"), () => control("resume"), "primary");
    if (phase.status !== "finished" && phase.status !== "draft" && !pending) {
      const last = phase.index >= campaign.phases.length - 1;
      // The phase shown is the one to end: if its timer ends it first, the click ends nothing.
      button("ctl-advance", last ? t("finish") : t("next_phase"), () => confirmAdvance(phase.index, last), "primary");
    }
    fill(panels.phase,
      h("h2", { id: "phase-h" }, t("phases_h")),
      h("ol", { class: "phases" }, campaign.phases.map((p) =>
        h("li", { "aria-current": p.index === phase.index && phase.status !== "finished" ? "step" : null }, `${p.index + 1}. ${p.title}`))),
      h("p", {}, h("strong", {}, phase.title || campaign.title), ` — ${t(`status_${phase.status}`)}`),
      timer,
      pending ? h("div", { class: "countdown stack", role: "group", "aria-labelledby": "countdown" },
        h("p", { id: "countdown", class: "countdown-text", "aria-live": "polite" }, countdownText()),
        h("p", { class: "hint" }, t("confirm_hint")),
        h("div", { class: "row" },
          h("button", { type: "button", id: "ctl-cancel", class: "primary", onclick: () => cancelPending() }, t("cancel")),
          h("button", { type: "button", id: "ctl-now", onclick: () => {
            const { index } = pending;
            cancelPending(false);
            control("advance", { index });
          } }, t("now")))) : null,
      h("div", { class: "row" }, buttons));
    renderTimer();
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    else if (buttons.length && document.activeElement === document.body) buttons[0].focus();
  }

  function renderTimer() {
    const phase = state.info?.phase;
    if (!phase) return;
    let left = null;
    if (phase.status === "paused") left = phase.remaining;
    else if (phase.status === "running" && phase.deadline != null) left = phase.deadline - (Date.now() / 1000 + state.clockOffset);
    timer.setAttribute("aria-label", t("time_left"));
    timer.textContent = left == null ? "" : (left <= 0 ? t("overtime") : clock(left)) + (phase.status === "paused" ? ` ${t("paused_suffix")}` : "");
  }

  function renderPeople() {
    const counters = { ...(state.info?.counters || {}), ...(state.stats?.counters || {}) };
    const rate = state.stats?.contribution_rate_per_minute ?? 0;
    const items = [
      ["Online", "stat_online", state.stats?.participants_online ?? counters.online ?? 0],
      ["Joined", "stat_joined", counters.participants ?? 0],
      ["Cards", "stat_cards", counters.cards ?? 0],
      ["Sorters", "stat_sorters", counters.sorters ?? 0],
      ["Placements", "stat_placements", counters.placements ?? 0],
      ["Judgments", "stat_judgments", counters.judgments ?? 0],
      ["Rate", "stat_rate", rate],
    ];
    fill(panels.people,
      h("h2", { id: "people-h" }, t("people_h")),
      h("dl", { class: "stats" }, items.map(([name, key, v]) => h("div", {}, h("dt", {}, t(key)), h("dd", { "data-stat": name }, String(v))))),
      sparkline(state.history, { label: t("rate_label", { n: rate }) }));
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
      h("h2", { id: "exports-h" }, t("exports_h")),
      h("p", { class: "hint" }, t("exports_hint")),
      h("div", { class: "row" }, EXPORT_FORMATS.map((fmt) => h("button", { type: "button", id: `export-${fmt}`, onclick: () => download(fmt) }, fmt.toUpperCase()))));
  }

  function renderAll() {
    layout();
    fill(panels.title, state.info.campaign.title);
    renderShare();
    renderExports();
    phaseKey = null;
    delete panels.cards.dataset.key;
    delete panels.moderation.dataset.key;
    renderPhase();
    renderPeople();
    feed.render(state.feed);
    moderation.render(state.moderation);
    structure.render(state.structure);
    results.render(state.results);
    renderPluginPanel();
  }

  // A plugin phase's panel (docs/plugins.md, "Writing a new phase"): imported
  // from /plugins/<phase type>/, mounted once per phase, updated on each poll.
  let pluginPanel = { key: null, view: null };
  const panelApi = {
    state: () => ({ ...state.info }),
    send: async (command, payload = {}) => (await api.call(
      `/api/campaigns/${campaignId}/commands/${encodeURIComponent(command)}`, { method: "POST", body: payload })).result,
    h, announce,
    refresh: () => poll(),
  };
  function renderPluginPanel() {
    const url = state.info.panel;
    const key = url ? `${state.info.phase.index}:${url}` : null;
    if (key !== pluginPanel.key) {
      pluginPanel = { key, view: null };
      panels.plugin.hidden = !url;
      fill(panels.plugin);
      if (!url) return;
      const mine = pluginPanel;
      import(url).then((module) => {
        if (mine !== pluginPanel) return;
        mine.view = module.mount(panelApi);
        fill(panels.plugin, mine.view.el);
        mine.view.update?.();
      }).catch((e) => {
        fill(panels.plugin, h("p", { class: "error", role: "alert" }, t("plugin_panel_failed", { message: e.message })));
      });
      return;
    }
    pluginPanel.view?.update?.();
  }

  async function poll() {
    const base = `/api/campaigns/${campaignId}`;
    const [info, stats, mod, cards] = await Promise.all([api.call(base), api.call(`${base}/stats`),
      api.call(`${base}/moderation`), api.call(`${base}/cards?limit=${FEED_CARDS}`)]);
    const firstTime = !state.info;
    Object.assign(state, { info, stats, moderation: mod, feed: cards });
    if (info.phase.server_time != null) state.clockOffset = info.phase.server_time - Date.now() / 1000;
    state.history.push(stats.contribution_rate_per_minute ?? 0);
    if (state.history.length > HISTORY_POINTS) state.history.shift();
    const now = Date.now();
    const slow = now - state.lastSlow >= SLOW_POLL_MS || firstTime;
    if (slow) {
      state.lastSlow = now;
      const [s, r] = await Promise.all([
        api.call(`${base}/structure`).catch(() => null), api.call(`${base}/results`).catch(() => null)]);
      state.structure = s;
      state.results = r;
    }
    if (firstTime) {
      document.title = `${info.campaign.title} · Essaim`;
      remember({ id: campaignId, token: api.token, title: info.campaign.title, code: info.campaign.code });
      results = resultsPanel(panels.results, info.campaign);
      renderAll();
    } else {
      renderPhase();
      renderPluginPanel();
      renderPeople();
      feed.render(cards);
      moderation.render(mod);
      if (slow) {
        structure.render(state.structure);
        results.render(state.results);
      }
    }
    statusEl.textContent = t("status_live", { time: new Date().toLocaleTimeString(lang()) });
  }

  async function loop() {
    try {
      // A console left in a background tab costs the server nothing.
      if (!document.hidden || !state.info) await poll();
    } catch (e) {
      if (e.status === 401 || e.status === 404) {
        forget(campaignId);
        nav.hidden = true;
        return showStart(main, announce, `${e.message}`);
      }
      statusEl.textContent = t("status_problem", { message: e.message });
    }
    setTimeout(loop, POLL_MS);
  }
  setInterval(renderTimer, 1000);
  loop();
  return { rerender: () => state.info && renderAll() };
}

let current = null;
langButton.addEventListener("click", () => {
  setLang(lang() === "fr" ? "en" : "fr");
  renderChrome();
  if (current) current.rerender();
  else showStart(main, announce);
  langButton.focus();
});

renderChrome();
const { campaign, token } = credentials();
if (campaign && token) current = dashboard(campaign, new Api(token));
else showStart(main, announce);
