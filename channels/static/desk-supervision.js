// Supervisors' page: figures from /api/supervision/*, charts drawn as inline SVG (no library, no CDN).
"use strict";

const $ = (id) => document.getElementById(id);
const PALETTE = ["#0b6e4f", "#e0a100", "#3b6fb6", "#b3261e", "#7a4fa3", "#50606d", "#2a9d8f", "#c2185b"];
const CHANNELS = { web: "网页", wechat: "微信" };
const when = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
});
const fmt = (iso) => (iso ? when.format(new Date(iso)) : "");
const pct = (rate) => (rate.rate === null ? "—" : `${Math.round(rate.rate * 100)}%`);

async function api(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const data = await response.json().catch(() => null);
  if (response.status === 401) { location.href = "/desk"; throw new Error("请先登录"); }
  if (!response.ok) throw new Error((data && data.detail) || `请求失败（${response.status}）`);
  return data;
}

const SVG = "http://www.w3.org/2000/svg";
function el(name, attrs = {}, text = "") {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// Stacked columns: one per day, one colour per key; the legend names the keys.
function stackedColumns(container, days, byDay) {
  const keys = [...new Set(days.flatMap((d) => Object.keys(byDay[d] || {})))];
  const totals = days.map((d) => keys.reduce((sum, k) => sum + ((byDay[d] || {})[k] || 0), 0));
  const max = Math.max(1, ...totals);
  const width = 560, height = 220, left = 32, bottom = 36, top = 12;
  const step = (width - left) / days.length, bar = Math.max(4, step * 0.65);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img" });
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - fraction * (height - bottom - top);
    svg.append(el("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#d5dde3" }));
    svg.append(el("text", { x: left - 4, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#5f6b76" },
      String(Math.round(max * fraction))));
  }
  days.forEach((day, i) => {
    let y = height - bottom;
    const x = left + i * step + (step - bar) / 2;
    keys.forEach((key, k) => {
      const value = (byDay[day] || {})[key] || 0;
      if (!value) return;
      const h = (value / max) * (height - bottom - top);
      y -= h;
      const rect = el("rect", { x, y, width: bar, height: h, fill: PALETTE[k % PALETTE.length] });
      rect.append(el("title", {}, `${day} ${CHANNELS[key] || key}：${value}`));
      svg.append(rect);
    });
    if (totals[i]) svg.append(el("text", { x: x + bar / 2, y: y - 3, "text-anchor": "middle", "font-size": 10 }, String(totals[i])));
    if (days.length <= 16 || i % 2 === 0) {
      svg.append(el("text", { x: x + bar / 2, y: height - bottom + 14, "text-anchor": "middle", "font-size": 10,
        fill: "#5f6b76" }, day.slice(5)));
    }
  });
  container.replaceChildren(svg, legend(keys));
  if (!keys.length) container.replaceChildren(emptyNote());
}

// Horizontal bars for totals (intents, states).
function bars(container, totals) {
  const entries = Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 12);
  if (!entries.length) { container.replaceChildren(emptyNote()); return; }
  const max = Math.max(...entries.map(([, v]) => v));
  const row = 22, label = 150, width = 560;
  const svg = el("svg", { viewBox: `0 0 ${width} ${entries.length * row + 8}`, width: "100%", role: "img" });
  entries.forEach(([key, value], i) => {
    const y = i * row + 4;
    const w = ((width - label - 40) * value) / max;
    svg.append(el("text", { x: label - 6, y: y + 14, "text-anchor": "end", "font-size": 12 }, key));
    svg.append(el("rect", { x: label, y, width: Math.max(w, 1), height: row - 6, fill: PALETTE[i % PALETTE.length] }));
    svg.append(el("text", { x: label + w + 4, y: y + 14, "font-size": 12 }, String(value)));
  });
  container.replaceChildren(svg);
}

function legend(keys) {
  const box = document.createElement("div");
  box.className = "chart-legend";
  keys.forEach((key, k) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = PALETTE[k % PALETTE.length];
    item.append(swatch, document.createTextNode(CHANNELS[key] || key));
    box.append(item);
  });
  return box;
}

function emptyNote() {
  const p = document.createElement("p");
  p.className = "empty";
  p.textContent = "暂无数据";
  return p;
}

function sum(byDay) {
  const totals = {};
  for (const counts of Object.values(byDay)) {
    for (const [key, value] of Object.entries(counts)) totals[key] = (totals[key] || 0) + value;
  }
  return totals;
}

function fillTable(body, rows) {
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell;
      tr.append(td);
    }
    return tr;
  }));
  if (!rows.length) body.innerHTML = '<tr><td colspan="5" class="empty">暂无</td></tr>';
}

async function load() {
  const days = $("days").value;
  $("error").textContent = "";
  $("csv").href = `/api/supervision/unanswered.csv?days=${Math.min(Number(days), 7)}`;
  try {
    const [overview, overdue, events, topics, unanswered] = await Promise.all([
      api(`/api/supervision/overview?days=${days}`), api("/api/supervision/overdue"),
      api(`/api/supervision/events?days=${days}`), api("/api/supervision/hot-topics?days=7"),
      api("/api/supervision/unanswered?days=7"),
    ]);
    $("c-sla").textContent = pct(overview.sla_hit);
    $("c-callback").textContent = pct(overview.callback);
    $("c-overdue").textContent = String(overdue.length);
    $("c-events").textContent = String(events.length);
    const shown = overview.assist_shown;
    $("c-assist").textContent = shown
      ? `${Math.round((overview.assist_inserted / shown) * 100)}%（${shown}/${overview.assist_inserted}/${overview.assist_wrong}）`
      : "—";
    stackedColumns($("chart-conversations"), overview.days, overview.conversations_by_channel);
    stackedColumns($("chart-tickets"), overview.days, overview.tickets_by_category);
    bars($("chart-intents"), sum(overview.turns_by_intent));
    bars($("chart-states"), overview.tickets_by_state);
    fillTable($("hot-topics"), topics.map((t) => [String(t.asked), t.source, t.examples.join(" / ")]));
    fillTable($("unanswered"), unanswered.slice(0, 50).map((q) => [fmt(q.occurred_at), CHANNELS[q.channel] || q.channel,
      q.question, q.outcome]));
    fillTable($("overdue"), overdue.map((t) => [t.number, t.category, t.status, t.deadline.remaining_text,
      t.assignee_name || "待认领"]));
    fillTable($("events"), events.map((e) => [fmt(e.raised_at), e.number, e.kind, e.status, e.assignee || "待认领"]));
  } catch (error) { $("error").textContent = error.message; }
}

$("days").addEventListener("change", load);
load();
