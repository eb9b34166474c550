// Agent desk: plain JavaScript, no build step. Talks to /api/desk, /api/tickets, /api/assist.
"use strict";

const $ = (id) => document.getElementById(id);
const FINISHED = new Set(["办结", "评价"]);
const QUEUE_REFRESH_MS = 20000;
let csrf = null;          // kept in memory only; /api/desk/me returns it again after a reload
let me = null;
let current = null;       // the ticket shown
let shownSuggestions = [];

const when = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
});
const fmt = (iso) => (iso ? when.format(new Date(iso)) : "");
const CHANNELS = { web: "网页", wechat: "微信" };

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { showLogin(); throw new Error("请重新登录"); }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.detail) || `请求失败（${response.status}）`);
  return data;
}

function showLogin() {
  $("login").hidden = false; $("desk").hidden = true; $("who").hidden = true;
}

function showDesk(agent) {
  me = agent;
  $("login").hidden = true; $("desk").hidden = false; $("who").hidden = false;
  $("agent-name").textContent = `${agent.display_name}（${agent.role}）`;
  $("supervision-link").hidden = agent.role !== "主管";
  loadQueue();
}

async function boot() {
  try {
    const data = await api("/api/desk/me");
    csrf = data.csrf_token;
    showDesk(data.agent);
  } catch { showLogin(); }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const data = await api("/api/desk/login", {
      method: "POST", body: { username: $("username").value, password: $("password").value },
    });
    csrf = data.csrf_token;
    $("password").value = "";
    showDesk(data.agent);
  } catch (error) { $("login-error").textContent = error.message; }
});

$("logout").addEventListener("click", async () => {
  await api("/api/desk/logout", { method: "POST" }).catch(() => {});
  csrf = null; current = null; showLogin();
});

// --- queue ---------------------------------------------------------------------------------------

function queueQuery() {
  const params = new URLSearchParams();
  for (const [id, name] of [["f-state", "state"], ["f-category", "category"], ["f-assignee", "assignee"],
                            ["f-channel", "channel"]]) {
    if ($(id).value) params.set(name, $(id).value);
  }
  if ($("f-overdue").checked) params.set("overdue", "true");
  return params.toString();
}

async function loadQueue() {
  if (!me) return;
  let items;
  try { items = await api(`/api/tickets?${queueQuery()}`); } catch { return; }
  const list = $("queue");
  list.replaceChildren(...items.map(queueEntry));
  if (!items.length) list.innerHTML = '<li class="empty">没有符合条件的工单</li>';
}

function queueEntry(item) {
  const li = document.createElement("li");
  li.className = item.deadline.state;
  li.dataset.number = item.number;
  li.dataset.testid = "queue-item";
  if (current && current.number === item.number) li.classList.add("selected");
  const who = item.assignee_name ? `办理人：${item.assignee_name}` : "待认领";
  li.innerHTML = `<div class="line1"><b></b><span class="badge"></span></div><p class="topic"></p>
    <div class="line3"><span></span><span class="sla ${item.deadline.state}"></span></div>`;
  li.querySelector("b").textContent = `${item.number} · ${item.category}`;
  li.querySelector(".badge").textContent = item.callback_due ? `${item.status} · 待回访` : item.status;
  li.querySelector(".topic").textContent = item.topic;
  li.querySelector(".line3 span").textContent = `${CHANNELS[item.channel] || item.channel} · ${who}`;
  li.querySelector(".sla").textContent = item.deadline.remaining_text;
  li.addEventListener("click", () => openTicket(item.number));
  return li;
}

$("filters").addEventListener("change", loadQueue);
setInterval(loadQueue, QUEUE_REFRESH_MS);

// --- one ticket ----------------------------------------------------------------------------------

async function openTicket(number) {
  $("action-error").textContent = "";
  try { render(await api(`/api/tickets/${encodeURIComponent(number)}`)); } catch (error) {
    $("action-error").textContent = error.message;
    return;
  }
  document.querySelectorAll("#queue li").forEach((li) => li.classList.toggle("selected", li.dataset.number === number));
  loadSuggestions({ ticket: number });
}

