// Small inline-SVG charts for the facilitator console: no chart library.
// Each chart carries a text alternative (role="img" + aria-label) and the
// numbers are also printed next to the bars.

const SVG = "http://www.w3.org/2000/svg";
const ROW_HEIGHT = 34;
const LABEL_WIDTH_CHARS = 48; // longer labels are cut: the full text is in the table below

function el(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function cut(text) {
  return text.length > LABEL_WIDTH_CHARS ? `${text.slice(0, LABEL_WIDTH_CHARS - 1)}…` : text;
}

/**
 * Horizontal bars: rows of {label, value, low?, high?, note?}.
 * `low`/`high` draw an uncertainty whisker.
 */
export function barChart(rows, { label, width = 400, format = (v) => String(v) } = {}) {
  const height = Math.max(ROW_HEIGHT, rows.length * ROW_HEIGHT) + 4;
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  svg.append(el("title", {}, label));
  const top = Math.max(1e-9, ...rows.map((r) => Math.max(r.value, r.high ?? r.value)));
  const valueWidth = 110; // room for notes such as "12 cards · 3 ideas"
  const barSpace = width - valueWidth - 4;
  const x = (v) => Math.max(0, (barSpace * v) / top);
  rows.forEach((r, i) => {
    const y = i * ROW_HEIGHT;
    svg.append(el("text", { x: 0, y: y + 12 }, cut(r.label)));
    svg.append(el("rect", { x: 0, y: y + 16, width: x(r.value), height: 10, rx: 3, fill: "#0b57d0" }));
    if (r.low != null && r.high != null) {
      const mid = y + 21;
      svg.append(el("line", { x1: x(r.low), x2: x(r.high), y1: mid, y2: mid, stroke: "#1b1b1f", "stroke-width": 2 }));
      for (const end of [r.low, r.high]) svg.append(el("line", { x1: x(end), x2: x(end), y1: mid - 5, y2: mid + 5, stroke: "#1b1b1f", "stroke-width": 2 }));
    }
    svg.append(el("text", { x: width - valueWidth, y: y + 26, class: "muted" }, r.note ?? format(r.value)));
  });
  if (!rows.length) svg.append(el("text", { x: 0, y: 20, class: "muted" }, "—"));
  return svg;
}

/** A line of recent values (e.g. cards per poll), newest on the right. */
export function sparkline(values, { label, width = 400, height = 60 } = {}) {
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  svg.append(el("title", {}, label));
  if (values.length < 2) return svg;
  const top = Math.max(1, ...values);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 4 - ((height - 8) * v) / top).toFixed(1)}`);
  svg.append(el("polyline", { points: points.join(" "), fill: "none", stroke: "#0b57d0", "stroke-width": 2.5 }));
  return svg;
}
