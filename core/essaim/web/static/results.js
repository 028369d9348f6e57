// Results: the ranked opportunity sheets, scores out of 100 with their
// uncertainty; ideas with the same score share their place.
import { h, fill } from "./dom.js";
import { t, scaleMeaning } from "./i18n.js";

/** "2" or "=2" (tied): the place a sheet shares with the ones of the same score. */
export function placeLabel(sheet, sheets) {
  const place = sheet.place ?? sheet.rank;
  const tied = sheets.filter((s) => (s.place ?? s.rank) === place).length > 1;
  return { place, text: tied ? `=${place}` : String(place), tied };
}

/** A bar from 0 to 100 with the interval drawn over it (styles through the CSSOM: no inline style attribute). */
export function scoreBar(sheet) {
  const pct = (x) => `${Math.max(0, Math.min(100, 100 * x)).toFixed(1)}%`;
  const fillEl = h("div", { class: "bar-fill" });
  fillEl.style.width = pct(sheet.score);
  const range = sheet.low != null ? h("div", { class: "bar-range" }) : null;
  if (range) {
    range.style.left = pct(sheet.low);
    range.style.width = `calc(${pct(sheet.high)} - ${pct(sheet.low)})`;
  }
  return h("div", { class: "bar-track", "aria-hidden": "true" }, fillEl, range);
}

export function resultsView(app, { finished = false } = {}) {
  const list = h("ol", { class: "plain results" });
  const meaning = h("p", { class: "hint", id: "scale-meaning" });

  function render() {
    const results = app.session.state.results || [];
    meaning.textContent = results.length ? scaleMeaning(app.session.state.campaign) : "";
    if (!results.length) return fill(list, h("li", { class: "hint" }, t("results_empty")));
    fill(list, results.map((r) => {
      const place = placeLabel(r, results);
      const pts = r.points ?? Math.round(100 * r.score);
      return h("li", { class: "card result" },
        h("div", { class: "result-head" },
          h("span", { class: "place", "aria-label": place.tied ? t("place_tied", { n: place.place }) : t("place_n", { n: place.place }) }, place.text),
          h("h2", {}, r.title),
          h("span", { class: "points", "aria-label": t("points_label", { n: pts }) }, String(pts))),
        scoreBar(r),
        h("p", { class: "hint" }, t("supporters", { n: r.supporters ?? 0 })));
    }));
  }

  const el = h("div", { class: "stack" },
    h("h1", { id: "view-title", tabindex: "-1" }, finished ? t("finished_title") : t("results_title")),
    finished ? h("p", {}, t("finished_text")) : null,
    meaning,
    list);
  render();
  return { el, update: render };
}
