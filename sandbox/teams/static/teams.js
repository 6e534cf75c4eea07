// Baton's Teams sandbox: renders the cards Baton sent with Microsoft's Adaptive Cards renderer
// and sends what a persona does back to the bot as Teams would (through /teams/api/...).
"use strict";
const personaSelect = document.getElementById("persona");
// persona -> {activity id -> {card the invoke answered with, the version it replaced}}: shown
// until Baton redraws that message (as Teams replaces the card for the person who pressed)
const shownFor = {};
let lastState = "";

async function api(path, body) {
  const res = await fetch("/teams/api/" + path, body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function cardOf(activity) {
  const a = (activity.attachments || []).find(x => x.contentType === "application/vnd.microsoft.card.adaptive");
  return a ? a.content : null;
}

// Teams renders the cards' markdown subset; the renderer leaves it to the host: bold, italics
// and backslash escapes, with everything else shown as text (HTML escaped first).
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  const esc = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const kept = [];
  const held = esc.replace(/\\([\\`*_\[\]])/g, (_, c) => { kept.push(c); return `\u0000${kept.length - 1}\u0000`; });
  result.outputHtml = held.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|\W)_(.+?)_(\W|$)/g, "$1<em>$2</em>$3")
    .replace(/\u0000(\d+)\u0000/g, (_, i) => kept[Number(i)])
    .replace(/\n/g, "<br>");
  result.didProcess = true;
};

// Teams' light theme draws "Warning" text darker than the renderer's default orange, which is
// too faint on white (WCAG 1.4.3); the other colours are the renderer's own.
const HOST = new AdaptiveCards.HostConfig({containerStyles: {default: {foregroundColors: {
  default: {default: "#333333", subtle: "#484644"}, accent: {default: "#0063B1", subtle: "#0063B1"},
  good: {default: "#0E700E", subtle: "#0E700E"}, warning: {default: "#8A4B00", subtle: "#8A4B00"},
  attention: {default: "#B3261E", subtle: "#B3261E"}}}}});

function render(card, activityId, base) {
  const ac = new AdaptiveCards.AdaptiveCard();
  ac.hostConfig = HOST;
  ac.onExecuteAction = async (action) => {
    if (!(action instanceof AdaptiveCards.ExecuteAction)) return;
    const user = personaSelect.value;
    try {
      const answer = await api("execute", {user, verb: action.verb, data: action.data || {}});
      (shownFor[user] = shownFor[user] || {})[activityId] = {card: answer.card, base};
      lastState = "";
      refresh();
    } catch (e) { alert(e.message); }
  };
  // Teams shows <at>name</at> (with its msteams entity) as an @mention; this renderer shows text.
  ac.parse(JSON.parse(JSON.stringify(card).replace(/<at>(.*?)<\/at>/g, "@$1")));
  const rendered = ac.render();
  nameActionGroups(rendered);
  showDatesInWords(rendered);
  return rendered;
}

// A date field shows the picked date in words beside it ("Wed 20 Jan 2027"), as people in the
// UK read dates: headless Chromium ignores the page's en-GB and shows mm/dd/yyyy in the field.
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
function inWords(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  if (!m) return "";
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return `${DAYS[d.getUTCDay()]} ${m[3]} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}
let dateSeq = 0;
function showDatesInWords(root) {
  if (!root) return;
  for (const input of root.querySelectorAll("input[type=date]")) {
    const words = document.createElement("span");
    words.className = "date-words";
    words.id = `date-words-${++dateSeq}`;
    words.setAttribute("aria-live", "polite");
    const show = () => { words.textContent = input.value ? `Date chosen: ${inWords(input.value)}` : "No date chosen"; };
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), words.id].filter(Boolean).join(" "));
    show();
    input.insertAdjacentElement("afterend", words);
  }
}

// WCAG 2.4.6: each group of buttons is named for the case it acts on ("Actions for X123456"),
// so a screen reader does not hear "Accept, Decline ..." three times with nothing saying which.
function nameActionGroups(root) {
  if (!root) return;
  for (const set of root.querySelectorAll(".ac-actionSet")) {
    let scope = set.parentElement;
    let found = null;
    while (scope && !found) {  // the first text of the nearest container naming a case
      for (const t of scope.querySelectorAll(".ac-textBlock")) {
        found = (t.textContent || "").match(/\b([A-Z]{0,4}\d{3,})\b/);
        if (found) break;
      }
      if (scope === root) break;
      scope = scope.parentElement;
    }
    set.setAttribute("role", "group");
    set.setAttribute("aria-label", found ? `Actions for ${found[1]}` : "Actions");
  }
}

// A card's replies (Baton's "Reply to activity" lines) sit under it, "2 replies", opened on demand.
const openThreads = new Set();

function threaded(activities, from) {
  const ids = new Set(activities.map(a => a.id));
  const under = {};
  for (const a of activities) {
    if (a.replyToId && ids.has(a.replyToId)) (under[a.replyToId] = under[a.replyToId] || []).push(a);
  }
  return activities.filter(a => !(a.replyToId && ids.has(a.replyToId)))
    .map(a => bubble(a, from, under[a.id] || []));
}

function replies(parentId, list) {
  const details = document.createElement("details");
  details.className = "thread";
  const summary = document.createElement("summary");
  summary.textContent = `${list.length} ${list.length === 1 ? "reply" : "replies"}`;
  details.appendChild(summary);
  for (const r of list) {
    const p = document.createElement("p");
    p.className = "reply";
    p.textContent = r.text || "";
    details.appendChild(p);
  }
  details.open = openThreads.has(parentId);
  details.addEventListener("toggle", () => {
    if (details.open) openThreads.add(parentId); else openThreads.delete(parentId);
  });
  return details;
}

function bubble(activity, from, thread) {
  const div = document.createElement("div");
  div.className = "message";
  div.dataset.activity = activity.id;
  const who = document.createElement("div");
  who.className = "from";
  who.textContent = from;
  div.appendChild(who);
  const user = personaSelect.value;
  const base = JSON.stringify(cardOf(activity));
  const shown = (shownFor[user] || {})[activity.id];
  const card = shown && shown.base === base ? shown.card : cardOf(activity);
  if (card) div.appendChild(render(card, activity.id, base));
  else { const p = document.createElement("p"); p.textContent = activity.text || ""; div.appendChild(p); }
  if (thread && thread.length) div.appendChild(replies(activity.id, thread));
  return div;
}

async function refresh() {
  const state = await api("state?user=" + encodeURIComponent(personaSelect.value || ""));
  if (!personaSelect.options.length) {
    for (const p of state.personas) personaSelect.add(new Option(`${p.label} (${p.id})`, p.id));
    return refresh();
  }
  const key = JSON.stringify([state.chat, state.channels, shownFor[personaSelect.value]]);
  if (key === lastState) return;
  lastState = key;
  const focused = focusKey(document.activeElement);
  const chat = document.getElementById("chat");
  chat.replaceChildren(...threaded(state.chat, "Baton"));
  const channels = document.getElementById("channels");
  channels.replaceChildren(...state.channels.flatMap(c => threaded(c.activities, c.name)));
  restoreFocus(focused);
}

// A redrawn chat keeps the keyboard where it was: the same button (by its words) of the same
// message, or (a form closed in place) that message's first button, as Teams does.
function focusKey(el) {
  const message = el && el.closest ? el.closest(".message") : null;
  return message ? {activity: message.dataset.activity, text: (el.textContent || "").trim()} : null;
}

function restoreFocus(key) {
  if (!key) return;
  const message = [...document.querySelectorAll(".message")].find(m => m.dataset.activity === key.activity);
  if (!message) return;
  const buttons = [...message.querySelectorAll("button, .ac-pushButton")];
  const same = buttons.find(b => (b.textContent || "").trim() === key.text) || buttons[0];
  if (same) same.focus();
}

// The sandbox clock is shared with the Slack page: moving it sweeps both worlds.
async function showClock() {
  const res = await fetch("/api/state");
  const state = await res.json();
  document.getElementById("clock-now").textContent = state.clock.label;
}
for (const button of document.querySelectorAll("[data-advance]")) {
  button.addEventListener("click", async () => {
    const raw = button.dataset.advance;
    const res = await fetch("/api/clock", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({advance: raw === "next" ? "next" : Number(raw)})});
    const answer = await res.json();
    if (!res.ok) alert(answer.error);
    else document.getElementById("sweep-status").textContent = sweepWords(answer.teams_sweep && answer.teams_sweep.counts);
    showClock();
  });
}
showClock();

