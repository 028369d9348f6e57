// "Report" on another participant's card: a small inline form with an
// optional reason. The report goes to a peer jury, never straight to hiding.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";

const MAX_REASON = 200; // protocol limit on `reason`

/** A "Report" button for card `cid` (showing `text`) that opens its form below it. */
export function flagControl(app, cid, text = "") {
  const box = h("div", { class: "flag-box" });
  const flagged = () => app.saved.get("flagged", []).includes(cid);
  const renderButton = () => {
    if (flagged()) return fill(box, h("span", { class: "hint" }, t("flag_done")));
    return fill(box, h("button", { type: "button", class: "link-button", onclick: openForm,
      "aria-label": text ? t("flag_about", { text }) : null }, t("flag")));
  };
  const openForm = () => {
    const id = `reason-${cid}`;
    const reason = h("input", { id, maxlength: MAX_REASON, autocomplete: "off" });
    const form = h("form", { class: "flag-form stack", onsubmit: (event) => {
      event.preventDefault();
      const fields = { cid };
      if (reason.value.trim()) fields.reason = reason.value.trim();
      app.session.act("flag", fields);
      app.saved.set("flagged", [...app.saved.get("flagged", []), cid]);
      renderButton();
      app.announce(t("flag_done"));
    } },
      h("label", { for: id }, t("flag_reason")), reason,
      h("div", { class: "row" },
        h("button", { type: "submit", class: "danger" }, t("flag_send")),
        h("button", { type: "button", onclick: () => { renderButton(); box.querySelector("button")?.focus(); } }, t("flag_cancel"))));
    fill(box, form);
    reason.focus();
  };
  renderButton();
  return box;
}
