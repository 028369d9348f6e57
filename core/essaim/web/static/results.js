// Results: the ranked opportunity sheets with their uncertainty.
import { h, fill } from "./dom.js";
import { t, lang } from "./i18n.js";

export function resultsView(app, { finished = false } = {}) {
  const list = h("ol", { class: "plain" });

  function render() {
    const results = app.session.state.results || [];
    if (!results.length) return fill(list, h("li", { class: "hint" }, t("results_empty")));
    const top = Math.max(...results.map((r) => r.high ?? r.score), 1e-9);
    const pct = (x) => `${Math.max(0, Math.min(100, (100 * x) / top)).toFixed(1)}%`;
    const fmt = new Intl.NumberFormat(lang(), { maximumFractionDigits: 2 });
    fill(list, results.map((r) => h("li", { class: "card result" },
      h("h2", {}, `${t("rank", { n: r.rank })} ${r.title}`),
      h("div", { class: "bar-track", "aria-hidden": "true" },
        h("div", { class: "bar-fill", style: `width:${pct(r.score)}` }),
        r.low != null ? h("div", { class: "bar-range", style: `left:${pct(r.low)};width:calc(${pct(r.high)} - ${pct(r.low)})` }) : null),
      h("p", { class: "hint" }, `${t("score", { score: fmt.format(r.score) })} · ${t("supporters", { n: r.supporters ?? 0 })}`))));
  }

  const el = h("div", { class: "stack" },
    h("h1", { id: "view-title", tabindex: "-1" }, finished ? t("finished_title") : t("results_title")),
    finished ? h("p", {}, t("finished_text")) : null,
    list);
  render();
  return { el, update: render };
}