document.getElementById("say").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = document.getElementById("text");
  try { await api("say", {user: personaSelect.value, text: text.value}); text.value = ""; }
  catch (err) { alert(err.message); }
});
personaSelect.addEventListener("change", () => { lastState = ""; refresh(); });
refresh();
setInterval(refresh, 700);

// What the scheduler did when the clock moved, in plain words (the Slack page's words).
function sweepWords(counts) {
  const n = (k) => (counts && typeof counts[k] === "number" ? counts[k] : 0);
  const s = (k, one, many) => `${n(k)} ${n(k) === 1 ? one : many}`;
  if (!n("steps") && !n("sent") && !n("notifications")) {
    return n("transfers") ? `Baton checked ${s("transfers", "open transfer", "open transfers")}: nothing fell due.`
      : "Nothing fell due.";
  }
  const parts = [];
  if (n("steps")) parts.push(`${s("steps", "reminder or deadline", "reminders and deadlines")} fell due`);
  if (n("escalations")) parts.push(`${s("escalations", "case went", "cases went")} to a senior manager`);
  const messages = n("sent") || n("notifications");
  if (messages) parts.push(`${messages} ${messages === 1 ? "message" : "messages"} sent`);
  return `Baton checked ${s("transfers", "open transfer", "open transfers")}: ${parts.join(", ")}.`;
}
