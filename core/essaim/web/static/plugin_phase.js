// A phase of a plugin's own kind (docs/plugins.md, "Writing a new phase"):
// the phone imports the plugin's screen module, served by the server at
// /plugins/<phase type>/<file>, and gives it the client API below. A phase
// type without a screen gets a generic screen; a screen that fails to load
// gets a readable error screen (the socket stays up, the timer runs).
import { h, fill } from "./dom.js";
import { t, lang, extend } from "./i18n.js";

extend({
  en: {
    plugin_loading: "Loading this phase…",
    plugin_generic_text: "Follow the facilitator's instructions for this phase; this screen updates by itself.",
    plugin_failed_title: "This phase's screen could not be loaded",
    plugin_failed_text: "You are still connected. Reload the page in a moment; if it still fails, tell the facilitator.",
    plugin_reload: "Reload",
  },
  fr: {
    plugin_loading: "Chargement de cette phase…",
    plugin_generic_text: "Suivez les consignes de l'animateur pour cette phase ; cet écran se met à jour tout seul.",
    plugin_failed_title: "L'écran de cette phase n'a pas pu être chargé",
    plugin_failed_text: "Vous êtes toujours connecté. Rechargez la page dans un instant ; si l'erreur persiste, prévenez l'animateur.",
    plugin_reload: "Recharger",
  },
});

/**
 * The client API a plugin's screen receives (documented in docs/plugins.md):
 * - state(): {campaign, phase, counters, board, you, mine, results}; `board`
 *   is the phase's shared part, `mine` its personal part (you.board),
 *   `results` the ranked ideas (phase types with shows_results);
 * - send(command, payload): a Promise of the ack's result, rejected with
 *   {code, message} when refused (kept and re-sent across reconnects, like
 *   every action);
 * - t(key, params), lang(), strings({en: {...}, fr: {...}}): the app's i18n;
 * - h(tag, attrs, ...children): the app's element builder (text, never HTML);
 * - announce(message): read out by screen readers.
 */
export function clientApi(app) {
  const waiting = new Map();
  const settle = (entry, ok, value) => {
    const done = waiting.get(entry.frame.id);
    if (!done) return;
    waiting.delete(entry.frame.id);
    if (ok) done.resolve(value); else done.reject(value);
  };
  app.session.addEventListener("ack", (e) => settle(e.detail.entry, true, e.detail.ack.result || {}));
  app.session.addEventListener("refused", (e) => settle(e.detail.entry, false, e.detail.error));
  return {
    state() {
      const s = app.session.state;
      return { campaign: s.campaign, phase: s.phase, counters: s.counters, board: s.board ?? null,
               you: s.you, mine: s.you?.board ?? null, results: s.results };
    },
    send(command, payload = {}) {
      return new Promise((resolve, reject) => {
        const id = app.session.act(command, payload);
        waiting.set(id, { resolve, reject });
      });
    },
    t, lang, h,
    strings: extend,
    announce: app.announce,
  };
}

function titleOf(app) {
  return app.session.state.phase?.title || t("app_name");
}

function genericView(app) {
  return {
    el: h("div", { class: "card stack", id: "plugin-generic" },
      h("h1", { id: "view-title", tabindex: "-1" }, titleOf(app)),
      h("p", {}, t("plugin_generic_text"))),
    update() {},
  };
}

function failedView(app, error) {
  return h("div", { class: "card stack", id: "plugin-failed", role: "alert" },
    h("h1", { id: "view-title", tabindex: "-1" }, t("plugin_failed_title")),
    h("p", {}, t("plugin_failed_text")),
    h("p", { class: "hint" }, `${titleOf(app)}: ${error?.message || error}`),
    h("button", { type: "button", onclick: () => location.reload() }, t("plugin_reload")));
}

/** The view of a plugin phase: its screen once imported, meanwhile a short message. */
export function pluginPhaseView(app) {
  const url = app.session.state.phase?.screen;
  if (!url) return genericView(app);
  app.pluginApi ||= clientApi(app);
  const el = h("div", { class: "stack", id: "plugin-phase" },
    h("p", { class: "hint", id: "view-title", tabindex: "-1" }, t("plugin_loading")));
  let inner = null;
  const view = {
    el,
    update() {
      try { inner?.update?.(); } catch (error) { fill(el, failedView(app, error)); inner = null; }
    },
  };
  import(url).then((module) => {
    if (typeof module.mount !== "function") throw new Error(`${url} exports no mount(api) function`);
    inner = module.mount(app.pluginApi);
    fill(el, inner.el);
    inner.update?.();
  }).catch((error) => {
    console.error("plugin screen failed", url, error);
    inner = null;
    fill(el, failedView(app, error));
  });
  return view;
}
