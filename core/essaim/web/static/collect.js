// Collect phase: answer a prompt with a card; similar cards are suggested
// while typing so the participant can support one instead of duplicating it.
import { h, fill, debounce } from "./dom.js";
import { t, campaignTexts } from "./i18n.js";
import { flagControl } from "./flag.js";

// Wait this long after the last keystroke before asking for suggestions:
// about one query per pause in typing, not one per key.
const SUGGEST_DELAY_MS = 350;
// Below this many characters suggestions are noise.
const SUGGEST_MIN_CHARS = 8;
const CARD_MIN_CHARS = 3;
// Suggestions shown at once: three fit above the button with a keyboard open.
const SUGGESTIONS_SHOWN = 3;

export function collectView(app) {
  const { session, saved } = app;
  const draft = saved.get("draft", { text: "", prompt: null });
  const prompts = () => session.state.you.prompts || [];
  let lastSuggestions = [];

  const promptBox = h("fieldset", { class: "prompt-choices" });
  const textarea = h("textarea", {
    id: "card-text", name: "text", maxlength: 500, "aria-describedby": "card-hint card-error",
  });
  textarea.value = draft.text || "";
  const errorLine = h("p", { id: "card-error", class: "error", "aria-live": "polite" });
  // Inside the form, between the text and the button: with a phone's keyboard
  // open, what is just under the text box is what stays in view.
  const suggestionsBox = h("section", { class: "suggestions", "aria-labelledby": "suggestions-title", hidden: true });
  const supportedLine = h("p", { class: "ok", id: "supported-line", role: "status" });
  const myCardsBox = h("section", { "aria-labelledby": "my-cards-title" });

  const saveDraft = () => saved.set("draft", draft);
  const askSuggestions = debounce(async () => {
    const text = textarea.value.trim();
    if (text.length < SUGGEST_MIN_CHARS) {
      lastSuggestions = [];
      return renderSuggestions();
    }
    session.cancelQueries("suggest");
    const reply = await session.ask("suggest", { text });
    if (textarea.value.trim() !== text) return; // typed on since: a newer query is coming
    lastSuggestions = reply.suggestions || [];
    renderSuggestions();
  }, SUGGEST_DELAY_MS);

  textarea.addEventListener("input", () => {
    supportedLine.textContent = "";
    draft.text = textarea.value;
    saveDraft();
    errorLine.textContent = "";
    askSuggestions();
  });

  /** Empty the box (the card was sent, or an existing one supported instead). */
  function clearBox() {
    draft.text = "";
    saveDraft();
    textarea.value = "";
    lastSuggestions = [];
    session.cancelQueries("suggest");
    renderSuggestions();
  }

  const form = h("form", { class: "card stack", onsubmit: (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (text.length < CARD_MIN_CHARS) {
      errorLine.textContent = t("card_too_short");
      textarea.focus();
      return;
    }
    const fields = { text };
    if (draft.prompt) fields.prompt = draft.prompt;
    session.act("write_card", fields, { text });
    supportedLine.textContent = "";
    clearBox();
    renderMyCards();
    textarea.focus();
  } },
    promptBox,
    h("div", {}, h("label", { for: "card-text" }, t("card_label")), textarea,
      h("p", { class: "hint", id: "card-hint" }, t("card_hint")), errorLine),
    suggestionsBox,
    supportedLine,
    h("button", { type: "submit", class: "primary", id: "card-submit" }, t("card_submit")),
  );

  function renderPrompts() {
    const list = prompts();
    if (!list.length) return fill(promptBox, null);
    if (!list.some((p) => p.id === draft.prompt)) draft.prompt = list[0].id;
    const texts = campaignTexts(session.state.campaign);
    fill(promptBox, h("legend", { class: "hint" }, t("prompt_label")),
      list.map((p) => h("label", {},
        h("input", { type: "radio", name: "prompt", value: p.id, checked: p.id === draft.prompt,
          onchange: () => { draft.prompt = p.id; saveDraft(); } }),
        h("span", {}, texts.prompt(p)))));
  }

  function supported() {
    return new Set(saved.get("supported", []));
  }

  function renderSuggestions() {
    const mine = new Set((session.state.you.cards || []).map((c) => c.cid));
    const shown = lastSuggestions.filter((s) => !mine.has(s.cid));
    suggestionsBox.hidden = !shown.length;
    const done = supported();
    fill(suggestionsBox,
      h("h2", { id: "suggestions-title" }, t("suggestions_title")),
      h("ul", { class: "plain" }, shown.slice(0, SUGGESTIONS_SHOWN).map((s) => h("li", { class: "suggestion" },
        h("p", {}, s.text),
        h("div", { class: "row" },
          done.has(s.cid)
            ? h("span", { class: "ok" }, t("supported"))
            : h("button", { type: "button", class: "good", onclick: () => {
              session.act("support_card", { cid: s.cid }, { text: s.text });
              saved.set("supported", [...supported(), s.cid]);
              // The idea exists: what was typed is not needed any more.
              clearBox();
              supportedLine.textContent = t("support_done", { text: s.text });
              app.announce(t("support_ack"));
              textarea.focus();
            } }, t("support_instead")),
          flagControl(app, s.cid, s.text))))));
    if (shown.length && document.activeElement === textarea) {
      // Keep the suggestions and the button in view above a phone's keyboard.
      suggestionsBox.scrollIntoView({ block: "nearest" });
    }
  }

  function renderMyCards() {
    const cards = session.state.you.cards || [];
    const pending = session.pending("write_card").map((e) => ({ text: e.local.text, pending: true }));
    const all = [...pending.reverse(), ...[...cards].reverse()];
    fill(myCardsBox,
      h("h2", { id: "my-cards-title" }, t("my_cards", { n: all.length })),
      h("ul", { class: "plain" }, all.map((c) => h("li", { class: `card my-card${c.pending ? " pending" : ""}` },
        h("p", {}, c.text),
        h("p", { class: "meta" },
          c.pending ? t("card_sending")
            : [c.hidden ? t("card_hidden") : t("supporters", { n: c.supporters || 0 })]),
      ))));
  }

  const el = h("div", { class: "stack" },
    h("h1", { id: "view-title", tabindex: "-1" }, t("collect_title")),
    form, myCardsBox);
  renderPrompts();
  renderMyCards();
  if (textarea.value.trim().length >= SUGGEST_MIN_CHARS) askSuggestions();

  return {
    el,
    focusTarget: textarea,
    update() {
      if (!promptBox.contains(document.activeElement)) renderPrompts();
      renderMyCards();
    },
    onAck(entry, ack) {
      if (entry.frame.type === "write_card") {
        app.announce(ack.result && ack.result.text ? `${t("card_ack")} ${t("card_masked")}` : t("card_ack"));
      }
      renderMyCards();
    },
  };
}
