// The crowd's live structure and the results, as a leader reads them:
// scores out of 100 with their interval, ties sharing a place, agreement in
// words (explained once), and the ranking by theme too. Plain HTML bars:
// labels wrap instead of being cut.
import { h, fill } from "./dom.js";
import { t, scaleMeaning } from "./i18n.js";
import { placeLabel, scoreBar } from "./results.js";

// Themes listed in the structure panel; the rest are counted.
const THEMES_SHOWN = 12;
// Ideas listed before "Show all": a 300-person campaign has a few hundred.
const RESULTS_SHOWN = 20;
// Consensus (in [0, 1]) from which agreement reads "broad", and below which "low".
const BROAD_AGREEMENT = 0.66;
const LOW_AGREEMENT = 0.33;
// Controversy (the largest gap between groups, in [0, 1]) from which an idea "divides groups".
const DIVIDES_GROUPS = 0.25;
// The top of the ranking a leader acts on; an idea among the most supported that
// is placed below it is named under the table, with why (the HTML report does too).
const TOP_PLACES = 10;

/** Ideas among the TOP_PLACES most supported, placed below the top TOP_PLACES and
 *  supported by more people than one in it (the rule of exports/html.py). */
export function supportedLower(sheets) {
  if (sheets.length <= TOP_PLACES) return [];
  const placeOf = (s) => s.place ?? s.rank;
  const most = sheets.map((s) => s.supporters).sort((a, b) => b - a)[TOP_PLACES - 1];
  const leastOnTop = Math.min(...sheets.filter((s) => placeOf(s) <= TOP_PLACES).map((s) => s.supporters));
  return sheets.filter((s) => placeOf(s) > TOP_PLACES && s.supporters >= most && s.supporters > leastOnTop);
}

export function agreementWords(sheet) {
  const c = sheet.consensus ?? 0;
  const word = c >= BROAD_AGREEMENT ? t("agree_broad") : c >= LOW_AGREEMENT ? t("agree_mixed") : t("agree_low");
  return (sheet.controversy ?? 0) >= DIVIDES_GROUPS ? `${word} · ${t("divides")}` : word;
}

export function structurePanel(panel) {
  return {
    render(structure) {
      const themes = structure?.themes || [];
      const size = (theme) => theme.ideas.reduce((n, i) => n + i.cards.length, 0);
      const top = Math.max(1, ...themes.map(size));
      fill(panel,
        h("h2", { id: "structure-h" }, t("structure_h", { n: themes.length })),
        themes.length ? h("ul", { class: "plain hbars", "aria-labelledby": "structure-h" }, themes.slice(0, THEMES_SHOWN).map((theme) => {
          const bar = h("div", { class: "hbar-fill" });
          bar.style.width = `${(100 * size(theme)) / top}%`;
          return h("li", {},
            h("span", { class: "hbar-label" }, theme.title),
            h("span", { class: "hbar-note" }, `${t("cards", { n: size(theme) })} · ${t("ideas_n", { n: theme.ideas.length })}`),
            h("div", { class: "hbar-track", "aria-hidden": "true" }, bar));
        })) : h("p", { class: "hint" }, t("structure_empty")),
        themes.length > THEMES_SHOWN ? h("p", { class: "hint" }, t("themes_more", { n: themes.length - THEMES_SHOWN })) : null);
    },
  };
}

export function resultsPanel(panel, campaign) {
  let view = "ranking";
  let showAll = false;
  let last = null;

  const row = (s, sheets) => {
    const place = placeLabel(s, sheets);
    return h("tr", {},
      h("td", { class: "num", "aria-label": place.tied ? t("place_tied", { n: place.place }) : null }, place.text),
      h("td", { class: "idea" }, s.title),
      h("td", { class: "score" }, h("span", { class: "points" }, String(s.points ?? Math.round(100 * s.score))), scoreBar(s)),
      h("td", { class: "num" }, String(s.supporters)),
      h("td", {}, agreementWords(s)));
  };
  const head = () => h("thead", {}, h("tr", {},
    ["col_place", "col_idea", "col_score", "col_people", "col_agreement"].map((k) => h("th", { scope: "col" }, t(k)))));

  function byTheme(results) {
    const sheets = results.sheets;
    const byIid = new Map(sheets.map((s) => [s.iid, s]));
    const seen = new Set();
    const groups = (results.structure?.themes || []).map((theme) => {
      const members = theme.ideas.map((i) => byIid.get(i.iid)).filter(Boolean).sort((a, b) => a.rank - b.rank);
      members.forEach((s) => seen.add(s.iid));
      return { title: theme.title, members };
    }).filter((g) => g.members.length);
    const loose = sheets.filter((s) => !seen.has(s.iid));
    if (loose.length) groups.push({ title: t("no_theme"), members: loose });
    groups.sort((a, b) => a.members[0].rank - b.members[0].rank);
    return groups.map((g) => h("tbody", {},
      h("tr", { class: "theme-row" }, h("th", { scope: "rowgroup", colspan: "5" }, t("theme_group", { title: g.title, n: g.members.length }))),
      g.members.map((s) => row(s, sheets))));
  }

  function lowerNote(sheets) {
    const lower = supportedLower(sheets);
    return lower.length ? h("div", { class: "supported-lower" },
      h("h3", { id: "supported-lower-h" }, t("supported_lower_h")),
      h("p", { class: "hint" }, t("supported_lower", { n: TOP_PLACES })),
      h("ul", { "aria-labelledby": "supported-lower-h" }, lower.map((s) => h("li", {},
        t("supported_lower_item", { title: s.title, people: s.supporters, place: placeLabel(s, sheets).text }))))) : null;
  }

  function render(results = last) {
    last = results;
    const sheets = results?.sheets || [];
    const focused = panel.contains(document.activeElement) ? document.activeElement.id : null;
    const toggle = (name, label) => h("button", { type: "button", id: `results-${name}`, "aria-pressed": String(view === name),
      onclick: () => { view = name; render(); } }, label);
    const shown = showAll ? sheets : sheets.slice(0, RESULTS_SHOWN);
    fill(panel,
      h("div", { class: "row panel-head" },
        h("h2", { id: "results-h" }, t("results_h")),
        sheets.length ? h("div", { class: "row", role: "group", "aria-label": t("results_h") },
          toggle("ranking", t("view_ranking")), toggle("themes", t("view_themes"))) : null),
      sheets.length ? [
        h("p", { class: "hint", id: "scale-meaning" }, scaleMeaning(campaign)),
        h("p", { class: "hint" }, t("agreement_help")),
        h("div", { class: "table-wrap" }, h("table", { class: "results-table" },
          h("caption", { class: "visually-hidden" }, t("results_h")),
          head(),
          view === "themes" ? byTheme(results) : h("tbody", {}, shown.map((s) => row(s, sheets))))),
        view === "ranking" && sheets.length > RESULTS_SHOWN ? h("button", { type: "button", id: "results-more",
          onclick: () => { showAll = !showAll; render(); } },
        showAll ? t("show_top", { n: RESULTS_SHOWN }) : t("show_all", { n: sheets.length })) : null,
        lowerNote(sheets),
      ] : h("p", { class: "hint" }, t("results_empty")));
    if (focused) document.getElementById(focused)?.focus();
  }

  return { render };
}
