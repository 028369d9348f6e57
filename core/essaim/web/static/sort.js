// Sort phase: volunteer, get a hand of ~8 cards, group them (same idea /
// same theme / off-topic) with selects (tap, keyboard, screen reader) or by
// dragging a card onto a group. The grouping in progress is saved locally.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";
import { flagControl } from "./flag.js";

// Theme groups offered for one hand: a hand holds about 8 cards, and more
// than four themes in eight cards is rare; "off-topic" comes on top.
const THEME_GROUPS = 4;
const OFF = "off";

/** The `place` arguments for a grouping {cid: {group, same}} of `items`. */
export function placementOf(items, assign) {
  const themes = [];
  for (let g = 1; g <= THEME_GROUPS; g++) {
    const members = items.filter((cid) => assign[cid]?.group === String(g));
    if (!members.length) continue;
    // Cards linked by "same idea as" (within the group) form one idea.
    const root = (cid, seen = new Set()) => {
      const target = assign[cid]?.same;
      if (!target || seen.has(cid) || !members.includes(target)) return cid;
      seen.add(cid);
      return root(target, seen);
    };
    const ideas = new Map();
    for (const cid of members) {
      const r = root(cid);
      if (!ideas.has(r)) ideas.set(r, []);
      ideas.get(r).push(cid);
    }
    themes.push([...ideas.values()]);
  }
  const offtopic = items.filter((cid) => assign[cid]?.group === OFF);
  return { themes, offtopic };
}

