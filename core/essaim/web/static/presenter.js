// The presenter screen, for the projector: join code and QR code readable
// from the back of the room, live counters, the wall of incoming ideas, the
// themes forming while people sort, the phase and its timer, and the top
// results revealed one by one. Read-only, and never any moderation content
// (the server sends none). It polls GET /api/campaigns/{id}/presenter with the
// presenter key from its link.
import { h, fill, clock } from "./dom.js";
import { t, lang, campaignTexts } from "./i18n.js";
import "./console-strings.js";
import { Api } from "./console-api.js";
import { renderSVG } from "./vendor/uqr.mjs";

// A projector needs no more than this; one small request per poll.
const POLL_MS = 2000;
// Tiles on the wall (the server sends the newest 24; fewer stay legible from afar).
const WALL_TILES = 12;
// Seconds between two results revealed (from the last of the top 10 to the first).
const REVEAL_STEP_MS = 1400;
// Ten long titles shrink to fit the screen, down to this share of their size.
const MIN_RESULTS_SCALE = 0.6;

const screen = document.getElementById("screen");
const live = document.getElementById("live");

function credentials() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const campaign = hash.get("campaign") || new URLSearchParams(location.search).get("campaign");
  let key = hash.get("key");
  if (campaign && key) {
    sessionStorage.setItem(`essaim:present:${campaign}`, key);
    history.replaceState(null, "", `/present?campaign=${encodeURIComponent(campaign)}`);
  } else if (campaign) {
    key = sessionStorage.getItem(`essaim:present:${campaign}`);
  }
  return { campaign, key };
}

function what(data) {
  const phase = data.phase;
  if (data.results && (phase.status === "finished" || phase.type === "results")) return "results";
  if (phase.status === "draft") return "waiting";
  if (phase.status === "finished") return "results";
  if (phase.status !== "running" && phase.status !== "paused") return "between";
  const allowed = phase.allowed || [];
  if (phase.type === "collect" || allowed.includes("write_card")) return "wall";
  if (phase.type === "sort" || allowed.includes("place")) return "themes";
  if (phase.type === "evaluate" || allowed.includes("evaluate")) return "evaluate";
  return "wall";
}

