// Evaluate phase: one task at a time from the `next` query (a pair to
// compare, an item to rate or to vote on), answered with `evaluate`.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";

export function evaluateView(app) {
  const { session } = app;
  const body = h("div", { class: "stack", "aria-live": "polite" });
  let task = undefined; // undefined: loading; null: nothing left
  let answered = app.saved.get("answered", 0);

  async function loadNext() {
    task = undefined;
    render();
    session.cancelQueries("next");
    const reply = await session.ask("next");
    task = reply.task ?? null;
    render(true);
  }

  function answer(kind, data) {
    session.act("evaluate", { kind, data });
    answered += 1;
    app.saved.set("answered", answered);
    task = undefined;
    render();
  }

  function render(focus = false) {
    if (task === undefined) return fill(body, h("p", { class: "hint" }, t("evaluate_loading")));
    if (task === null) return fill(body, h("p", { class: "ok", id: "eval-done" }, t("evaluate_done")), h("p", { class: "hint" }, t("done_count", { n: answered })));
    let content;
    if (task.kind === "pair") {
      content = [
        h("p", {}, t("evaluate_intro")),
        h("div", { class: "pair" },
          h("button", { type: "button", id: "choice-a", onclick: () => answer("pair", { a: task.a.iid, b: task.b.iid, choice: "a" }) }, task.a.title),
          h("button", { type: "button", id: "choice-b", onclick: () => answer("pair", { a: task.a.iid, b: task.b.iid, choice: "b" }) }, task.b.title)),
        h("button", { type: "button", class: "link-button", onclick: () => answer("pair", { a: task.a.iid, b: task.b.iid, choice: "cant_decide" }) }, t("cant_decide")),
      ];
    } else if (task.kind === "opinion") {
      const item = task.item;
      content = [
        h("p", { class: "card" }, item.title),
        h("div", { class: "row" }, ["agree", "disagree", "pass"].map((vote) =>
          h("button", { type: "button", onclick: () => answer("opinion", { item: item.iid, vote }) }, t(vote)))),
      ];
    } else if (task.kind === "rating") {
      const item = task.item;
      const min = task.min ?? 1;
      const max = task.max ?? 5;
      const input = h("input", { id: "rating", type: "range", min, max, step: 1, value: Math.round((min + max) / 2) });
      const shown = h("output", { for: "rating" }, input.value);
      input.addEventListener("input", () => { shown.textContent = input.value; });
      content = [
        h("label", { for: "rating" }, t("rating_label", { title: item.title })),
        h("div", { class: "row" }, input, shown),
        h("button", { type: "button", class: "primary", onclick: () => answer("rating", { item: item.iid, criterion: task.criterion, value: Number(input.value) }) }, t("rating_send")),
      ];
    } else {
      content = [h("p", { class: "hint" }, t("evaluate_done"))];
    }
    fill(body, content, h("p", { class: "hint" }, t("done_count", { n: answered })));
    if (focus && body.contains(document.activeElement) === false && document.activeElement === document.body) {
      body.querySelector("button")?.focus();
    }
  }

  const el = h("div", { class: "stack" },
    h("h1", { id: "view-title", tabindex: "-1" }, t("evaluate_title")), body);
  loadNext();
  return {
    el,
    update() {},
    onAck(entry) {
      if (entry.frame.type === "evaluate") loadNext();
    },
    onRefused(entry) {
      if (entry.frame.type === "evaluate") loadNext();
    },
    onResume() {
      if (task === undefined && !session.pending("evaluate").length) loadNext();
    },
  };
}
