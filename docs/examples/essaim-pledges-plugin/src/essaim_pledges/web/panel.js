// The facilitator console's panel of the "pledges" phase: the most pledged
// ideas and a button to put one in the spotlight on every phone. Loaded by
// the console from /plugins/pledges/panel.js (docs/plugins.md).

export function mount(api) {
  const { h } = api;
  const total = h("p", { id: "pledges-total" });
  const list = h("ol", { class: "plain", id: "pledges-board" });
  const el = h("div", {}, h("h2", {}, "Action pledges"), total, list);

  function update() {
    const board = api.state().board || { total: 0, ideas: [], spotlight: null };
    total.textContent = `${board.total} pledges` + (board.spotlight ? ` · spotlight: ${board.spotlight.title}` : "");
    list.replaceChildren(...board.ideas.map((idea) => h("li", { "data-iid": idea.iid },
      h("strong", {}, idea.title), ` — ${idea.count} `,
      h("button", { type: "button", class: "spotlight", onclick: async () => {
        try {
          await api.send("spotlight", { iid: idea.iid });
          api.announce(`Spotlight: ${idea.title}`);
          await api.refresh();
        } catch (e) {
          api.announce(e.message);
        }
      } }, "Spotlight"),
      h("ul", {}, idea.recent.map((text) => h("li", {}, text))))));
  }

  return { el, update };
}