function render(ticket) {
  current = ticket;
  $("no-ticket").hidden = true;
  $("ticket-view").hidden = false;
  $("t-number").textContent = `工单 ${ticket.number}`;
  $("t-status").textContent = ticket.status;
  const sla = $("t-sla");
  sla.className = `sla ${ticket.deadline.state}`;
  sla.textContent = ticket.deadline.remaining_text;
  const facts = [
    ["类别", ticket.category], ["渠道", CHANNELS[ticket.channel] || ticket.channel],
    ["居民", ticket.resident || "未核验身份"], ["办理人", ticket.assignee_name || "待认领"],
    ["受理时间", fmt(ticket.created_at)], ["办理时限", `${fmt(ticket.deadline.due_at)}前`],
  ];
  if (ticket.rating) facts.push(["评价", ticket.rating + (ticket.rating_comment ? `（${ticket.rating_comment}）` : "")]);
  if (ticket.merged_into) facts.push(["已并入", ticket.merged_into]);
  if (ticket.merged_from.length) facts.push(["并入的重复工单", ticket.merged_from.join("、")]);
  $("t-facts").replaceChildren(...facts.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
  $("t-transcript").textContent = ticket.transcript;
  renderActions(ticket);
  const open = ticket.callbacks.find((c) => !c.done_at);
  $("t-callback").hidden = !open;
  if (open) $("t-callback-text").textContent = `${open.reason}；须在 ${fmt(open.due_at)} 前完成回访并反馈整改情况。`;
  fillLog($("t-messages"), ticket.messages.map((m) => [m.created_at, `【${m.kind}】${m.text}${m.delivered ? "" : "（待送达）"}`]));
  fillLog($("t-notes"), ticket.notes.map((n) => [n.created_at, `${n.author}：${n.text}`]));
  fillLog($("t-history"), ticket.history.map((h) => [h.occurred_at,
    `${h.kind}${h.from_status !== h.to_status ? `：${h.from_status || "—"} → ${h.to_status}` : ""}` +
    `${h.note ? `（${h.note}）` : ""} · ${h.actor}`]));
}

function fillLog(list, rows) {
  list.replaceChildren(...rows.map(([at, text]) => {
    const li = document.createElement("li");
    const time = document.createElement("span"); time.className = "when"; time.textContent = fmt(at);
    li.append(time, document.createTextNode(text));
    return li;
  }));
  if (!rows.length) list.innerHTML = '<li class="empty">暂无</li>';
}

function actionButton(label, handler, secondary = false) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  if (secondary) button.className = "secondary";
  button.addEventListener("click", () => act(handler));
  return button;
}

function renderActions(ticket) {
  const buttons = [];
  const mine = ticket.assignee === me.username || me.role === "主管";
  if (!ticket.assignee && !FINISHED.has(ticket.status) && !ticket.merged_into) {
    buttons.push(actionButton("认领", () => api(`/api/tickets/${ticket.number}/claim`, { method: "POST" })));
  }
  if (mine) {
    // 督办 is raised by the time limit, 评价 by the resident, a return to 派单 by “退回” with its reason.
    const manual = ticket.allowed_next.filter((s) => s !== "评价" && s !== "督办" && !(s === "派单" && ticket.status === "办理"));
    for (const status of manual) {
      buttons.push(actionButton(`转为「${status}」`, () => api(`/api/tickets/${ticket.number}`, {
        method: "PATCH", body: { status, note: "坐席工作台操作" },
      }), true));
    }
    if (ticket.assignee) {
      buttons.push(actionButton("退回", () => {
        const reason = prompt("退回原因（必填）：");
        return reason ? api(`/api/tickets/${ticket.number}/return`, { method: "POST", body: { reason } }) : null;
      }, true));
    }
    buttons.push(actionButton("改派", () => {
      const assignee = prompt("改派给（坐席登录名）：");
      return assignee ? api(`/api/tickets/${ticket.number}/reassign`, { method: "POST", body: { assignee } }) : null;
    }, true));
    buttons.push(actionButton("合并为重复工单", () => {
      const into = prompt("并入哪个工单（同一居民、同一问题）？工单号：");
      return into ? api(`/api/tickets/${ticket.number}/merge`, { method: "POST", body: { into } }) : null;
    }, true));
  }
  $("t-actions").replaceChildren(...buttons);
}

