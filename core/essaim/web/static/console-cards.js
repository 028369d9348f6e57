// What the facilitator acts on: the live feed of incoming cards (Hide, and
// Undo right next to it) and the moderation cases (the facilitator's last
// word on reported cards). Both re-render only when their content changed,
// and put the focus back on the button it was on.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";

/** Re-render `panel` with `build()` when `key` changed, keeping the focused button. */
function renderKeyed(panel, key, build) {
  if (panel.dataset.key === key) return;
  panel.dataset.key = key;
  const focused = panel.contains(document.activeElement) ? document.activeElement.id : null;
  const open = panel.querySelector("details")?.open;
  fill(panel, build());
  if (open) panel.querySelector("details")?.setAttribute("open", "");
  if (focused) document.getElementById(focused)?.focus();
}

export function cardsPanel({ panel, api, campaignId, announce, refresh }) {
  const hiddenHere = new Set(); // hidden from this console: their button says "Undo"

  async function decide(cid, verdict, said = null) {
    try {
      await api.call(`/api/campaigns/${campaignId}/moderation`, { method: "POST", body: { cid, verdict } });
      if (verdict === "hide") hiddenHere.add(cid);
      announce(said || (verdict === "hide" ? t("card_hidden") : t("card_restored")));
      await refresh();
    } catch (e) {
      announce(e.message);
    }
  }

  function card(c) {
    const undo = c.hidden && hiddenHere.has(c.cid);
    return h("li", { class: `feed-card${c.hidden ? " is-hidden" : ""}` },
      h("div", {},
        h("p", { class: "feed-text" }, c.text),
        h("p", { class: "hint feed-meta" }, [
          t("supporters", { n: c.supporters }),
          c.reported ? ` · ${t("reported_mark")}` : "",
          c.hidden ? ` · ${t("hidden_mark")}` : ""].join(""))),
      c.hidden
          ? h("button", { type: "button", class: "good", id: `restore-${c.cid}`,
            "aria-label": t(undo ? "undo_about" : "restore_about", { text: c.text }),
            onclick: () => decide(c.cid, "keep") }, t(undo ? "undo" : "restore"))
          : h("button", { type: "button", class: "danger", id: `hide-${c.cid}`,
            "aria-label": t("hide_about", { text: c.text }),
            onclick: () => decide(c.cid, "hide") }, t("hide")));
  }

  return {
    render(feed) {
      if (!feed) return;
      renderKeyed(panel, JSON.stringify([feed.total, feed.cards.map((c) => [c.cid, c.hidden, c.supporters, c.reported])]), () => [
        h("h2", { id: "cards-h" }, `${t("cards_h")} (${feed.total})`),
        feed.cards.length ? null : h("p", { class: "hint" }, t("cards_empty")),
        feed.total > feed.cards.length ? h("p", { class: "hint" }, t("cards_more", { shown: feed.cards.length, total: feed.total })) : null,
        h("ul", { class: "plain feed", "aria-labelledby": "cards-h" }, feed.cards.map(card)),
      ]);
    },
    decide,
  };
}

export function moderationPanel({ panel, decide }) {
  return {
    render(m) {
      if (!m) return;
      renderKeyed(panel, JSON.stringify([m.open_cases, m.hidden_cards]), () => [
        h("h2", { id: "moderation-h" }, t("moderation_h", { n: m.open_cases.length })),
        m.open_cases.length ? null : h("p", { class: "hint" }, t("no_case")),
        m.open_cases.map((c) => h("div", { class: "case" },
          h("p", {}, c.text),
          h("p", { class: "hint" }, `${t("reports", { n: c.flags })}${c.reasons.length ? `: ${c.reasons.join("; ")}` : ""} · `
            + t("jury_votes", { hide: c.votes.hide, keep: c.votes.keep, size: c.jury_size })),
          h("div", { class: "row" },
            h("button", { type: "button", class: "danger", id: `case-hide-${c.cid}`, "aria-label": t("hide_about", { text: c.text }),
              onclick: () => decide(c.cid, "hide") }, t("hide")),
            h("button", { type: "button", class: "good", id: `case-keep-${c.cid}`, "aria-label": t("keep_about", { text: c.text }),
              onclick: () => decide(c.cid, "keep", t("card_kept")) }, t("keep"))))),
        m.hidden_cards.length ? h("details", {},
          h("summary", {}, t("hidden_cards", { n: m.hidden_cards.length })),
          m.hidden_cards.map((c) => h("div", { class: "case" }, h("p", {}, c.text),
            h("button", { type: "button", class: "good", id: `hidden-restore-${c.cid}`, "aria-label": t("restore_about", { text: c.text }),
              onclick: () => decide(c.cid, "keep") }, t("restore"))))) : null,
      ]);
    },
  };
}
