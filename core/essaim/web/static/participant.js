// The participant app: join, then one view per phase, kept live by the
// session's updates. Plain ES modules, no build step.
import { h, fill, clock } from "./dom.js";
import { t, lang, setLang, campaignTexts } from "./i18n.js";
import { Session, SavedSession } from "./session.js";
import { codeFromLocation, showCodeForm, askProfile, lookUpCode } from "./join.js";
import { collectView } from "./collect.js";
import { sortView } from "./sort.js";
import { evaluateView } from "./evaluate.js";
import { resultsView } from "./results.js";
import { pluginPhaseView } from "./plugin_phase.js";
import { renderJury } from "./jury.js";

const TIMER_TICK_MS = 1000;
const LOW_TIME_SECONDS = 60;

const main = document.getElementById("main");
const live = document.getElementById("live");
const timerEl = document.getElementById("timer");
const countersEl = document.getElementById("counters");
const connEl = document.getElementById("conn");
const phaseNameEl = document.getElementById("phase-name");
const juryEl = document.getElementById("jury");
const langButton = document.getElementById("lang");

const app = { session: null, saved: null, view: null, viewKey: null, announce };

function announce(message) {
  // Clear first so the same message twice is read twice.
  live.textContent = "";
  setTimeout(() => { live.textContent = message; }, 50);
}

function renderLangButton() {
  const other = lang() === "fr" ? "en" : "fr";
  langButton.textContent = t("lang_switch");
  langButton.setAttribute("lang", other);
  langButton.setAttribute("aria-label", t("lang_switch_label"));
  document.querySelector(".skip").textContent = lang() === "fr" ? "Aller au contenu" : "Skip to content";
}

langButton.addEventListener("click", () => {
  setLang(lang() === "fr" ? "en" : "fr");
  renderLangButton();
  if (app.session) {
    app.viewKey = null;
    render();
  } else {
    boot();
  }
  langButton.focus();
});

/** Which view the current state calls for, as a key; a new key rebuilds the page. */
function viewKeyOf(state) {
  const phase = state.phase;
  if (!phase) return "connecting";
  if (phase.status === "finished") return "finished";
  if (phase.status === "draft") return "waiting";
  if (phase.status === "paused") return `paused:${phase.index}`;
  if (phase.status !== "running") return `between:${phase.index}`;
  const allowed = phase.allowed || [];
  let kind = "info";
  if (phase.type === "results") kind = "results";
  else if ("screen" in phase) kind = "plugin";  // a plugin's own kind of phase
  else if (allowed.includes("write_card")) kind = "collect";
  else if (allowed.includes("deal") || allowed.includes("place") || allowed.includes("volunteer")) kind = "sort";
  else if (allowed.includes("evaluate")) kind = "evaluate";
  else if (allowed.length === 0) kind = `between`;
  return `${kind}:${phase.index}`;
}

function message(titleKey, textKey) {
  return {
    el: h("div", { class: "card stack" },
      h("h1", { id: "view-title", tabindex: "-1" }, t(titleKey)),
      h("p", {}, t(textKey))),
    update() {},
  };
}

function buildView(key) {
  const kind = key.split(":")[0];
  switch (kind) {
    case "collect": return collectView(app);
    case "sort": return sortView(app);
    case "evaluate": return evaluateView(app);
    case "results": return resultsView(app);
    case "plugin": return pluginPhaseView(app);
    case "finished": return resultsView(app, { finished: true });
    case "waiting": return message("waiting_title", "waiting_text");
    case "paused": return message("paused", "paused_text");
    case "between": return message("app_name", "between_text");
    case "connecting": return message("app_name", "connecting");
    default: return message("app_name", "between_text");
  }
}

/** The card a participant was typing when collection ended: kept and shown, never dropped. */
function unsentCard(kind) {
  const draft = app.saved.get("draft");
  if (kind === "collect" || !draft || !draft.text || !draft.text.trim()) return null;
  const box = h("section", { class: "card unsent stack", "aria-labelledby": "unsent-title" },
    h("h2", { id: "unsent-title" }, t("unsent_title")),
    h("p", { class: "hint" }, t("unsent_text")),
    h("blockquote", { id: "unsent-text" }, draft.text),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: async () => {
        try { await navigator.clipboard.writeText(draft.text); announce(t("copied")); } catch { announce(draft.text); }
      } }, t("copy")),
      h("button", { type: "button", class: "link-button", onclick: () => {
        app.saved.set("draft", { ...draft, text: "" });
        box.remove();
        document.getElementById("view-title")?.focus();
      } }, t("dismiss"))));
  return box;
}

function phaseTitle(phase) {
  return campaignTexts(app.session.state.campaign).phase(phase.index, phase.title);
}

