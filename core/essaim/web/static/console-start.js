// The console without a campaign: the campaigns this browser knows, create
// one (admin token), or open one (id and facilitator token). A campaign just
// created shows its facilitator link and token once, with copy buttons.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";
import { Api, copy, forget, knownCampaigns, remember } from "./console-api.js";

const consoleUrl = (id) => `/facilitator?campaign=${encodeURIComponent(id)}`;

function knownPanel(main, announce) {
  const list = knownCampaigns();
  if (!list.length) return null;
  return h("section", { class: "panel stack", "aria-labelledby": "known-h" },
    h("h2", { id: "known-h" }, t("known_title")),
    h("p", { class: "hint" }, t("known_hint")),
    h("ul", { class: "plain known" }, list.map((c) => h("li", { class: "row" },
      h("a", { href: consoleUrl(c.id), class: "known-link" }, c.title || c.id),
      c.code ? h("span", { class: "hint" }, c.code) : null,
      h("button", { type: "button", class: "link-button", "aria-label": t("forget_about", { title: c.title || c.id }),
        onclick: () => { forget(c.id); showStart(main, announce); } }, t("forget"))))));
}

/** The one time a new campaign's facilitator link and token are shown. */
function showCreated(main, announce, created, title) {
  const link = h("input", { id: "created-link", readonly: true, value: created.facilitator_url });
  const token = h("input", { id: "created-token", readonly: true, value: created.facilitator_token });
  fill(main, h("section", { class: "panel stack created", "aria-labelledby": "created-h" },
    h("h1", { id: "created-h", tabindex: "-1" }, t("created_title", { title })),
    h("p", {}, t("created_text")),
    h("div", {}, h("label", { for: "created-link" }, t("fac_link")),
      h("div", { class: "row copy-row" }, link,
        h("button", { type: "button", id: "copy-link", onclick: () => copy(created.facilitator_url, announce, t("copied")) }, t("copy_link")))),
    h("div", {}, h("label", { for: "created-token" }, t("fac_token")),
      h("div", { class: "row copy-row" }, token,
        h("button", { type: "button", id: "copy-token", onclick: () => copy(created.facilitator_token, announce, t("copied")) }, t("copy_token")))),
    h("a", { class: "button primary", id: "open-console", href: consoleUrl(created.campaign_id) }, t("open_console"))));
  main.querySelector("h1").focus();
}

export function showStart(main, announce, error = null) {
  const adminToken = h("input", { id: "admin-token", type: "password", autocomplete: "off", required: true });
  const template = h("select", { id: "template" }, h("option", { value: "demo" }, "demo"));
  const toml = h("input", { id: "toml", type: "file", accept: ".toml,text/plain" });
  const createError = h("p", { class: "error", role: "alert" }, error || "");
  const loadTemplates = async () => {
    if (!adminToken.value) return;
    try {
      const { templates } = await new Api(adminToken.value).call("/api/templates");
      fill(template, templates.map((name) => h("option", { value: name }, name)));
    } catch (e) {
      createError.textContent = e.message;
    }
  };
  adminToken.addEventListener("change", loadTemplates);
  const create = h("form", { class: "panel stack", onsubmit: async (event) => {
    event.preventDefault();
    createError.textContent = "";
    try {
      const body = toml.files.length ? { toml: await toml.files[0].text() } : { template: template.value };
      const created = await new Api(adminToken.value).call("/api/campaigns", { method: "POST", body });
      const api = new Api(created.facilitator_token);
      const info = await api.call(`/api/campaigns/${created.campaign_id}`).catch(() => null);
      const title = info?.campaign?.title || created.code;
      remember({ id: created.campaign_id, token: created.facilitator_token, title, code: created.code });
      showCreated(main, announce, created, title);
    } catch (e) {
      createError.textContent = e.message;
    }
  } },
    h("h2", {}, t("create_title")),
    h("div", {}, h("label", { for: "admin-token" }, t("admin_token")), adminToken,
      h("p", { class: "hint" }, t("admin_hint"))),
    h("div", {}, h("label", { for: "template" }, t("builtin_template")), template),
    h("div", {}, h("label", { for: "toml" }, t("upload_template")), toml),
    createError,
    h("button", { type: "submit", class: "primary" }, t("create")));
  const campaignId = h("input", { id: "open-campaign", autocomplete: "off", required: true });
  const facToken = h("input", { id: "open-token", type: "password", autocomplete: "off", required: true });
  const open = h("form", { class: "panel stack", onsubmit: (event) => {
    event.preventDefault();
    remember({ id: campaignId.value.trim(), token: facToken.value.trim() });
    location.assign(consoleUrl(campaignId.value.trim()));
  } },
    h("h2", {}, t("open_title")),
    h("div", {}, h("label", { for: "open-campaign" }, t("campaign_id")), campaignId),
    h("div", {}, h("label", { for: "open-token" }, t("fac_token")), facToken),
    h("button", { type: "submit" }, t("open")));
  fill(main, h("h1", {}, t("start_title")), h("div", { class: "grid" }, knownPanel(main, announce), create, open));
}