export function sortView(app) {
  const { session, saved } = app;
  const body = h("div", { class: "stack" });
  let message = null;
  let dragged = null;
  const placed = new Set(); // hands sent: the server's next `you` will drop them

  const you = () => session.state.you;
  const grouping = (hid) => {
    const g = saved.get("grouping");
    return g && g.hid === hid ? g : { hid, assign: {} };
  };

  let shownKey = null;
  const renderKey = () => [you().sorter, you().hand?.hid, message, ...["volunteer", "deal", "place"].map((k) => session.pending(k).length)].join(":");

  function render() {
    shownKey = renderKey();
    const hand = you().hand;
    const volunteering = session.pending("volunteer").length > 0;
    const dealing = session.pending("deal").length > 0;
    const placing = hand && (placed.has(hand.hid) || session.pending("place").some((e) => e.frame.hid === hand.hid));
    if (hand && !placing) return renderHand(hand);
    const parts = [h("p", {}, t("sort_intro"))];
    if (message) parts.push(h("p", { class: "ok", role: "status" }, message));
    if (!you().sorter) {
      parts.push(h("button", { type: "button", class: "primary", id: "volunteer", disabled: volunteering,
        onclick: () => { session.act("volunteer"); render(); } }, t("volunteer")));
      parts.push(h("p", { class: "hint" }, t("sort_not_sorter")));
    } else {
      parts.push(h("button", { type: "button", class: "primary", id: "deal", disabled: dealing,
        onclick: () => { message = null; session.act("deal"); render(); } },
      message ? t("deal_next") : t("deal")));
    }
    const focusLost = !document.activeElement || document.activeElement === document.body || body.contains(document.activeElement);
    fill(body, parts);
    if (focusLost) body.querySelector("button:not([disabled])")?.focus();
  }

  function renderHand(hand) {
    const state = grouping(hand.hid);
    const cards = hand.cards || hand.items.map((cid) => ({ cid, text: cid }));
    const textOf = Object.fromEntries(cards.map((c) => [c.cid, c.text]));
    const save = () => saved.set("grouping", state);
    const setGroup = (cid, group) => {
      state.assign[cid] = { group, same: "" };
      save();
      renderHand(hand);
    };

    const groupNames = [["", t("group_none")],
      ...Array.from({ length: THEME_GROUPS }, (_, i) => [String(i + 1), t("group_n", { n: i + 1 })]),
      [OFF, t("group_off")]];
    const groupLabel = Object.fromEntries(groupNames);

    // One compact row per card, in the hand's order: cards never move under
    // the participant's finger when a group is chosen. A hand of 8 fits a
    // phone in about a screen and a half (the group shows as a coloured edge).
    const cardEl = (card, index) => {
      const a = state.assign[card.cid] || { group: "", same: "" };
      const groupId = `group-${index}`;
      const sameId = `same-${index}`;
      const sameCandidates = a.group && a.group !== OFF
        ? cards.filter((c) => c.cid !== card.cid && state.assign[c.cid]?.group === a.group) : [];
      return h("li", { class: "sort-card", draggable: "true", "data-cid": card.cid, "data-group": a.group || "none",
        ondragstart: (event) => { dragged = card.cid; event.dataTransfer.setData("text/plain", card.cid); } },
        h("p", { class: "sort-text", id: `card-${index}` }, card.text),
        a.same && textOf[a.same] ? h("p", { class: "idea-mark" }, t("same_idea_mark", { text: textOf[a.same] })) : null,
        h("div", { class: "sort-controls" },
          h("label", { for: groupId, class: "visually-hidden" }, t("group_for", { n: index + 1 })),
          h("select", { id: groupId, "aria-describedby": `card-${index}`, onchange: (event) => {
            setGroup(card.cid, event.target.value);
            document.getElementById(groupId)?.focus();
          } },
          groupNames.map(([value, label]) => h("option", { value, selected: value === a.group }, label))),
          flagControl(app, card.cid, card.text)),
        sameCandidates.length ? h("div", { class: "same-idea" }, h("label", { for: sameId }, t("same_idea_label")),
          h("select", { id: sameId, onchange: (event) => {
            state.assign[card.cid].same = event.target.value;
            save();
            renderHand(hand);
            document.getElementById(sameId)?.focus();
          } },
          h("option", { value: "" }, t("same_idea_none")),
          sameCandidates.map((c) => h("option", { value: c.cid, selected: c.cid === a.same }, c.text)))) : null);
    };

    // Drop targets for a mouse on a wide screen (drag a card onto a group); a phone uses the selects.
    const dropTarget = ([value, label]) => h("li", { class: "drop-target", "data-group": value || "none",
      "aria-label": label,
      ondragover: (event) => { event.preventDefault(); event.currentTarget.classList.add("drop"); },
      ondragleave: (event) => event.currentTarget.classList.remove("drop"),
      ondrop: (event) => {
        event.preventDefault();
        const cid = event.dataTransfer.getData("text/plain") || dragged;
        if (cid) setGroup(cid, value);
      } }, label);

    const counts = groupNames.filter(([value]) => value)
      .map(([value]) => [value, cards.filter((c) => state.assign[c.cid]?.group === value).length])
      .filter(([, n]) => n);
    const focusedId = document.activeElement?.id;
    const focusLost = !document.activeElement || document.activeElement === document.body || body.contains(document.activeElement);
    fill(body,
      h("h2", { id: "hand-title", tabindex: "-1" }, t("hand_title")),
      h("p", { class: "hint" }, t("hand_help")),
      h("ul", { class: "plain drop-targets", "aria-hidden": "true" }, groupNames.map(dropTarget)),
      h("ol", { class: "plain sort-cards" }, cards.map(cardEl)),
      h("p", { class: "hint", id: "grouping-summary", "aria-live": "polite" },
        counts.length ? counts.map(([value, n]) => `${groupLabel[value]}: ${n}`).join(" · ") : t("grouping_empty")),
      h("button", { type: "button", class: "primary", id: "place", onclick: () => {
        const { themes, offtopic } = placementOf(hand.items, state.assign);
        session.act("place", { hid: hand.hid, themes, offtopic });
        placed.add(hand.hid);
        saved.set("grouping", null);
        render();
      } }, t("place_submit")));
    // Look in `body`, not the document: on a reload with a hand open, the
    // view is built before it is attached to the page.
    const focused = focusedId && body.querySelector(`#${CSS.escape(focusedId)}`);
    if (focused) focused.focus();
    else if (focusLost) body.querySelector("#hand-title").focus(); // the button pressed is gone
  }

  const el = h("div", { class: "stack" }, h("h1", { id: "view-title", tabindex: "-1" }, t("sort_title")), body);
  render();
  return {
    el,
    update() {
      // Rebuild only when what is shown changes: never under the participant's
      // fingers (a drag, an open select) because counters were refreshed.
      const key = renderKey();
      if (key !== shownKey) render();
    },
    onAck(entry, ack) {
      if (entry.frame.type === "volunteer") session.act("deal");
      if (entry.frame.type === "place") message = t("placed");
      if (entry.frame.type === "deal" && ack.result && ack.result.hand === null) message = t("nothing_left");
      render();
    },
    onRefused(entry, error) {
      if (error.code === "nothing_left") message = t("nothing_left");
      render();
    },
  };
}
