// Peer jury duty: shown over any phase when the server puts this
// participant on the jury of a reported card (`you.jury`).
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";

export function renderJury(app, panel) {
  const judged = new Set(app.session.pending("judge").map((e) => e.frame.case_id));
  for (const id of app.saved.get("judged", [])) judged.add(id);
  const cases = (app.session.state.you.jury || []).filter((c) => !judged.has(c.case_id));
  const focusWasInside = panel.contains(document.activeElement);
  if (!cases.length) {
    panel.hidden = true;
    fill(panel);
    return;
  }
  const c = cases[0];
  const judge = (verdict) => {
    app.session.act("judge", { case_id: c.case_id, verdict });
    app.saved.set("judged", [...app.saved.get("judged", []), c.case_id]);
    app.announce(t("jury_done"));
    renderJury(app, panel);
    if (panel.hidden) document.getElementById("view-title")?.focus();
  };
  panel.hidden = false;
  fill(panel, h("div", { class: "inner stack" },
    h("h2", { id: "jury-title" }, t("jury_title")),
    h("p", {}, t("jury_text")),
    h("blockquote", { class: "card" }, c.text),
    c.reason ? h("p", { class: "hint" }, t("jury_reason", { reason: c.reason })) : null,
    h("div", { class: "row" },
      h("button", { type: "button", class: "danger", id: "jury-hide", onclick: () => judge("hide") }, t("jury_hide")),
      h("button", { type: "button", class: "good", id: "jury-keep", onclick: () => judge("keep") }, t("jury_keep")))));
  if (focusWasInside) panel.querySelector("button").focus();
}
