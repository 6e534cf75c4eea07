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

function render(card, activityId, base) {
  const ac = new AdaptiveCards.AdaptiveCard();
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
  return ac.render();
}

function bubble(activity, from) {
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
  const chat = document.getElementById("chat");
  chat.replaceChildren(...state.chat.map(a => bubble(a, "Baton")));
  const channels = document.getElementById("channels");
  channels.replaceChildren(...state.channels.flatMap(c => c.activities.map(a => bubble(a, c.name))));
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
    if (!res.ok) alert((await res.json()).error);
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
