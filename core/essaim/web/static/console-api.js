// The facilitator HTTP API (docs/protocol.md §8) and the campaigns this
// browser knows. Tokens are kept in localStorage so that the console opened
// in a new tab (or after closing the browser) finds its campaigns again; the
// address bar never keeps them (they arrive in the #fragment and leave it).

const KNOWN_KEY = "essaim:fac:campaigns";
// A browser that ran many campaigns keeps the most recent ones only.
const KNOWN_MAX = 20;

export class Api {
  constructor(token) { this.token = token; }

  async call(path, { method = "GET", body } = {}) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : await response.blob();
    if (!response.ok) {
      const error = new Error(data?.error?.message || `HTTP ${response.status}`);
      error.code = data?.error?.code;
      error.status = response.status;
      throw error;
    }
    return data;
  }
}

/** Campaigns this browser created or opened: [{id, token, title, code}], newest first. */
export function knownCampaigns() {
  try {
    const list = JSON.parse(localStorage.getItem(KNOWN_KEY) || "[]");
    return Array.isArray(list) ? list.filter((c) => c && c.id && c.token) : [];
  } catch {
    return [];
  }
}

export function remember(campaign) {
  const others = knownCampaigns().filter((c) => c.id !== campaign.id);
  const previous = knownCampaigns().find((c) => c.id === campaign.id) || {};
  localStorage.setItem(KNOWN_KEY, JSON.stringify([{ ...previous, ...campaign }, ...others].slice(0, KNOWN_MAX)));
}

export function forget(id) {
  localStorage.setItem(KNOWN_KEY, JSON.stringify(knownCampaigns().filter((c) => c.id !== id)));
}

export function tokenFor(id) {
  return knownCampaigns().find((c) => c.id === id)?.token || null;
}

/**
 * Campaign id and token from #campaign=..&token=.. (the link printed by the
 * server) or ?campaign=.. (a token this browser knows). A token from the link
 * is remembered and removed from the address bar.
 */
export function credentials() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const campaign = hash.get("campaign") || query.get("campaign");
  let token = hash.get("token");
  if (campaign && token) {
    remember({ id: campaign, token });
    history.replaceState(null, "", `/facilitator?campaign=${encodeURIComponent(campaign)}`);
  } else if (campaign) {
    token = tokenFor(campaign);
  }
  return { campaign, token };
}

/** Copy text; says so in the live region (or reads the text out where copying is refused). */
export async function copy(text, announce, done) {
  try {
    await navigator.clipboard.writeText(text);
    announce(done);
  } catch {
    announce(text);
  }
}
