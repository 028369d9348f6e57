// Evaluate phase: one task at a time from the `next` query (a pair to
// compare, an item to rate or to vote on), answered with `evaluate`.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";
import { flagControl } from "./flag.js";

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

  /** A ballot: approve up to N ideas, or share a budget of points among them. */
  function ballot(task) {
    const shown = task.items.map((item) => item.iid);
    const approval = task.kind === "approval";
    const status = h("p", { class: "hint", id: "ballot-status", "aria-live": "polite" });
    const fields = task.items.map((item, i) => {
      const id = `ballot-${i}`;
      const input = approval
        ? h("input", { id, type: "checkbox", value: item.iid })
        : h("input", { id, type: "number", min: 0, max: task.budget, step: 1, value: 0, inputmode: "numeric" });
      return { item, input, field: h("div", { class: "ballot-row" }, input, h("label", { for: id }, item.title), report(item)) };
    });
    const check = () => {
      const used = approval ? fields.filter((f) => f.input.checked).length : fields.reduce((n, f) => n + (Number(f.input.value) || 0), 0);
      const limit = approval ? task.max_approvals : task.budget;
      status.textContent = t(approval ? "approval_status" : "budget_status", { used, limit });
      send.disabled = used > limit;
    };
    const send = h("button", { type: "button", class: "primary", id: "ballot-send", onclick: () => {
      if (approval) answer("approval", { shown, approved: fields.filter((f) => f.input.checked).map((f) => f.item.iid) });
      else answer("budget", { shown, allocation: Object.fromEntries(fields.map((f) => [f.item.iid, Math.max(0, Math.floor(Number(f.input.value) || 0))])) });
    } }, t("rating_send"));
    fields.forEach((f) => f.input.addEventListener("input", check));
    check();
    return [h("fieldset", { class: "stack" }, h("legend", {}, t(approval ? "approval_intro" : "budget_intro", { n: approval ? task.max_approvals : task.budget })),
      fields.map((f) => f.field)), status, send];
  }

  /** "Report" for the card an idea shows (`cid`, sent with each idea of a task). */
  function report(idea) {
    return idea && idea.cid ? flagControl(app, idea.cid, idea.title) : null;
  }

  function render(focus = false) {
    if (task === undefined) return fill(body, h("p", { class: "hint" }, t("evaluate_loading")));
    if (task === null) return fill(body, h("p", { class: "ok", id: "eval-done" }, t("evaluate_done")), h("p", { class: "hint" }, t("done_count", { n: answered })));
    let content;
    if (task.kind === "pair") {
      const option = (side) => h("div", { class: "choice" },
        h("button", { type: "button", id: `choice-${side}`, onclick: () => answer("pair", { a: task.a.iid, b: task.b.iid, choice: side }) }, task[side].title),
        report(task[side]));
      content = [
        h("p", {}, t("evaluate_intro")),
        h("div", { class: "pair" }, option("a"), option("b")),
        h("button", { type: "button", class: "link-button", id: "cant-decide", onclick: () => answer("pair", { a: task.a.iid, b: task.b.iid, choice: "cant_decide" }) }, t("cant_decide")),
      ];
    } else if (task.kind === "vote") {
      content = [
        h("p", { class: "card", id: "statement" }, task.title),
        report(task),
        h("div", { class: "row", role: "group", "aria-labelledby": "statement" }, ["agree", "disagree", "pass"].map((vote) =>
          h("button", { type: "button", id: `vote-${vote}`, onclick: () => answer("vote", { iid: task.iid, vote }) }, t(vote)))),
      ];
    } else if (task.kind === "rate") {
      const inputs = task.criteria.map((c) => {
        const id = `rate-${c.id}`;
        const input = h("input", { id, type: "range", min: c.min, max: c.max, step: 1, value: Math.round((c.min + c.max) / 2) });
        const shown = h("output", { for: id }, input.value);
        input.addEventListener("input", () => { shown.textContent = input.value; });
        return { c, input, field: h("div", {}, h("label", { for: id }, c.label), h("div", { class: "row" }, input, shown)) };
      });
      content = [
        h("p", { class: "card" }, task.title),
        report(task),
        inputs.map((x) => x.field),
        h("button", { type: "button", class: "primary", id: "rate-send", onclick: () => answer("rate", {
          iid: task.iid, ratings: Object.fromEntries(inputs.map((x) => [x.c.id, Number(x.input.value)])) }) }, t("rating_send")),
      ];
    } else if (task.kind === "approval" || task.kind === "budget") {
      content = ballot(task);
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