function presenter(campaignId, api) {
  let data = null;
  let clockOffset = 0;
  let shownView = null;
  let seenCards = new Set();
  let revealed = 0; // results shown so far in the reveal
  let revealTimer = null;
  const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

  const timer = h("p", { class: "p-timer", role: "timer" });
  const counters = h("dl", { class: "p-counters" });
  const content = h("div", { class: "p-content" });
  const title = h("h1", { class: "p-phase" });
  const join = h("aside", { class: "p-join", "aria-label": t("pres_join") });

  function renderJoin() {
    const url = data.links.join_url;
    const qr = h("div", { class: "p-qr", "aria-hidden": "true" });
    qr.innerHTML = renderSVG(url, { border: 1 }); // SVG built from the URL by the vendored encoder, no user HTML
    fill(join,
      h("p", { class: "p-join-label" }, t("pres_join")),
      qr,
      // Breaks only after a slash, never inside the address or the port.
      h("p", { class: "p-url" }, url.replace(/^https?:\/\//, "").split("/").flatMap((part, i) => (i ? ["/", h("wbr"), part] : [part]))),
      h("p", { class: "p-join-label" }, t("pres_or_code")),
      h("p", { class: "p-code", "aria-label": t("join_code_aria", { code: data.campaign.code.split("").join(" ") }) }, data.campaign.code));
    // Wide letters (W, M) must not run out of the panel: shrink the code until it fits.
    const code = join.querySelector(".p-code");
    for (let size = parseFloat(getComputedStyle(code).fontSize); code.scrollWidth > join.clientWidth * 0.92 && size > 24; size *= 0.95) {
      code.style.fontSize = `${size * 0.95}px`;
    }
  }

  function renderCounters(view) {
    const c = data.counters;
    const items = [["participants", c.participants, "pres_participants"], ["cards", c.cards, "pres_ideas"]];
    if (view === "themes") items.push(["placements", c.placements, "pres_groupings"]);
    if (view === "evaluate") items.push(["judgments", c.judgments, "pres_answers"]);
    fill(counters, items.map(([name, n, key]) => h("div", {},
      h("dt", {}, t(key, { n })), h("dd", { "data-count": name }, String(n)))));
  }

  function renderTimer() {
    const phase = data?.phase;
    if (!phase) return;
    let left = null;
    if (phase.status === "paused") left = phase.remaining;
    else if (phase.status === "running" && phase.deadline != null) left = phase.deadline - (Date.now() / 1000 + clockOffset);
    timer.setAttribute("aria-label", t("time_left"));
    timer.classList.toggle("p-overtime", left != null && left <= 0);
    timer.textContent = left == null ? "" : phase.status === "paused" ? `${t("paused")} ${clock(left)}`
      : left <= 0 ? t("overtime") : clock(left);
  }

  function wall() {
    const cards = data.wall.slice(0, WALL_TILES);
    if (!cards.length) return h("p", { class: "p-empty" }, t("pres_wall_empty"));
    const tiles = cards.map((c) => h("li", { class: `p-tile${seenCards.has(c.cid) ? "" : " p-new"}` }, c.text));
    seenCards = new Set(data.wall.map((c) => c.cid));
    return [h("h2", { class: "p-section" }, t("pres_wall")), h("ul", { class: "plain p-wall" }, tiles)];
  }

  function themes() {
    if (!data.themes.length) return [h("p", { class: "p-empty" }, t("pres_themes_empty")), wall()];
    const top = Math.max(1, ...data.themes.map((x) => x.cards));
    return [h("h2", { class: "p-section" }, t("pres_themes")), h("ul", { class: "plain p-themes" }, data.themes.map((theme) => {
      const bar = h("div", { class: "p-bar" });
      bar.style.width = `${(100 * theme.cards) / top}%`;
      return h("li", {}, h("span", { class: "p-theme-title" }, theme.title),
        h("span", { class: "p-theme-count" }, t("cards", { n: theme.cards })), h("div", { class: "p-track" }, bar));
    }))];
  }

  function results() {
    const list = data.results || [];
    const tied = (r) => list.filter((x) => x.place === r.place).length > 1;
    return [h("h2", { class: "p-section" }, t("pres_results")),
      h("ol", { class: "plain p-results" }, list.map((r, i) => h("li", {
        class: `p-result${i < list.length - revealed ? " p-hidden" : ""}`, "data-rank": i + 1 },
      h("span", { class: "p-place" }, tied(r) ? `=${r.place}` : String(r.place)),
      h("span", { class: "p-result-title" }, r.title),
      h("span", { class: "p-points", "aria-label": t("points_label", { n: r.points }) }, String(r.points)))))];
  }

  /** Reveal the results from the last of the top ten to the first, then hold. */
  function startReveal() {
    const total = (data.results || []).length;
    if (reduceMotion) revealed = total;
    if (revealTimer || revealed >= total) return;
    revealTimer = setInterval(() => {
      revealed += 1;
      const item = screen.querySelector(`.p-result[data-rank="${total - revealed + 1}"]`);
      if (item) {
        item.classList.remove("p-hidden");
        item.classList.add("p-reveal");
      }
      if (revealed >= total) {
        clearInterval(revealTimer);
        revealTimer = null;
        const first = data.results[0];
        if (first) live.textContent = `${t("pres_results")}: 1. ${first.title}`;
      }
    }, REVEAL_STEP_MS);
  }

  /** Fit the content to the screen: the wall and the themes drop what does
   * not fit whole (the oldest, the smallest), the results shrink their type. */
  function fitToScreen(view) {
    const bottom = () => content.getBoundingClientRect().bottom + 1;
    if (view === "wall" || view === "themes") {
      for (const item of content.querySelectorAll(".p-tile, .p-themes li")) {
        if (item.getBoundingClientRect().bottom > bottom()) item.remove();
      }
    } else if (view === "results") {
      const list = content.querySelector(".p-results");
      if (!list) return;
      let scale = 1;
      list.style.removeProperty("font-size");
      while (list.getBoundingClientRect().bottom > bottom() && scale > MIN_RESULTS_SCALE) {
        scale -= 0.05;
        list.style.fontSize = `${scale}em`;
      }
    }
  }

  function render() {
    const view = what(data);
    const texts = campaignTexts(data.campaign);
    const phase = data.phase;
    document.title = `${texts.title} · Essaim`;
    screen.classList.toggle("p-finale", view === "results");
    if (view !== shownView) {
      shownView = view;
      fill(screen, join, h("section", { class: "p-stage" },
        h("header", { class: "p-head" }, title, timer), counters, content));
      renderJoin();
    }
    title.textContent = phase.status === "finished" ? t("pres_thanks")
      : phase.type ? campaignTexts(data.campaign).phase(phase.index, phase.title) : texts.title;
    renderCounters(view);
    renderTimer();
    if (view === "wall") fill(content, wall());
    else if (view === "themes") fill(content, themes());
    else if (view === "evaluate") fill(content, h("p", { class: "p-big" }, t("pres_evaluate")));
    else if (view === "waiting") fill(content, h("p", { class: "p-big" }, t("pres_waiting")));
    else if (view === "between") fill(content, h("p", { class: "p-big" }, t("pres_between")));
    else if (view === "results") {
      fill(content, results());
      startReveal();
    }
    screen.classList.toggle("p-paused", phase.status === "paused");
    fitToScreen(view);
  }

  async function poll() {
    try {
      data = await api.call(`/api/campaigns/${campaignId}/presenter`);
      if (data.phase.server_time != null) clockOffset = data.phase.server_time - Date.now() / 1000;
      document.documentElement.lang = lang();
      render();
    } catch (e) {
      if (e.status === 401 || e.status === 404) {
        fill(screen, h("p", { class: "p-big p-error" }, t("pres_not_found")));
        return;
      }
    }
    setTimeout(poll, POLL_MS);
  }
  setInterval(renderTimer, 1000);
  poll();
}

const { campaign, key } = credentials();
if (campaign && key) presenter(campaign, new Api(key));
else fill(screen, h("p", { class: "p-big p-error" }, t("pres_not_found")));
