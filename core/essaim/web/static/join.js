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

/** The campaign behind a code, from the public GET /api/join/<code>:
 * {campaign, status} when it exists, {missing: true} when the server says it does
 * not, {} when the server cannot be asked (offline: the socket will tell). */
export async function lookUpCode(code) {
  try {
    const response = await fetch(`/api/join/${encodeURIComponent(code)}`, { headers: { Accept: "application/json" } });
    if (response.status === 404) return { missing: true };
    if (!response.ok) return {};
    const info = await response.json();
    return { campaign: info.campaign, status: info.status };
  } catch {
    return {};
  }
}

/**
 * Show the code form. `error` (a message) when a code was refused, `typed`
 * the code to show again: a wrong code is corrected, not typed again.
 */
export function showCodeForm(main, error = null, typed = "") {
  const input = h("input", {
    id: "code", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
    class: "big-code", "aria-describedby": "code-hint code-error", value: typed,
  });
  // One error line, said once: the browser's own validation bubble is off (novalidate).
  const errorLine = h("p", { class: "error", id: "code-error", role: "alert" });
  const showError = (message) => {
    errorLine.textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  const submit = h("button", { type: "submit", class: "primary" }, t("join_button"));
  const form = h("form", { class: "card stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const code = input.value.trim().toUpperCase();
    if (!CODE_PATTERN.test(code)) {
      showError(t("error_code_shape"));
      input.focus();
      return;
    }
    submit.disabled = true;
    const found = await lookUpCode(code);
    submit.disabled = false;
    if (found.missing) {
      showError(t("error_not_found"));
      input.focus();
      input.select();
      return;
    }
    location.assign(`/join/${encodeURIComponent(code)}`);
  } },
    h("h1", { id: "view-title", tabindex: "-1" }, t("join_title")),
    h("div", {}, h("label", { for: "code" }, t("join_code_label")), input,
      h("p", { class: "hint", id: "code-hint" }, t("join_code_hint"))),
    errorLine,
    submit,
  );
  input.addEventListener("input", () => showError(null));
  fill(main, form);
  showError(error);
  input.focus();
}

/** The profile questions' labels and choices in the participant's language. */
function localized(q, tr) {
  const own = tr?.profile?.[q.key] || {};
  return {
    label: own.label || q.label,
    choice: (value) => own.choices?.[value] || value,
  };
}

/**
 * Ask the template's profile questions (all optional unless required) and
 * resolve with the answers; resolves at once when there are none.
 * `translations` is the campaign's texts in the participant's language.
 */
export function askProfile(main, questions, translations = null) {
  if (!questions || !questions.length) return Promise.resolve({});
  return new Promise((resolve) => {
    const selects = questions.map((q) => {
      const id = `profile-${q.key}`;
      const text = localized(q, translations);
      const select = h("select", { id, name: q.key, required: q.required || null },
        h("option", { value: "" }, t("profile_skip")),
        q.choices.map((choice) => h("option", { value: choice }, text.choice(choice))));
      return { q, select, field: h("div", {}, h("label", { for: id }, text.label), select) };
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
