// Peer jury duty: shown over any phase when the server puts this
// participant on the jury of a reported card (`you.jury`). The panel sits at
// the bottom of the screen and can be set aside ("Later": a one-line bar);
// the page keeps room below its content for it, so it never hides the
// participant's own cards (they scroll above it).
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";

let aside = false;
let sizeWatcher = null;

/** Keep room under the page for the panel, whatever its height. */
function reserveSpace(panel) {
  if (sizeWatcher) return;
  sizeWatcher = new ResizeObserver(() => {
    const height = panel.hidden ? 0 : panel.getBoundingClientRect().height;
    document.documentElement.style.setProperty("--jury-space", `${Math.ceil(height)}px`);
  });
  sizeWatcher.observe(panel);
}

export function renderJury(app, panel) {
  reserveSpace(panel);
  const judged = new Set(app.session.pending("judge").map((e) => e.frame.case_id));
  for (const id of app.saved.get("judged", [])) judged.add(id);
  const cases = (app.session.state.you?.jury || []).filter((c) => !judged.has(c.case_id));
  const focusWasInside = panel.contains(document.activeElement);
  if (!cases.length) {
    panel.hidden = true;
    fill(panel);
    document.documentElement.style.setProperty("--jury-space", "0px");
    return;
  }
  const c = cases[0];
  const rerender = (focusId) => {
    renderJury(app, panel);
    if (focusId && document.getElementById(focusId)) document.getElementById(focusId).focus();
  };
  const judge = (verdict) => {
    app.session.act("judge", { case_id: c.case_id, verdict });
    app.saved.set("judged", [...app.saved.get("judged", []), c.case_id]);
    app.announce(t("jury_done"));
    renderJury(app, panel);
    if (panel.hidden) document.getElementById("view-title")?.focus();
    else panel.querySelector("button")?.focus();
  };
  if (panel.dataset.caseId !== c.case_id && panel.hidden) app.announce(t("jury_arrived"));
  panel.dataset.caseId = c.case_id;
  panel.hidden = false;
  panel.classList.toggle("aside", aside);
  if (aside) {
    fill(panel, h("div", { class: "inner row jury-bar" },
      h("h2", { id: "jury-title", class: "jury-bar-title" }, t("jury_waiting", { n: cases.length })),
      h("button", { type: "button", class: "primary", id: "jury-open",
        onclick: () => { aside = false; rerender("jury-hide"); } }, t("jury_open"))));
    if (focusWasInside) document.getElementById("jury-open")?.focus();
    return;
  }
  fill(panel, h("div", { class: "inner stack" },
    h("h2", { id: "jury-title" }, cases.length > 1 ? `${t("jury_title")} (${cases.length})` : t("jury_title")),
    h("p", {}, t("jury_text")),
    h("blockquote", { class: "card" }, c.text),
    c.reason ? h("p", { class: "hint" }, t("jury_reason", { reason: c.reason })) : null,
    h("div", { class: "row" },
      h("button", { type: "button", class: "danger", id: "jury-hide", onclick: () => judge("hide") }, t("jury_hide")),
      h("button", { type: "button", class: "good", id: "jury-keep", onclick: () => judge("keep") }, t("jury_keep")),
      h("button", { type: "button", class: "link-button", id: "jury-later",
        onclick: () => { aside = true; rerender("jury-open"); } }, t("jury_later")))));
  if (focusWasInside) panel.querySelector("button").focus();
}
