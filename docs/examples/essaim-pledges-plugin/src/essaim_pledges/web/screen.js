// The phone screen of the "pledges" phase: the ranked ideas, and for each a
// box to commit to act on it. A plain ES module, no build step, loaded by
// the Essaim app from /plugins/pledges/screen.js; `api` is the client API
// of docs/plugins.md ("Writing a new phase").

const STRINGS = {
  en: {
    pledges_title: "What will you do?",
    pledges_intro: "Pick an idea you can help make happen and say what you will do. You can make up to {n}.",
    pledges_placeholder: "I will…",
    pledges_commit: "Commit",
    pledges_change: "Change my pledge",
    pledges_withdraw: "Withdraw",
    pledges_count: "{n} pledges",
    pledges_count_one: "{n} pledge",
    pledges_mine: "You pledged: {text}",
    pledges_spotlight: "In the spotlight: {title}",
    pledges_sent: "Pledge recorded.",
    pledges_no_ideas: "The ranked ideas are on their way…",
  },
  fr: {
    pledges_title: "Qu'allez-vous faire ?",
    pledges_intro: "Choisissez une idée que vous pouvez aider à réaliser et dites ce que vous ferez. Jusqu'à {n} engagements.",
    pledges_placeholder: "Je vais…",
    pledges_commit: "Je m'engage",
    pledges_change: "Modifier mon engagement",
    pledges_withdraw: "Retirer",
    pledges_count: "{n} engagements",
    pledges_count_one: "{n} engagement",
    pledges_mine: "Votre engagement : {text}",
    pledges_spotlight: "À l'honneur : {title}",
    pledges_sent: "Engagement enregistré.",
    pledges_no_ideas: "Les idées classées arrivent…",
  },
};

export function mount(api) {
  api.strings(STRINGS);
  const { h, t } = api;
  const spotlight = h("p", { class: "hint", id: "pledges-spotlight", role: "status" });
  const intro = h("p", { class: "hint" });
  const list = h("ol", { class: "plain stack", id: "pledges-ideas" });
  const el = h("div", { class: "card stack" },
    h("h1", { id: "view-title", tabindex: "-1" }, t("pledges_title")), intro, spotlight, list);
  const rows = new Map();  // iid -> its row's live parts

  function row(idea) {
    const count = h("span", { class: "hint" });
    const mine = h("p", { class: "hint" });
    const box = h("textarea", { rows: "2", maxlength: "200", placeholder: t("pledges_placeholder"),
                                "aria-label": `${t("pledges_placeholder")} ${idea.title}` });
    const error = h("p", { class: "error", role: "alert" });
    const commit = h("button", { type: "button", class: "primary", onclick: async () => {
      error.textContent = "";
      commit.disabled = true;
      try {
        await api.send("pledge", { iid: idea.iid, text: box.value });
        box.value = "";
        api.announce(t("pledges_sent"));
      } catch (refused) {
        error.textContent = refused.message || String(refused);
      } finally {
        commit.disabled = false;
      }
    } }, t("pledges_commit"));
    const withdraw = h("button", { type: "button", class: "link-button", onclick: () =>
      api.send("withdraw_pledge", { iid: idea.iid }).catch((refused) => { error.textContent = refused.message; }) },
      t("pledges_withdraw"));
    const li = h("li", { class: "card stack", "data-iid": idea.iid },
      h("strong", {}, idea.title), count, mine, box, h("div", { class: "row" }, commit, withdraw), error);
    return { li, count, mine, commit, withdraw };
  }

  function update() {
    const { board, mine, results, phase } = api.state();
    const limit = phase?.settings?.max_pledges ?? 3;
    intro.textContent = t("pledges_intro", { n: limit });
    spotlight.textContent = board?.spotlight ? t("pledges_spotlight", { title: board.spotlight.title }) : "";
    const ideas = (results || []).map((sheet) => ({ iid: sheet.iid, title: sheet.title }));
    if (!ideas.length && !rows.size) {
      list.replaceChildren(h("li", { class: "hint" }, t("pledges_no_ideas")));
      return;
    }
    for (const idea of ideas) {
      if (!rows.has(idea.iid)) {
        if (!rows.size) list.replaceChildren();
        const parts = row(idea);
        rows.set(idea.iid, parts);
        list.append(parts.li);
      }
    }
    const counts = new Map((board?.ideas || []).map((i) => [i.iid, i.count]));
    for (const [iid, parts] of rows) {
      const n = counts.get(iid) || 0;
      parts.count.textContent = t("pledges_count", { n });
      const text = mine?.mine?.[iid];
      parts.mine.textContent = text ? t("pledges_mine", { text }) : "";
      parts.commit.textContent = text ? t("pledges_change") : t("pledges_commit");
      parts.withdraw.hidden = !text;
    }
  }

  return { el, update };
}
