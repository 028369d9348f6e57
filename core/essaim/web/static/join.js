// Before the session: the join-code form and the optional profile questions.
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";

const CODE_PATTERN = /^[A-Za-z0-9]{4,12}$/;

/** The join code from /join/<code> or ?code=, upper-cased; null if none. */
export function codeFromLocation() {
  const match = location.pathname.match(/^\/join\/([A-Za-z0-9]+)\/?$/);
  const code = match ? match[1] : new URLSearchParams(location.search).get("code");
  return code && CODE_PATTERN.test(code) ? code.toUpperCase() : null;
}

/** Show the code form; `error` (a message) when a code was refused. */
export function showCodeForm(main, error = null) {
  const input = h("input", {
    id: "code", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
    class: "big-code", required: true, pattern: "[A-Za-z0-9]{4,12}", "aria-describedby": "code-hint",
  });
  const form = h("form", { class: "card stack", onsubmit: (event) => {
    event.preventDefault();
    const code = input.value.trim().toUpperCase();
    if (CODE_PATTERN.test(code)) location.assign(`/join/${encodeURIComponent(code)}`);
  } },
    h("h1", { id: "view-title", tabindex: "-1" }, t("join_title")),
    error ? h("p", { class: "error", role: "alert" }, error) : null,
    h("div", {}, h("label", { for: "code" }, t("join_code_label")), input,
      h("p", { class: "hint", id: "code-hint" }, t("join_code_hint"))),
    h("button", { type: "submit", class: "primary" }, t("join_button")),
  );
  fill(main, form);
  input.focus();
}

/**
 * Ask the template's profile questions (all optional unless required) and
 * resolve with the answers; resolves at once when there are none.
 */
export function askProfile(main, questions) {
  if (!questions || !questions.length) return Promise.resolve({});
  return new Promise((resolve) => {
    const selects = questions.map((q) => {
      const id = `profile-${q.key}`;
      const select = h("select", { id, name: q.key, required: q.required || null },
        h("option", { value: "" }, t("profile_skip")),
        q.choices.map((choice) => h("option", { value: choice }, choice)));
      return { q, select, field: h("div", {}, h("label", { for: id }, q.label), select) };
    });
    const form = h("form", { class: "card stack", onsubmit: (event) => {
      event.preventDefault();
      const profile = {};
      for (const { q, select } of selects) if (select.value) profile[q.key] = select.value;
      resolve(profile);
    } },
      h("h1", { id: "view-title", tabindex: "-1" }, t("profile_title")),
      h("p", { class: "hint" }, t("profile_hint")),
      selects.map((s) => s.field),
      h("button", { type: "submit", class: "primary" }, t("profile_continue")),
    );
    fill(main, form);
    form.querySelector("h1").focus();
  });
}
