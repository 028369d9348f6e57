// One participant's live session: the WebSocket, resume after any drop, and
// the outbox of actions not yet acknowledged. Everything the participant did
// is kept in localStorage until the server says it is durable, so a reload,
// a network drop or a server restart loses nothing and duplicates nothing
// (actions are re-sent with the same ids; the server applies each id once).

// Reconnection back-off: quick first retry (a blip), capped so a phone that
// comes back from a tunnel reconnects within a few seconds.
const RETRY_FIRST_MS = 300;
const RETRY_MAX_MS = 5000;
// Close 1012 ("server restarting"): the protocol asks for a 1–5 s random wait
// so thousands of phones do not all come back in the same millisecond.
const RESTART_MIN_MS = 1000;
const RESTART_SPREAD_MS = 4000;
// Refusals that mean "not now" rather than "no": the action stays in the
// outbox and is sent again (same id) after a short random wait.
const TRANSIENT_ERRORS = new Set(["rate_limited", "busy", "unavailable"]);
const TRANSIENT_RETRY_MIN_MS = 1000;
const TRANSIENT_RETRY_SPREAD_MS = 2000;
// "unavailable": the server cannot save for now (its database restarting, a
// full disk). The socket stays up; actions are sent again with a backoff
// that doubles up to this cap (with jitter, so phones do not all come back
// at once), and the page says it is reconnecting until one is acknowledged.
const UNAVAILABLE_RETRY_FIRST_MS = 1000;
const UNAVAILABLE_RETRY_MAX_MS = 15000;
// Close codes after which retrying cannot help.
const CLOSE_POLICY = 1008;
const CLOSE_UNAUTHORIZED = 4003;

/** Per-campaign keys in localStorage. */
export class SavedSession {
  constructor(code) {
    this.prefix = `essaim:${code.toUpperCase()}:`;
  }
  get(name, fallback = null) {
    const raw = localStorage.getItem(this.prefix + name);
    if (raw === null) return fallback;
    try {
      return JSON.parse(raw);
    } catch {
      return fallback;
    }
  }
  set(name, value) {
    if (value === null || value === undefined) localStorage.removeItem(this.prefix + name);
    else localStorage.setItem(this.prefix + name, JSON.stringify(value));
  }
}

export class Session extends EventTarget {
  /**
   * @param {string} code join code of the campaign
   * @param {{profile?: object, lang?: string}} options used by the first join only
   */
  constructor(code, options = {}) {
    super();
    this.code = code.toUpperCase();
    this.saved = new SavedSession(this.code);
    this.profile = options.profile || null;
    this.langCode = options.lang || "en";
    this.ws = null;
    this.ready = false; // welcomed on the current socket
    this.retries = 0;
    this.unavailable = 0; // "unavailable" answers since the last ack
    this.stopped = false;
    this.retryTimer = null;
    this.clockOffset = 0; // server time minus local time, in seconds
    this.state = { campaign: null, phase: null, counters: {}, board: null, you: {}, results: null, seq: 0 };
    this.queries = new Map(); // id -> {frame, resolve}
    this.outbox = this.saved.get("outbox", []);
    this.idPrefix = this.saved.get("idprefix");
    if (!this.idPrefix) {
      this.idPrefix = Math.random().toString(36).slice(2, 8);
      this.saved.set("idprefix", this.idPrefix);
    }
    this.counter = this.saved.get("counter", 0);
    addEventListener("online", () => this.reconnectNow());
  }