async function act(handler) {
  $("action-error").textContent = "";
  try {
    const ticket = await handler();
    if (ticket) render(ticket);
    loadQueue();
  } catch (error) { $("action-error").textContent = error.message; }
}

function sendReply(resolve) {
  const text = $("reply-text").value.trim();
  if (!text) { $("action-error").textContent = "请先填写回复内容。"; return; }
  act(async () => {
    const ticket = await api(`/api/tickets/${current.number}/reply`, { method: "POST", body: { text, resolve } });
    $("reply-text").value = "";
    return ticket;
  });
}

$("reply-send").addEventListener("click", () => sendReply(false));
$("reply-resolve").addEventListener("click", () => sendReply(true));
$("note-add").addEventListener("click", () => {
  const text = $("note-text").value.trim();
  if (!text) return;
  act(async () => {
    const ticket = await api(`/api/tickets/${current.number}/notes`, { method: "POST", body: { text } });
    $("note-text").value = "";
    return ticket;
  });
});
$("callback-done").addEventListener("click", () => {
  const outcome = $("callback-outcome").value.trim();
  if (!outcome) { $("action-error").textContent = "请填写回访情况。"; return; }
  act(async () => {
    const ticket = await api(`/api/tickets/${current.number}/callback`, {
      method: "POST", body: { outcome, reopen: $("callback-reopen").checked },
    });
    $("callback-outcome").value = "";
    return ticket;
  });
});

// --- suggested answers ---------------------------------------------------------------------------

async function loadSuggestions(request) {
  const list = $("suggestions");
  list.innerHTML = '<li class="empty">正在检索政策文件…</li>';
  $("assist-meta").textContent = "";
  let data;
  try { data = await api("/api/assist", { method: "POST", body: request }); } catch (error) {
    list.innerHTML = "";
    $("assist-meta").textContent = error.message;
    return;
  }
  shownSuggestions = data.suggestions;
  const intent = data.intent ? `识别意图：${data.intent}（${Math.round((data.intent_confidence || 0) * 100)}%）` : "未识别意图";
  $("assist-meta").textContent = `检索：“${data.query}”。${intent}；建议工单类别：${data.category}`;
  list.replaceChildren(...data.suggestions.map(suggestionCard));
  if (!data.suggestions.length) list.innerHTML = '<li class="empty">政策文件中没有找到相关条文</li>';
}

function suggestionCard(suggestion) {
  const node = $("suggestion-template").content.firstElementChild.cloneNode(true);
  node.dataset.testid = "suggestion";
  node.querySelector(".sentence").textContent = suggestion.sentence;
  const sure = { confident: "可直接答复", related: "可能相关", refused: "相关度低" }[suggestion.band] || "";
  node.querySelector(".source").textContent =
    `${suggestion.source} · 置信度 ${Math.round(suggestion.confidence * 100)}%${sure ? ` · ${sure}` : ""}`;
  node.querySelector("blockquote").textContent = suggestion.passage;
  const mark = (value) => api(`/api/assist/suggestions/${suggestion.id}/mark`, { method: "POST", body: { mark: value } });
  node.querySelector(".insert").addEventListener("click", async () => {
    const box = $("reply-text");
    box.value = `${box.value ? `${box.value}\n` : ""}${suggestion.sentence}（依据：${suggestion.source}）`;
    node.classList.add("inserted");
    await mark("inserted").catch(() => {});
  });
  for (const [cls, value] of [["useful", "useful"], ["wrong", "wrong"]]) {
    const button = node.querySelector(`.${cls}`);
    button.addEventListener("click", async () => {
      await mark(value).catch(() => {});
      node.querySelectorAll(".useful, .wrong").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    });
  }
  return node;
}

$("assist-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const utterance = $("assist-query").value.trim();
  if (utterance) loadSuggestions({ utterance });
});

boot();
