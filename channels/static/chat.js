// Web chat for the 12393 assistant: plain JavaScript, no build step. Talks to the gateway's /api/*.
"use strict";

const SENDER_KEY = "hotline.sender";     // the signed sender token issued by POST /api/session
const SINCE_KEY = "hotline.agentSince";  // cursor of the agent replies already shown
const ELDER_KEY = "hotline.elder";
const POLL_MS = 8000;

const messages = document.getElementById("messages");
const form = document.getElementById("composer");
const input = document.getElementById("input");
const sendButton = document.getElementById("send");
const elderToggle = document.getElementById("elder-toggle");
let lastQuestion = "";
const THUMB_SVG = '<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true"><g transform="ROTATE">' +
  '<path fill="currentColor" d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6' +
  'C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"/></g></svg>';

async function session(renew = false) {
  let token = renew ? null : localStorage.getItem(SENDER_KEY);
  if (!token) {
    const response = await fetch("/api/session", { method: "POST", credentials: "same-origin" });
    if (!response.ok) throw new Error((await detail(response)) || "无法建立会话");
    token = (await response.json()).sender;
    localStorage.setItem(SENDER_KEY, token);
    localStorage.removeItem(SINCE_KEY);
  }
  return token;
}

async function detail(response) {
  try { return (await response.json()).detail; } catch { return null; }
}

// The resident's own ID and phone numbers are shown masked in their bubble too, as everywhere else: a chat
// screen is read over shoulders and kept in screenshots. Same shapes as hotline/privacy.py.
function maskPersonal(text) {
  return text
    .replace(/(?<![0-9])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9])/g, "$1**********$2")
    .replace(/(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])/g, "$1****$2");
}

function scrollDown() { window.scrollTo({ top: document.body.scrollHeight }); }

function bubble(kind, text) {
  const wrapper = document.createElement("div");
  wrapper.className = `msg ${kind}`;
  const body = document.createElement("div");
  body.className = "bubble";
  body.textContent = text;
  wrapper.appendChild(body);
  messages.appendChild(wrapper);
  scrollDown();
  return wrapper;
}

function quickReplies(wrapper, buttons) {
  const row = document.createElement("div");
  row.className = "quick";
  for (const button of buttons) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = button.title;
    element.addEventListener("click", () => {
      row.querySelectorAll("button").forEach((b) => (b.disabled = true));
      send(button.payload || button.title, button.title);
    });
    row.appendChild(element);
  }
  wrapper.appendChild(row);
}

// band "related": passages shown as possibly related, never as the answer (actions/domain/answers.py).
function citations(wrapper, items, band) {
  const box = document.createElement("div");
  box.className = band === "related" ? "citations related" : "citations";
  box.dataset.testid = "citations";
  box.dataset.band = band || "confident";
  const label = document.createElement("span");
  label.textContent = band === "related" ? "可能相关的条文（仅供参考，不是答复）：" : "依据：";
  box.appendChild(label);
  const template = document.getElementById("citation-template");
  for (const item of items) {
    const node = template.content.firstElementChild.cloneNode(true);
    const where = [item.doc_title ? `《${item.doc_title}》` : "政策文件", item.section, item.region]
      .filter(Boolean).join(" · ");
    node.querySelector("summary").textContent = where;
    node.querySelector("blockquote").textContent = item.text || "";
    box.appendChild(node);
  }
  wrapper.querySelector(".bubble").after(box);  // sources right under the answer, before buttons and feedback
}

function feedback(wrapper, answer, question) {
  const row = document.createElement("div");
  row.className = "feedback";
  const note = document.createElement("span");
  note.textContent = "这个回答有帮助吗？";
  row.appendChild(note);
  for (const [rating, title] of [["up", "有帮助"], ["down", "没帮助"]]) {
    const button = document.createElement("button");
    button.type = "button";
    // An inline icon rather than the 👍/👎 emoji, which many kiosk and older phone fonts lack.
    button.innerHTML = THUMB_SVG.replace("ROTATE", rating === "down" ? "rotate(180 12 12)" : "");
    button.title = title;
    button.setAttribute("aria-label", title);
    button.dataset.rating = rating;
    button.addEventListener("click", async () => {
      const response = await fetch("/api/feedback", {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
        body: JSON.stringify({ sender: await session(), rating, answer, question }),
      });
      if (response.ok) {
        row.querySelectorAll("button").forEach((b) => {
          b.disabled = true;
          b.setAttribute("aria-pressed", String(b === button));
        });
        note.textContent = "感谢您的反馈！";
      }
    });
    row.appendChild(button);
  }
  wrapper.appendChild(row);
}

function showBotMessage(message, previous) {
  const custom = message.custom || {};
  const sources = custom.citations || [];
  if (!message.text && !(message.buttons || []).length) {
    // Rasa's REST channel sends an answer's `custom` payload as a message of its own, right after the text.
    if (sources.length && previous && !previous.querySelector(".citations")) citations(previous, sources, custom.band);
    return previous;
  }
  const wrapper = bubble("bot", message.text || "");
  wrapper.dataset.text = message.text || "";
  if (sources.length) citations(wrapper, sources, custom.band);
  if ((message.buttons || []).length) quickReplies(wrapper, message.buttons);
  return wrapper;
}