  get token() {
    return this.saved.get("token");
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000);
  }

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // The campaign in the URL lets a proxy send a campaign's phones to the
    // same servers (docs/scaling.md); any server can serve any campaign.
    const ws = new WebSocket(`${scheme}//${location.host}/ws?c=${encodeURIComponent(this.code)}`);
    this.ws = ws;
    this.ready = false;
    this.emit("connection", { status: "connecting" });
    ws.onopen = () => {
      const token = this.token;
      if (token) {
        this.sendRaw({ type: "resume", campaign: this.code, token, seq: this.saved.get("seq", 0) });
      } else {
        const frame = { type: "join", campaign: this.code, lang: this.langCode };
        if (this.profile && Object.keys(this.profile).length) frame.profile = this.profile;
        this.sendRaw(frame);
      }
    };
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ready = false;
      if (this.stopped) return;
      if (event.code === CLOSE_POLICY) {
        this.emit("fatal", { code: "policy" });
        return;
      }
      if (event.code === CLOSE_UNAUTHORIZED) this.forget();
      this.emit("connection", { status: "offline" });
      this.scheduleRetry(event.code === 1012);
    };
  }

  scheduleRetry(restarting) {
    clearTimeout(this.retryTimer);
    let delay;
    if (restarting) delay = RESTART_MIN_MS + Math.random() * RESTART_SPREAD_MS;
    else delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.retries) * (0.5 + Math.random() / 2);
    this.retries += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.ready) return;
    this.retries = 0;
    this.connect();
  }

  /** Forget the token (it is no longer valid): the next connection joins afresh. */
  forget() {
    this.saved.set("token", null);
    this.saved.set("seq", null);
  }

  sendRaw(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  nextId(kind) {
    this.counter += 1;
    this.saved.set("counter", this.counter);
    return `${kind}${this.idPrefix}${this.counter}`;
  }

  /**
   * Do an action. It is kept (with `local`, what the page needs to show it
   * while pending) until acknowledged, and re-sent after every resume.
   * @returns {string} the action id
   */
  act(type, fields = {}, local = {}) {
    const id = this.nextId("a");
    const frame = { type, id, ...fields };
    this.outbox.push({ frame, local });
    this.saved.set("outbox", this.outbox);
    if (this.ready) this.sendRaw(frame);
    this.emit("outbox", { size: this.outbox.length });
    return id;
  }

  pending(type) {
    return this.outbox.filter((entry) => entry.frame.type === type);
  }

  /** Ask a query; resolves with the reply, re-asked after a reconnect if unanswered. */
  ask(type, fields = {}) {
    const id = this.nextId("q");
    const frame = { type, id, ...fields };
    return new Promise((resolve) => {
      this.queries.set(id, { frame, resolve });
      if (this.ready) this.sendRaw(frame);
    });
  }

  /** Drop unanswered queries of one type (a newer one replaces them). */
  cancelQueries(type) {
    for (const [id, query] of this.queries) if (query.frame.type === type) this.queries.delete(id);
  }

  /** Seconds left in the running phase, corrected for clock skew; null if none. */
  remaining() {
    const phase = this.state.phase;
    if (!phase) return null;
    if (phase.status === "paused") return phase.remaining ?? null;
    if (phase.status !== "running" || phase.deadline == null) return null;
    return phase.deadline - (Date.now() / 1000 + this.clockOffset);
  }

  receive(frame) {
    switch (frame.type) {
      case "welcome":
        return this.welcome(frame);
      case "update":
        return this.update(frame);
      case "error":
        return this.connectionError(frame);
      default:
        return undefined;
    }
  }

  welcome(frame) {
    if (frame.spectator) {
      // The campaign is over: its results, without becoming a participant.
      // The server closes the socket; there is nothing to reconnect for.
      this.stopped = true;
      this.spectator = true;
      this.state.campaign = frame.campaign;
      this.applySections({ ...frame, you: {} });
      this.emit("connection", { status: "ended" });
      this.emit("state", { welcome: true });
      return;
    }
    this.saved.set("token", frame.token);
    this.saved.set("pid", frame.pid);
    this.ready = true;
    this.retries = 0;
    this.state.campaign = frame.campaign;
    this.applySections(frame);
    this.emit("connection", { status: "online", resumed: !!frame.resumed });
    // Re-send, in order, whatever the server has not acknowledged yet.
    for (const entry of this.outbox) this.sendRaw(entry.frame);
    for (const query of this.queries.values()) this.sendRaw(query.frame);
    this.emit("state", { welcome: true });
  }

  update(frame) {
    for (const ack of frame.acks || []) this.settle(ack.id, ack, null);
    for (const error of frame.errors || []) this.settle(error.id, null, error);
    for (const reply of frame.replies || []) {
      const query = this.queries.get(reply.id);
      if (query) {
        this.queries.delete(reply.id);
        query.resolve(reply);
      }
    }
    this.applySections(frame);
    this.emit("state", {});
  }

  settle(id, ack, error) {
    const index = this.outbox.findIndex((entry) => entry.frame.id === id);
    if (index < 0) return;
    if (error && TRANSIENT_ERRORS.has(error.code)) {
      const frame = this.outbox[index].frame;
      let delay = TRANSIENT_RETRY_MIN_MS + Math.random() * TRANSIENT_RETRY_SPREAD_MS;
      if (error.code === "unavailable") {
        delay = Math.min(UNAVAILABLE_RETRY_MAX_MS, UNAVAILABLE_RETRY_FIRST_MS * 2 ** this.unavailable);
        delay *= 0.5 + Math.random() / 2;
        this.unavailable += 1;
        this.emit("connection", { status: "unavailable" });
      } else {
        this.emit("notice", error);
      }
      setTimeout(() => {
        if (this.ready && this.outbox.some((entry) => entry.frame === frame)) this.sendRaw(frame);
      }, delay);
      return;
    }
    if (ack && this.unavailable) {
      this.unavailable = 0;
      this.emit("connection", { status: "online" });
    }
    const [entry] = this.outbox.splice(index, 1);
    this.saved.set("outbox", this.outbox);
    this.emit(ack ? "ack" : "refused", { entry, ack, error });
    this.emit("outbox", { size: this.outbox.length });
  }

  applySections(frame) {
    if (frame.seq != null && frame.seq >= this.state.seq) {
      this.state.seq = frame.seq;
      this.saved.set("seq", frame.seq);
    }
    if (frame.phase) {
      if (frame.phase.server_time != null) this.clockOffset = frame.phase.server_time - Date.now() / 1000;
      this.state.phase = frame.phase;
    }
    if (frame.counters) this.state.counters = frame.counters;
    if ("board" in frame) this.state.board = frame.board;  // a plugin phase's shared part
    if (frame.you) this.state.you = { ...this.state.you, ...frame.you };
    if ("results" in frame && frame.results) this.state.results = frame.results;
  }

  connectionError(frame) {
    if (frame.code === "unauthorized" && this.token) {
      // The stored token is not valid here (e.g. another server): join afresh.
      this.forget();
      this.connect();
      return;
    }
    if (["not_found", "campaign_full", "bad_profile"].includes(frame.code)) {
      this.stop();
      this.emit("fatal", frame);
      return;
    }
    if (!this.ready && TRANSIENT_ERRORS.has(frame.code) && this.ws) {
      // Join or resume refused for now (the address's join limit: an office
      // behind one NAT joining at once): reconnect with back-off and try again.
      this.ws.close(1000);
    }
    this.emit("notice", frame);
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
