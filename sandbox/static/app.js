// Baton sandbox page: shows the Slack stand-in's state for one persona and acts for them.
// Everything the page sends goes to the sandbox's JSON endpoints; the Python side builds and
// signs Slack's requests to the bot. Text from the bot or from people is only ever put into
// the page with textContent / createTextNode, never as HTML.
"use strict";

(() => {
  const POLL_MS = 700;
  const REQUIRED = "Please complete this required field.";
  // Emoji drawn with CSS, so the page needs no emoji font: the red / amber / green status dots.
  const DOTS = { red_circle: "red", large_orange_circle: "amber", large_green_circle: "green", white_circle: "white" };
  const DOT_WORDS = { red: "overdue", amber: "due soon", green: "on track", white: "no deadline" };

  const $ = (sel) => document.querySelector(sel);
  const S = {
    state: null,
    persona: null,
    conv: "dm",
    shown: { personas: "", channels: "", conv: "", modal: "" },
    homeAsked: "",
    busy: false,
    openThreads: new Set(),  // the ts of cards whose replies the reader opened
  };

  // ------------------------------------------------------------------ helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function unescapeSlack(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // Append text with :shortcode: emoji: status dots become labelled spans, others stay as typed.
  function addText(parent, text, slackEscaped) {
    let last = 0;
    const put = (piece) => {
      if (piece) parent.append(document.createTextNode(slackEscaped ? unescapeSlack(piece) : piece));
    };
    for (const m of text.matchAll(/:([a-z0-9_+-]+):/g)) {
      const colour = DOTS[m[1]];
      if (!colour) continue;
      put(text.slice(last, m.index));
      parent.append(el("span", { class: `dot dot-${colour}`, role: "img", "aria-label": DOT_WORDS[colour], title: DOT_WORDS[colour] }));
      last = m.index + m[0].length;
    }
    put(text.slice(last));
  }

  function plainNode(text) {
    const frag = document.createDocumentFragment();
    addText(frag, String(text || ""), false);
    return frag;
  }

  function personaLabel(id) {
    const p = (S.state && S.state.personas || []).find((x) => x.id === id);
    return p ? `${p.label} · ${p.id}` : id;
  }

  function dmChannel() {
    return "D" + S.persona;
  }

  function currentChannel() {
    return S.conv === "dm" ? dmChannel() : S.conv;
  }

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const resp = await fetch(path, options);
    let data = {};
    try {
      data = await resp.json();
    } catch (_) {
      data = {};
    }
    if (!resp.ok) throw new Error(data.error || `HTTP ${resp.status}`);
    return data;
  }

  function notice(text) {
    $("#notice").textContent = text || "";
  }

  // ------------------------------------------------------------------ mrkdwn

  const FORMAT = new RegExp(
    "`([^`\\n]+)`" +
    "|(?<![\\w*])\\*(?!\\s)([^*\\n]+?)\\*(?![\\w*])" +
    "|(?<![\\w_])_(?!\\s)([^_\\n]+?)_(?![\\w_])" +
    "|(?<![\\w~])~(?!\\s)([^~\\n]+?)~(?![\\w~])", "g");

  function formatted(text, parent) {
    let last = 0;
    for (const m of text.matchAll(FORMAT)) {
      if (m.index > last) addText(parent, text.slice(last, m.index), true);
      if (m[1] !== undefined) parent.append(el("code", { text: unescapeSlack(m[1]) }));
      else {
        const tag = m[2] !== undefined ? "strong" : m[3] !== undefined ? "em" : "s";
        const inner = el(tag);
        formatted(m[2] ?? m[3] ?? m[4], inner);
        parent.append(inner);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) addText(parent, text.slice(last), true);
  }

  function special(token) {
    const [target, label] = token.split("|", 2);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return el("span", { class: "mention", title: personaLabel(id), text: "@" + id });
    }
    if (target.startsWith("#")) {
      return el("span", { class: "mention", text: "#" + (label || target.slice(1)) });
    }
    if (target.startsWith("!")) {
      const word = target.slice(1).split("^")[0];
      if (["channel", "here", "everyone"].includes(word)) return el("span", { class: "mention", text: "@" + word });
      return document.createTextNode(unescapeSlack(label || word));
    }
    if (/^(https?:|mailto:)/i.test(target)) {
      return el("a", { href: target, rel: "noopener noreferrer", target: "_blank", text: unescapeSlack(label || target) });
    }
    return document.createTextNode(unescapeSlack(label || target));
  }

  function inline(text, parent) {
    let last = 0;
    for (const m of text.matchAll(/<([^<>\n]+)>/g)) {
      if (m.index > last) formatted(text.slice(last, m.index), parent);
      parent.append(special(m[1]));
      last = m.index + m[0].length;
    }
    if (last < text.length) formatted(text.slice(last), parent);
  }

  function mrkdwn(text) {
    const frag = document.createDocumentFragment();
    let quote = null;
    const lines = String(text || "").split("\n");
    lines.forEach((line, i) => {
      const q = /^(?:>|&gt;) ?/.exec(line);
      if (q) {
        if (!quote) {
          quote = el("blockquote");
          frag.append(quote);
        } else {
          quote.append(el("br"));
        }
        inline(line.slice(q[0].length), quote);
        return;
      }
      quote = null;
      inline(line, frag);
      if (i < lines.length - 1 && !/^(?:>|&gt;)/.test(lines[i + 1])) frag.append(el("br"));
    });
    return frag;
  }

  function textObject(obj) {
    if (!obj) return document.createDocumentFragment();
    if (typeof obj === "string") return document.createTextNode(obj);
    if (obj.type === "mrkdwn") return mrkdwn(obj.text);
    return plainNode(obj.text);
  }

  function plain(obj) {
    if (!obj) return "";
    return typeof obj === "string" ? obj : obj.text || "";
  }

  // ------------------------------------------------------------------ dates in en-GB

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
  function dateWords(input) {
    const words = el("span", { class: "date-words", id: `${input.id}-words`, "aria-live": "polite" });
    const show = () => { words.textContent = input.value ? `Date chosen: ${inWords(input.value)}` : "No date chosen"; };
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), words.id].filter(Boolean).join(" "));
    show();
    return words;
  }

  // ------------------------------------------------------------------ Block Kit

  function button(element, where) {
    const style = element.style === "primary" ? "primary" : element.style === "danger" ? "danger" : null;
    const b = el("button", { type: "button", class: style, text: plain(element.text),
      "data-action-id": element.action_id || "", "data-value": element.value || "" });
    b.addEventListener("click", () => press(element, where, b));
    return b;
  }

  // An overflow menu ("…"): a button that shows its options, each pressed as Slack sends it
  // (block_actions with selected_option); Esc or a click elsewhere closes it.
  let menuSeq = 0;
  function overflow(element, where) {
    const id = `overflow-${++menuSeq}`;
    const name = where.caseRef ? `More actions for ${where.caseRef}` : "More actions";
    const toggle = el("button", { type: "button", class: "bk-overflow", text: "…", "aria-label": name,
      "aria-expanded": "false", "aria-controls": id, title: name });
    const list = el("div", { class: "bk-overflow-menu", id, hidden: true, role: "group", "aria-label": name },
      ...(element.options || []).map((o) => {
        const b = el("button", { type: "button", text: plain(o.text), "data-action-id": element.action_id || "",
          "data-value": o.value || "" });
        b.addEventListener("click", () => {
          close();
          press({ action_id: element.action_id, value: o.value, text: o.text, element: "overflow" },
            where, toggle);
        });
        return b;
      }));
    function close() {
      list.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
    }
    toggle.addEventListener("click", () => {
      const open = list.hidden;
      list.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) list.querySelector("button").focus();
    });
    list.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { ev.stopPropagation(); close(); toggle.focus(); }
    });
    return el("div", { class: "bk-overflow-wrap" }, toggle, list);
  }

  document.addEventListener("click", (ev) => {  // a click elsewhere closes an open overflow menu
    for (const wrap of document.querySelectorAll(".bk-overflow-wrap")) {
      if (wrap.contains(ev.target)) continue;
      wrap.querySelector(".bk-overflow-menu").hidden = true;
      wrap.querySelector(".bk-overflow").setAttribute("aria-expanded", "false");
    }
  });

  // A select among a card's actions ("More actions", past five options): choosing one presses it.
  function actionSelect(element, where) {
    const name = where.caseRef ? `More actions for ${where.caseRef}` : "More actions";
    const select = el("select", { "aria-label": name },
      el("option", { value: "", text: plain(element.placeholder) || "More actions" }),
      ...(element.options || []).map((o) => el("option", { value: o.value, text: plain(o.text) })));
    select.addEventListener("change", () => {
      if (!select.value) return;
      const o = (element.options || []).find((x) => x.value === select.value);
      press({ action_id: element.action_id, value: select.value, text: o ? o.text : "", element: "static_select" },
        where, select);
    });
    return select;
  }

  function actionElement(e, where) {
    if (e.type === "button") return button(e, where);
    if (e.type === "overflow") return overflow(e, where);
    if (e.type === "static_select") return actionSelect(e, where);
    return unsupported(e.type);
  }

  function image(element, cls) {
    const url = String(element.image_url || "");
    if (!/^(https?:|data:image\/)/i.test(url)) return el("span", { class: "bk-unsupported", text: element.alt_text || "image" });
    return el("img", { src: url, alt: element.alt_text || "", class: cls });
  }

  function unsupported(what) {
    return el("div", { class: "bk-unsupported", text: `[${what} is not shown in the sandbox]` });
  }

  function block(b, where) {
    switch (b.type) {
      case "header":
        return el("h3", { class: "bk-header" }, plainNode(plain(b.text)));
      case "divider":
        return el("hr", { class: "bk-divider" });
      case "section": {
        const body = el("div", { class: "bk-section-body" });
        if (b.text) body.append(el("p", {}, textObject(b.text)));
        if (b.fields && b.fields.length) {
          body.append(el("div", { class: "bk-fields" }, ...b.fields.map((f) => el("div", {}, textObject(f)))));
        }
        const section = el("div", { class: "bk-section" }, body);
        const acc = b.accessory;
        if (acc) {
          if (acc.type === "button") section.append(el("div", { class: "bk-accessory" }, button(acc, { ...where, block_id: b.block_id })));
          else if (acc.type === "image") section.append(el("div", { class: "bk-accessory" }, image(acc)));
          else section.append(unsupported(acc.type));
        }
        return section;
      }
      case "context":
        return el("div", { class: "bk-context" }, ...(b.elements || []).map((e) =>
          e.type === "image" ? image(e) : el("span", {}, textObject(e))));
      case "actions":
        return el("div", { class: "bk-actions", role: "group", "aria-label": (where || {}).caseRef ? `Actions for ${where.caseRef}` : "Actions" }, ...(b.elements || []).map((e) =>
          actionElement(e, { ...where, block_id: b.block_id })));
      case "image": {
        const fig = el("figure", { class: "bk-image" }, image(b));
        if (b.title) fig.append(el("figcaption", { text: plain(b.title) }));
        return fig;
      }
      default:
        return unsupported(`${b.type} block`);
    }
  }

  function blocks(list, where) {
    const frag = document.createDocumentFragment();
    let caseRef = null;
    for (const b of list || []) {
      caseRef = caseOf(b) || caseRef;  // each card's buttons are named for the case above them
      frag.append(block(b, { ...where, caseRef }));
    }
    return frag;
  }

  // The case a header ("Case transfer: X123456") or a list line ("*X123456* · ...") is about.
  function caseOf(b) {
    const text = b.text && typeof b.text.text === "string" ? b.text.text : "";
    const m = b.type === "header" ? text.match(/\b([A-Z]{0,4}\d{3,})\b/)
      : b.type === "section" ? text.match(/\*([A-Z]{0,4}\d{3,})\*/) : null;
    return m ? m[1] : null;
  }

  // ------------------------------------------------------------------ conversations

  function renderPersonas() {
    const personas = S.state.personas;
    const key = JSON.stringify(personas);
    if (key === S.shown.personas) return;
    S.shown.personas = key;
    const select = $("#persona");
    select.replaceChildren();
    const groups = new Map();
    for (const p of personas) {
      if (!groups.has(p.group)) {
        groups.set(p.group, el("optgroup", { label: p.group }));
        select.append(groups.get(p.group));
      }
      groups.get(p.group).append(el("option", { value: p.id, text: `${p.label} · ${p.id}` }));
    }
    if (!S.persona || !personas.some((p) => p.id === S.persona)) S.persona = personas[0].id;
    select.value = S.persona;
  }

  function messagesIn(channel) {
    return (S.state.slack.conversations[channel] || []);
  }

  function renderSidebar() {
    const key = JSON.stringify([S.state.channels, S.conv, S.persona,
      S.state.channels.map((c) => messagesIn(c.id).length), messagesIn(dmChannel()).length]);
    if (key === S.shown.channels) return;
    S.shown.channels = key;
    const list = $("#channel-list");
    list.replaceChildren(...S.state.channels.map((c) => {
      const n = messagesIn(c.id).length;
      return el("li", {}, el("button", { type: "button", "data-conv": c.id, title: c.description },
        el("span", { text: "# " + c.name }), el("span", { class: "count", text: n ? String(n) : "" })));
    }));
    document.querySelectorAll("#sidebar button[data-conv]").forEach((b) => {
      if (b.dataset.conv === S.conv) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
      if (b.dataset.conv === "dm") {
        const n = messagesIn(dmChannel()).length;
        b.replaceChildren(el("span", { text: "Messages with Baton" }), el("span", { class: "count", text: n ? String(n) : "" }));
      }
    });
  }

  // A thread's replies sit under their card ("2 replies", opened on demand); a reply sent
  // "also to the conversation" (reply_broadcast) shows in the conversation too, as in Slack.
  function isReply(m) {
    return !!m.thread_ts && m.thread_ts !== m.ts;
  }

  function repliesTo(channel, ts) {
    return messagesIn(channel).filter((m) => isReply(m) && m.thread_ts === ts);
  }

  function conversationItems() {
    const channel = currentChannel();
    const items = messagesIn(channel).filter((m) => !isReply(m) || m.broadcast)
      .map((m) => ({ ...m, ephemeral: false, replies: isReply(m) ? [] : repliesTo(channel, m.ts) }));
    for (const group of S.state.slack.ephemerals) {
      if (group.channel === channel && group.user === S.persona) {
        for (const e of group.messages) items.push({ ...e, ephemeral: true });
      }
    }
    items.sort((a, b) => Number(a.ts) - Number(b.ts));
    return items;
  }

  function renderMessage(m) {
    const where = { channel: m.channel, message_ts: m.ts };
    const author = m.ephemeral || m.bot_id ? "Baton" : "@" + m.user;
    const meta = el("div", { class: "meta" }, el("strong", { text: author }));
    if (!m.ephemeral && !m.bot_id) meta.title = personaLabel(m.user);
    if (m.ephemeral) meta.append(el("span", { class: "tag", text: "Only visible to you" }));
    if (m.updated) meta.append(el("span", { class: "tag", text: "edited" }));
    const body = m.blocks && m.blocks.length ? blocks(m.blocks, where) : el("div", { class: "text" }, mrkdwn(m.text));
    const files = (m.files || []).map((id) => {
      const f = (S.state.slack.files || []).find((x) => x.id === id) || {};
      return el("figure", { class: "file" },
        el("img", { src: "/files/" + encodeURIComponent(id), alt: f.alt_txt || f.title || "uploaded file" }),
        el("figcaption", { text: f.title || f.filename || id }));
    });
    if (isReply(m) && m.broadcast) meta.append(el("span", { class: "tag", text: "replied to a thread" }));
    const thread = [];
    if (m.replies && m.replies.length) {
      const n = m.replies.length;
      const details = el("details", { class: "thread" },
        el("summary", { text: `${n} ${n === 1 ? "reply" : "replies"}` }),
        ...m.replies.map((r) => el("div", { class: "reply", "data-ts": r.ts },
          el("strong", { text: r.bot_id ? "Baton" : "@" + r.user }), " ", mrkdwn(r.text))));
      if (S.openThreads.has(m.ts)) details.open = true;
      details.addEventListener("toggle", () => {
        if (details.open) S.openThreads.add(m.ts); else S.openThreads.delete(m.ts);
      });
      thread.push(details);
    }
    return el("article", { class: "message" + (m.ephemeral ? " ephemeral" : ""), "data-ts": m.ts }, meta, body, ...files, ...thread);
  }

  function renderConversation() {
    const home = S.conv === "home";
    let key;
    if (home) {
      key = JSON.stringify(["home", S.persona, S.state.slack.home_views[S.persona] || null]);
    } else {
      key = JSON.stringify([S.conv, S.persona, conversationItems()]);
    }
    if (key === S.shown.conv) return;
    S.shown.conv = key;
    const box = $("#conversation");
    const title = $("#conv-title");
    const desc = $("#conv-desc");
    $("#composer").hidden = home;
    if (home) {
      title.textContent = "Home";
      desc.textContent = "Baton's App Home tab for " + personaLabel(S.persona) + ".";
      const view = S.state.slack.home_views[S.persona];
      box.replaceChildren(view ? el("div", { class: "home" }, blocks(view.blocks, { view_id: view.id }))
        : el("p", { class: "empty", text: "Opening Home…" }));
      return;
    }
    if (S.conv === "dm") {
      title.textContent = "Messages with Baton";
      desc.textContent = "Your direct messages with Baton (channel " + dmChannel() + ").";
    } else {
      const c = S.state.channels.find((x) => x.id === S.conv);
      title.textContent = "# " + (c ? c.name : S.conv);
      desc.textContent = (c ? c.description + " · " : "") + "channel " + S.conv;
    }
    const items = conversationItems();
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.replaceChildren(...(items.length ? items.map(renderMessage)
      : [el("p", { class: "empty", text: "Nothing here yet." })]));
    if (atBottom || items.length) box.scrollTop = box.scrollHeight;
  }

  // ------------------------------------------------------------------ modals

  function topModal() {
    const stack = S.state.slack.modals[S.persona] || [];
    return stack.length ? stack[stack.length - 1] : null;
  }

  function option(o, selected) {
    const text = plain(o.text) + (o.description ? " — " + plain(o.description) : "");
    return el("option", { value: o.value, text, selected: !!selected });
  }

  function control(block, id, describedBy) {
    const e = block.element || {};
    const common = { id, name: block.block_id, "aria-describedby": describedBy, "aria-required": block.optional ? null : "true" };
    switch (e.type) {
      case "plain_text_input": {
        const attrs = { ...common, maxlength: e.max_length || null, placeholder: plain(e.placeholder) || null };
        const input = e.multiline ? el("textarea", attrs) : el("input", { ...attrs, type: "text" });
        input.value = e.initial_value || "";
        return input;
      }
      case "static_select": {
        const select = el("select", common, el("option", { value: "", text: plain(e.placeholder) || "Choose one" }));
        const initial = e.initial_option && e.initial_option.value;
        for (const o of e.options || []) select.append(option(o, o.value === initial));
        for (const g of e.option_groups || []) {
          select.append(el("optgroup", { label: plain(g.label) }, ...(g.options || []).map((o) => option(o, o.value === initial))));
        }
        if (block.dispatch_action) {  // as Slack: choosing sends the block action at once
          select.addEventListener("change", () => dispatchChoice(block, e, select.value));
        }
        return select;
      }
      case "users_select": {
        const select = el("select", common, el("option", { value: "", text: plain(e.placeholder) || "Choose someone" }));
        for (const p of S.state.personas) {
          select.append(el("option", { value: p.id, text: `${p.label} · ${p.id}`, selected: p.id === e.initial_user }));
        }
        return select;
      }
      case "multi_static_select": {
        const chosen = new Set((e.initial_options || []).map((o) => o.value));
        const select = el("select", { ...common, multiple: true, size: 4 });
        for (const o of e.options || []) select.append(option(o, chosen.has(o.value)));
        return select;
      }
      case "multi_users_select": {
        const chosen = new Set(e.initial_users || []);
        const select = el("select", { ...common, multiple: true, size: 4 });
        for (const p of S.state.personas) {
          select.append(el("option", { value: p.id, text: `${p.label} · ${p.id}`, selected: chosen.has(p.id) }));
        }
        return select;
      }
      case "datepicker": {
        const input = el("input", { ...common, type: "date" });
        input.value = e.initial_date || "";
        return input;
      }
      case "checkboxes":
      case "radio_buttons": {
        const kind = e.type === "checkboxes" ? "checkbox" : "radio";
        const initial = new Set((e.initial_options || (e.initial_option ? [e.initial_option] : [])).map((o) => o.value));
        return (e.options || []).map((o, i) => {
          const oid = `${id}-${i}`;
          const box = el("input", { type: kind, id: oid, name: block.block_id, value: o.value, checked: initial.has(o.value) });
          const label = el("label", { for: oid }, el("span", { text: plain(o.text) }));
          if (o.description) label.append(el("span", { class: "description", text: plain(o.description) }));
          return el("div", { class: "choice" }, box, label);
        });
      }
      default:
        return null;
    }
  }

  function field(block, index) {
    const e = block.element || {};
    const id = `field-${index}`;
    const hintId = `${id}-hint`;
    const errId = `${id}-error`;
    const wrap = el("div", { class: "field", "data-block-id": block.block_id, "data-action-id": e.action_id, "data-type": e.type });
    const labelText = [el("span", { text: plain(block.label) })];
    if (block.optional) labelText.push(el("span", { class: "optional", text: " (optional)" }));
    const describedBy = [block.hint ? hintId : null, errId].filter(Boolean).join(" ");
    const made = control(block, id, describedBy);
    if (made === null) {
      wrap.append(el("div", { class: "bk-unsupported", text: `[${e.type} input is not supported in the sandbox]` }));
      return wrap;
    }
    if (Array.isArray(made)) {
      wrap.append(el("fieldset", { "aria-describedby": describedBy }, el("legend", {}, ...labelText), ...made));
    } else {
      wrap.append(el("label", { for: id }, ...labelText), made);
      if (e.type === "datepicker") wrap.append(dateWords(made));
    }
    if (block.hint) wrap.append(el("div", { class: "hint", id: hintId, text: plain(block.hint) }));
    wrap.append(el("p", { class: "field-error", id: errId, role: "alert", hidden: true }));
    return wrap;
  }

  function renderModal() {
    const view = topModal();
    const key = view ? view.id + "|" + view.hash : "";
    if (key === S.shown.modal) return;
    const wasOpen = S.shown.modal !== "";
    S.shown.modal = key;
    const backdrop = $("#modal-backdrop");
    if (!view) {
      backdrop.hidden = true;
      setInert(false);
      if (wasOpen) returnFocus();
      return;
    }
    $("#modal").dataset.viewId = view.id;
    $("#modal-title").textContent = plain(view.title) || "Form";
    $("#modal-cancel").textContent = plain(view.close) || "Cancel";
    const submit = $("#modal-submit");
    submit.textContent = plain(view.submit) || "Submit";
    submit.hidden = !view.submit;
    submit.disabled = false;
    $("#modal-error").hidden = true;
    const body = $("#modal-body");
    const redrawn = wasOpen && $("#modal").dataset.shownId === view.id;  // views.update: keep what was typed
    const kept = redrawn ? keepValues(body) : null;
    $("#modal").dataset.shownId = view.id;
    body.replaceChildren(...(view.blocks || []).map((b, i) =>
      b.type === "input" ? field(b, i) : el("div", {}, block(b, { view_id: view.id }))));
    if (kept) {
      restoreValues(body, kept);
      backdrop.hidden = false;
      setInert(true);
      const again = body.querySelector(`.field[data-block-id="${CSS.escape(kept.focus || "")}"] select, ` +
        `.field[data-block-id="${CSS.escape(kept.focus || "")}"] input`);
      if (again) again.focus();
      return;
    }
    backdrop.hidden = false;
    setInert(true);
    const first = body.querySelector("input, select, textarea");
    if (first) first.focus();
    else $("#modal-cancel").focus();
  }

  // What a person typed in a form, by block, so a redrawn form (views.update) keeps it, as Slack does.
  function keepValues(body) {
    const values = {};
    for (const wrap of body.querySelectorAll(".field[data-block-id]")) {
      const controls = [...wrap.querySelectorAll("input, select, textarea")];
      values[wrap.dataset.blockId] = controls.map((c) => (c.type === "checkbox" || c.type === "radio")
        ? [c.value, c.checked] : c.multiple ? [null, [...c.selectedOptions].map((o) => o.value)] : [null, c.value]);
    }
    const active = document.activeElement && document.activeElement.closest(".field[data-block-id]");
    return { values, focus: active ? active.dataset.blockId : null };
  }

  function restoreValues(body, kept) {
    for (const wrap of body.querySelectorAll(".field[data-block-id]")) {
      const was = kept.values[wrap.dataset.blockId];
      if (!was) continue;
      const ticked = new Set(was.filter(([v, on]) => v !== null && on === true).map(([v]) => v));
      [...wrap.querySelectorAll("input, select, textarea")].forEach((c, i) => {
        if (c.type === "checkbox" || c.type === "radio") c.checked = ticked.has(c.value);
        else if (c.multiple && was[i]) [...c.options].forEach((o) => { o.selected = was[i][1].includes(o.value); });
        else if (was[i]) c.value = was[i][1];
      });
    }
  }

  async function dispatchChoice(block, e, value) {
    try {
      await api("/api/choose", { user: S.persona, view_id: $("#modal").dataset.viewId,
        block_id: block.block_id, action_id: e.action_id, value });
    } catch (err) {
      notice(err.message);
    }
    refresh();
  }

  // A closed form gives focus back to the button that opened it (or, redrawn since, the same
  // button of the same case), else to the composer.
  function returnFocus() {
    const o = S.opener;
    S.opener = null;
    let target = o && o.button && o.button.isConnected ? o.button : null;
    if (!target && o) {
      target = [...document.querySelectorAll("button[data-action-id]")].find((x) =>
        x.dataset.actionId === o.actionId && x.dataset.value === o.value) || null;
      const menu = target && target.closest(".bk-overflow-wrap");
      if (menu) target = menu.querySelector(".bk-overflow");  // an option: its menu's "…" button
    }
    (target || $("#composer-text")).focus();
  }

  // While a form is open nothing of "Slack" behind it can be reached, by mouse or keyboard (as
  // in Slack); the sandbox's own persona switch stays usable (switching closes the form; Esc
  // first, from the keyboard).
  function setInert(on) {
    for (const part of document.querySelectorAll("body > .layout, .topbar .clock")) {
      part.inert = on;
      if (on) part.setAttribute("aria-hidden", "true");
      else part.removeAttribute("aria-hidden");
    }
  }

  // Tab and Shift+Tab go round the open form's controls and never leave it.
  function trapFocus(ev) {
    if (ev.key !== "Tab" || $("#modal-backdrop").hidden) return;
    const items = [...$("#modal").querySelectorAll(
      "button, input, select, textarea, a[href], [tabindex]:not([tabindex='-1'])")]
      .filter((x) => !x.disabled && !x.hidden && x.offsetParent !== null);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const inside = $("#modal").contains(document.activeElement);
    if (ev.shiftKey && (document.activeElement === first || !inside)) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (document.activeElement === last || !inside)) {
      ev.preventDefault();
      first.focus();
    }
  }

  function fieldValue(wrap, view) {
    const type = wrap.dataset.type;
    const blockDef = (view.blocks || []).find((b) => b.block_id === wrap.dataset.blockId) || {};
    const e = blockDef.element || {};
    const input = wrap.querySelector("input, select, textarea");
    const find = (value) => {
      const all = [...(e.options || []), ...(e.option_groups || []).flatMap((g) => g.options || [])];
      return all.find((o) => o.value === value);
    };
    switch (type) {
      case "plain_text_input":
        return { type, value: input.value === "" ? null : input.value };
      case "static_select": {
        const o = input.value ? find(input.value) : null;
        return { type, selected_option: o ? { text: o.text, value: o.value } : null };
      }
      case "users_select":
        return { type, selected_user: input.value || null };
      case "multi_users_select":
        return { type, selected_users: [...input.selectedOptions].map((o) => o.value) };
      case "multi_static_select":
        return { type, selected_options: [...input.selectedOptions].map((c) => {
          const o = find(c.value);
          return { text: o.text, value: o.value };
        }) };
      case "datepicker":
        return { type, selected_date: input.value || null };
      case "checkboxes":
        return { type, selected_options: [...wrap.querySelectorAll("input:checked")].map((b) => {
          const o = find(b.value);
          return { text: o.text, value: o.value };
        }) };
      case "radio_buttons": {
        const b = wrap.querySelector("input:checked");
        const o = b ? find(b.value) : null;
        return { type, selected_option: o ? { text: o.text, value: o.value } : null };
      }
      default:
        return null;
    }
  }

  function isEmpty(state) {
    if (!state) return false;
    if ("value" in state) return state.value === null;
    if ("selected_option" in state) return state.selected_option === null;
    if ("selected_user" in state) return state.selected_user === null;
    if ("selected_date" in state) return state.selected_date === null;
    if ("selected_options" in state) return state.selected_options.length === 0;
    if ("selected_users" in state) return state.selected_users.length === 0;
    return false;
  }

  function showFieldError(wrap, message) {
    const p = wrap.querySelector(".field-error");
    p.textContent = message || "";
    p.hidden = !message;
    wrap.classList.toggle("invalid", !!message);
  }

  async function submitModal(event) {
    event.preventDefault();
    const view = topModal();
    if (!view || S.busy) return;
    const values = {};
    let missing = null;
    for (const wrap of document.querySelectorAll("#modal-body .field")) {
      showFieldError(wrap, "");
      const state = fieldValue(wrap, view);
      if (state === null) continue;
      const blockDef = (view.blocks || []).find((b) => b.block_id === wrap.dataset.blockId) || {};
      if (!blockDef.optional && isEmpty(state)) {
        showFieldError(wrap, REQUIRED); // Slack itself refuses an empty required field
        missing = missing || wrap;
      }
      values[wrap.dataset.blockId] = { [wrap.dataset.actionId]: state };
    }
    if (missing) {
      const input = missing.querySelector("input, select, textarea");
      if (input) input.focus();
      return;
    }
    const submit = $("#modal-submit");
    S.busy = true;
    submit.disabled = true;
    try {
      const answer = await api("/api/submit", { user: S.persona, view_id: view.id, values });
      const errors = answer.errors || {};
      const unplaced = [];
      for (const [blockId, message] of Object.entries(errors)) {
        const wrap = document.querySelector(`#modal-body .field[data-block-id="${CSS.escape(blockId)}"]`);
        if (wrap) showFieldError(wrap, message);
        else unplaced.push(message);
      }
      const top = $("#modal-error");
      top.textContent = unplaced.join(" ");
      top.hidden = unplaced.length === 0;
      if (answer.status !== 200) {
        top.textContent = `Baton did not accept the form (HTTP ${answer.status}).`;
        top.hidden = false;
      }
    } catch (err) {
      notice(err.message);
    } finally {
      S.busy = false;
      submit.disabled = false;
      refresh();
    }
  }

  async function cancelModal() {
    const view = topModal();
    if (!view) return;
    try {
      await api("/api/cancel", { user: S.persona, view_id: view.id });
    } catch (err) {
      notice(err.message);
    }
    refresh();
  }

  // ------------------------------------------------------------------ actions

  async function press(element, where, b) {
    S.opener = { actionId: element.action_id || "", value: element.value || "", button: b };
    b.disabled = true;
    notice("");
    try {
      const answer = await api("/api/action", {
        user: S.persona, action_id: element.action_id, value: element.value || "",
        element: element.element || "button",
        block_id: where.block_id || "", label: plain(element.text),
        channel: where.channel || null, message_ts: where.message_ts || null, view_id: where.view_id || null,
      });
      if (answer.status !== 200) notice(`Baton did not answer that button (HTTP ${answer.status}).`);
    } catch (err) {
      notice(err.message);
    } finally {
      b.disabled = false;
      refresh();
    }
  }

  async function send(event) {
    event.preventDefault();
    const input = $("#composer-text");
    const text = input.value.trim();
    if (!text) return;
    notice("");
    try {
      if (text.startsWith("/")) {
        const answer = await api("/api/command", { user: S.persona, channel: currentChannel(), text });
        if (answer.status !== 200) notice(`${text.split(" ")[0]} failed: Baton answered HTTP ${answer.status}.`);
        else if (answer.answer && answer.answer.trim()) notice(answer.answer);
      } else {
        await api("/api/message", { user: S.persona, channel: currentChannel(), text });
      }
      input.value = "";
    } catch (err) {
      notice(err.message);
    }
    refresh();
  }

  async function openHome() {
    S.homeAsked = S.persona;
    try {
      await api("/api/home", { user: S.persona });
    } catch (err) {
      notice(err.message);
    }
    refresh();
  }

  // What the scheduler did when the clock moved, in plain words (never its internal counters).
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

  async function advance(b) {
    const how = b.dataset.advance;
    const buttons = document.querySelectorAll("[data-advance]");
    buttons.forEach((x) => { x.disabled = true; });
    $("#sweep-status").textContent = "Moving the clock…";
    try {
      const answer = await api("/api/clock", { advance: how === "next" ? "next" : Number(how) });
      $("#sweep-status").textContent = sweepWords(answer.sweep && answer.sweep.counts);
      if (S.conv === "home") await openHome();
    } catch (err) {
      $("#sweep-status").textContent = "";
      notice(err.message);
    } finally {
      buttons.forEach((x) => { x.disabled = false; });
      refresh();
    }
  }

  function choose(conv) {
    S.conv = conv;
    S.shown.conv = "";
    writeHash();
    render();
    if (conv === "home") openHome();
  }

  function writeHash() {
    history.replaceState(null, "", `#${encodeURIComponent(S.persona || "")}/${encodeURIComponent(S.conv)}`);
  }

  function readHash() {
    const [persona, conv] = location.hash.slice(1).split("/").map(decodeURIComponent);
    if (persona) S.persona = persona;
    if (conv) S.conv = conv;
  }

  // ------------------------------------------------------------------ loop

  function render() {
    if (!S.state) return;
    renderPersonas();
    $("#clock-now").textContent = S.state.clock.label;
    if (S.conv !== "dm" && S.conv !== "home" && !S.state.channels.some((c) => c.id === S.conv)) S.conv = "dm";
    renderSidebar();
    renderConversation();
    renderModal();
    document.body.dataset.ready = "true";
  }

  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      S.state = await api("/api/state");
      render();
      if ($("#notice").dataset.offline) {
        notice("");
        delete $("#notice").dataset.offline;
      }
    } catch (err) {
      notice("The sandbox is not answering: " + err.message);
      $("#notice").dataset.offline = "1";
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    readHash();
    $("#persona").addEventListener("change", async (ev) => {
      const before = S.persona;
      S.persona = ev.target.value;
      if (before && before !== S.persona && (S.state.slack.modals[before] || []).length) {
        try {  // the previous person's forms close: the next person never sees or submits them
          await api("/api/close_forms", { user: before });
        } catch (err) {
          notice(err.message);
        }
        S.state.slack.modals[before] = [];
      }
      S.shown.modal = null;  // redraw: the new persona's form, or none (hides the last one)
      S.shown.conv = "";
      writeHash();
      render();
      if (S.conv === "home") openHome();
    });
    $("#sidebar").addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-conv]");
      if (b) choose(b.dataset.conv);
    });
    document.querySelectorAll("[data-advance]").forEach((b) => b.addEventListener("click", () => advance(b)));
    $("#composer").addEventListener("submit", send);
    $("#modal-form").addEventListener("submit", submitModal);
    $("#modal-cancel").addEventListener("click", cancelModal);
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !$("#modal-backdrop").hidden) {
        ev.preventDefault();
        cancelModal();
      }
      trapFocus(ev);
    });
    refresh().then(() => {
      writeHash();
      if (S.conv === "home") openHome();
    });
  });
})();