function render() {
  const state = app.session.state;
  const key = viewKeyOf(state);
  if (key !== app.viewKey) {
    const first = app.viewKey === null;
    const hadFocus = main.contains(document.activeElement) || document.activeElement === document.body;
    // The key is kept only once its view is built: a view that failed to
    // build is tried again on the next state, not left half-made.
    app.view = buildView(key);
    app.viewKey = key;
    fill(main, unsentCard(key.split(":")[0]), app.view.el);
    if (!first && state.phase?.title) announce(t("phase_changed", { title: phaseTitle(state.phase) }));
    if (hadFocus) (app.view.focusTarget || document.getElementById("view-title"))?.focus();
  } else {
    app.view.update();
  }
  renderHeader();
  renderJury(app, juryEl);
}

function renderHeader() {
  const { campaign, phase, counters } = app.session.state;
  if (campaign) {
    const texts = campaignTexts(campaign);
    document.title = `${texts.title} · Essaim`;
    const total = campaign.phases.length;
    phaseNameEl.textContent = phase && phase.type ? `${phaseTitle(phase)} · ${phase.index + 1}/${total}` : texts.title;
    phaseNameEl.title = phase && phase.type ? t("phase_of", { n: phase.index + 1, total }) : "";
  }
  countersEl.textContent = counters && counters.participants != null
    ? `${t("participants", { n: counters.participants })} · ${t("cards", { n: counters.cards ?? 0 })}` : "";
  renderTimer();
}

let lowAnnounced = null;
function renderTimer() {
  if (!app.session) return;
  const phase = app.session.state.phase;
  const left = app.session.remaining();
  timerEl.classList.toggle("low", left != null && left <= LOW_TIME_SECONDS);
  timerEl.setAttribute("aria-label", t("timer_label"));
  if (left == null) {
    timerEl.textContent = "";
  } else if (phase.status === "paused") {
    timerEl.textContent = `${t("paused")} ${clock(left)}`;
  } else if (left <= 0 || phase.overtime) {
    timerEl.textContent = t("overtime");
  } else {
    timerEl.textContent = clock(left);
    const mark = `${phase.index}`;
    if (left <= LOW_TIME_SECONDS && left > LOW_TIME_SECONDS - 2 && lowAnnounced !== mark) {
      lowAnnounced = mark;
      announce(t("one_minute"));
    }
  }
}

function renderConnection(status) {
  const pending = app.session ? app.session.outbox.length : 0;
  connEl.classList.toggle("offline", status !== "online" && status !== "ended");
  connEl.dataset.status = status;
  if (status === "ended") connEl.textContent = "";
  else if (status === "online") connEl.textContent = pending ? t("pending_actions", { n: pending }) : t("online");
  else if (status === "connecting") connEl.textContent = t("connecting");
  else connEl.textContent = t("reconnecting");
}

function errorMessage(error) {
  const known = { not_found: "error_not_found", campaign_full: "error_campaign_full", rate_limited: "error_rate_limited" };
  return known[error.code] ? t(known[error.code]) : `${t("error_prefix")} ${error.message}`;
}

function startSession(code, profile) {
  const session = new Session(code, { profile, lang: lang() });
  app.session = session;
  app.saved = session.saved;
  window.essaim = app; // for the browser tests and curious developers
  let status = "connecting";
  session.addEventListener("connection", (e) => {
    status = e.detail.status;
    renderConnection(status);
    if (status === "online" && app.view?.onResume) app.view.onResume();
  });
  session.addEventListener("outbox", () => renderConnection(status));
  session.addEventListener("state", () => render());
  session.addEventListener("ack", (e) => app.view?.onAck?.(e.detail.entry, e.detail.ack));
  session.addEventListener("refused", (e) => {
    const { entry, error } = e.detail;
    if (!["already_done", "nothing_left"].includes(error.code)) announce(errorMessage(error));
    app.view?.onRefused?.(entry, error);
    app.view?.update();
  });
  session.addEventListener("fatal", (e) => {
    app.session = null;
    showCodeForm(main, errorMessage(e.detail), code);
  });
  session.addEventListener("notice", (e) => announce(errorMessage(e.detail)));
  app.viewKey = null;
  fill(main, h("p", { class: "hint" }, t("connecting")));
  renderConnection(status);
  session.start();
}

async function boot() {
  renderLangButton();
  const code = codeFromLocation();
  if (!code) return showCodeForm(main);
  const saved = new SavedSession(code);
  if (saved.get("token")) return startSession(code, null);
  // Profile questions before the first join, when the server can tell them;
  // a code that does not exist is said at once, with the code kept to correct.
  const found = await lookUpCode(code);
  if (found.missing) return showCodeForm(main, t("error_not_found"), code);
  const campaign = found.campaign;
  const profile = found.status === "finished" ? {}
    : await askProfile(main, campaign?.profile || [], campaign?.translations?.[lang()]);
  startSession(code, profile);
}

setInterval(renderTimer, TIMER_TICK_MS);
boot();