// One 👍/👎 per turn, under its last text: on answers (cited, or long enough to be one), not on short
// prompts such as “请问您的姓名是？”, which would only clutter the conversation.
function offerFeedback(wrappers) {
  const texts = wrappers.filter((w) => w && w.dataset.text);
  const last = texts[texts.length - 1];
  if (!last) return;
  const cited = texts.some((w) => w.querySelector(".citations"));
  if (cited || last.dataset.text.length >= 40) feedback(last, last.dataset.text, lastQuestion);
}

async function post(text) {
  for (const renew of [false, true]) {
    const response = await fetch("/api/chat", {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ sender: await session(renew), message: text }),
    });
    if (response.status !== 401) return response;  // 401: the token is no longer valid, get a new one once
  }
  throw new Error("会话无效，请刷新页面后重试。");
}

async function send(text, shown) {
  text = text.trim();
  if (!text) return;
  if (!text.startsWith("/")) lastQuestion = text;
  bubble("user", maskPersonal(shown || text));
  const typing = bubble("bot typing", "正在为您查询，请稍候…");
  sendButton.disabled = true;
  try {
    const response = await post(text);
    typing.remove();
    if (!response.ok) {
      bubble("system", (await detail(response)) || `请求失败（${response.status}），请稍后再试。`);
      return;
    }
    const replies = await response.json();
    if (!replies.length) bubble("bot", "抱歉，我暂时没有理解您的问题。您可以换个说法，或点击右上角“转人工”。");
    const shown = [];
    replies.reduce((previous, message) => {
      const wrapper = showBotMessage(message, previous);
      if (wrapper !== previous) shown.push(wrapper);
      return wrapper;
    }, null);
    offerFeedback(shown);
  } catch (error) {
    typing.remove();
    bubble("system", "网络连接失败，请检查网络后重试。紧急问题请拨打 12393 医保服务热线。");
  } finally {
    sendButton.disabled = false;
    input.focus();
  }
}

async function pollAgentReplies() {
  try {
    const since = localStorage.getItem(SINCE_KEY) || "";
    // The token travels in a header: URLs end up in access logs.
    const response = await fetch(`/api/messages?since=${encodeURIComponent(since)}`, {
      credentials: "same-origin", headers: { "X-Hotline-Sender": await session() },
    });
    if (!response.ok) return;
    const data = await response.json();
    for (const message of data.messages) {
      const wrapper = bubble("agent", message.text);
      const label = document.createElement("div");
      label.className = "label";
      label.textContent = message.reference
        ? `${AGENT_LABELS[message.kind] || "留言答复"} · 编号 ${message.reference}`
        : `${AGENT_LABELS[message.kind] || "人工客服回复"} · 工单 ${message.ticket_number}`;
      wrapper.prepend(label);
      if (message.rating_token) ratingButtons(wrapper, message.rating_token);
    }
    if (data.next_since) localStorage.setItem(SINCE_KEY, data.next_since);
  } catch { /* the next poll tries again */ }
}

const AGENT_LABELS = { "答复": "人工客服回复", "评价邀请": "请您评价", "回访反馈": "回访反馈", "留言答复": "留言答复" };

// The invitation to rate an answered ticket: three buttons and an optional comment, sent with the ticket's
// signed rating token (POST /api/rating). Residents may also simply type “满意” or “不满意”.
function ratingButtons(wrapper, token) {
  const row = document.createElement("div");
  row.className = "quick rating";
  row.dataset.testid = "rating";
  const comment = document.createElement("input");
  comment.type = "text";
  comment.maxLength = 500;
  comment.placeholder = "意见（可选）";
  comment.setAttribute("aria-label", "评价意见（可选）");
  for (const rating of ["满意", "基本满意", "不满意"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = rating;
    button.addEventListener("click", async () => {
      row.querySelectorAll("button, input").forEach((b) => (b.disabled = true));
      const response = await fetch("/api/rating", {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
        body: JSON.stringify({ token, rating, comment: comment.value }),
      }).catch(() => null);
      const data = response ? await response.json().catch(() => ({})) : {};
      const answer = response && response.ok ? data.message : (data.detail || "评价未能提交，请稍后再试。").split(" / ")[0];
      bubble("bot", answer);
      if (!(response && response.ok) && response && response.status !== 409) {
        row.querySelectorAll("button, input").forEach((b) => (b.disabled = false));
      }
    });
    row.appendChild(button);
  }
  row.appendChild(comment);
  wrapper.appendChild(row);
}

function setElder(on) {
  document.documentElement.classList.toggle("elder", on);
  elderToggle.setAttribute("aria-pressed", String(on));
  elderToggle.textContent = on ? "长辈模式：开" : "长辈模式";
  localStorage.setItem(ELDER_KEY, on ? "1" : "0");
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  input.value = "";
  send(text);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {  // isComposing: 拼音输入法选词
    event.preventDefault();
    form.requestSubmit();
  }
});
document.getElementById("human").addEventListener("click", () => send("转人工"));
document.querySelectorAll(".intro .quick button").forEach((button) =>
  button.addEventListener("click", () => send(button.dataset.message)));
elderToggle.addEventListener("click", () => setElder(!document.documentElement.classList.contains("elder")));
setElder(localStorage.getItem(ELDER_KEY) === "1");
session().then(pollAgentReplies).catch(() => {});
setInterval(pollAgentReplies, POLL_MS);
