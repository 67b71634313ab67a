/*!
 * newsrag chat widget: ask the newsrag archive from any web page. Plain JavaScript, no dependencies, no build step.
 *
 * Embed with one line (the API address is taken from this script's own src):
 *   <script src="https://your-newsrag.example/widget.js" data-title="Ask our archive" async></script>
 * or render inline, into an element of the page, instead of a floating button:
 *   <div id="ask"></div>
 *   <script src="https://your-newsrag.example/widget.js" data-mode="inline" data-target="#ask" async></script>
 *
 * Options (data-* attributes): title, placeholder, mode ("floating" | "inline"), target (a CSS selector, for
 * inline), position ("right" | "left", floating). The page's origin must be listed in NEWSRAG_WIDGET_ORIGINS on
 * the newsrag server; on any other site the widget says "This chat is not available on this site."
 *
 * Theming: set CSS custom properties on the page, e.g.  :root { --newsrag-accent: #b00020; }
 *   --newsrag-accent       buttons, citation markers, links   default #1f5fbf
 *   --newsrag-accent-text  text on the accent colour          default #ffffff
 *   --newsrag-font         font family                        default system-ui, sans-serif
 *   --newsrag-font-size    base font size                     default 15px
 *   --newsrag-bg           panel background                   default #ffffff
 *   --newsrag-text         text colour                        default #1b1b1b
 *   --newsrag-muted        secondary text, borders            default #5f6368
 *   --newsrag-user-bg      the reader's own messages          default #eaf1fb
 *   --newsrag-radius       corner radius                      default 12px
 *   --newsrag-height       panel height (inline mode)         default 480px
 *   --newsrag-z            z-index of the floating widget     default 2147483000
 *
 * Analytics: every answer dispatches `newsrag:answer` on document with detail {question, refused, citations}
 * (citations = how many). The conversation is kept in localStorage (per API origin) and survives reloads.
 * Safety: the widget lives in a Shadow DOM, and every piece of article or answer text is inserted as text
 * (textContent / text nodes), never as HTML.
 */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector('script[src$="/widget.js"]');
  if (!script || !script.src) return;
  const cfg = script.dataset;
  const API = new URL("./", script.src).href.replace(/\/$/, "");
  const STORE = "newsrag:chat:" + API;
  const KEEP = 30; // messages kept across reloads
  const CONTEXT = 6; // messages sent as history
  const T = {
    title: cfg.title || "Ask the archive",
    placeholder: cfg.placeholder || "Ask a question about the articles…",
    unavailable: "This chat is not available on this site.",
    busy: "Too many questions: please wait a minute and try again.",
    offline: "The chat service cannot be reached right now. Please try again later.",
    failed: "Something went wrong while answering. Please try again.",
    hint: "Answers quote the articles: click a [n] to see the passage.",
  };

  const CSS = `
:host { all: initial !important; display: block !important; }
.nr { all: initial; display: block; box-sizing: border-box; color: var(--newsrag-text, #1b1b1b);
  font-family: var(--newsrag-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: var(--newsrag-font-size, 15px); line-height: 1.45; }
:where(.nr *) { box-sizing: border-box; font: inherit; color: inherit; margin: 0; }
[hidden] { display: none !important; }
button { cursor: pointer; border: 0; background: none; padding: 0; }
.launcher { position: fixed; bottom: 20px; right: 20px; z-index: var(--newsrag-z, 2147483000);
  background: var(--newsrag-accent, #1f5fbf); color: var(--newsrag-accent-text, #fff); font-weight: 600;
  padding: 12px 18px; border-radius: 999px; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.left .launcher, .left .panel { right: auto; left: 20px; }
.panel { display: flex; flex-direction: column; background: var(--newsrag-bg, #fff); overflow: hidden;
  border: 1px solid rgba(0,0,0,.12); border-radius: var(--newsrag-radius, 12px); }
.floating .panel { position: fixed; bottom: 20px; right: 20px; z-index: var(--newsrag-z, 2147483000);
  width: min(400px, calc(100vw - 24px)); height: min(600px, calc(100vh - 40px));
  box-shadow: 0 10px 30px rgba(0,0,0,.25); }
.inline .panel { height: var(--newsrag-height, 480px); }
header { display: flex; align-items: center; gap: 8px; padding: 10px 12px;
  background: var(--newsrag-accent, #1f5fbf); color: var(--newsrag-accent-text, #fff); }
header h2 { flex: 1; font-weight: 600; font-size: 1.05em; }
header button { font-size: .85em; padding: 4px 8px; border-radius: 6px; }
header button:hover { background: rgba(255,255,255,.2); }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px; }
.msg { max-width: 92%; padding: 8px 11px; border-radius: var(--newsrag-radius, 12px); white-space: pre-wrap;
  overflow-wrap: anywhere; }
.user { align-self: flex-end; background: var(--newsrag-user-bg, #eaf1fb); }
.bot { align-self: flex-start; border: 1px solid rgba(0,0,0,.1); }
.note, .hint { color: var(--newsrag-muted, #5f6368); }
.bot.refused { border: 1px solid #f59e0b; border-left: 4px solid #d97706; background: #fffbeb; color: #1f2937; }
.note { font-size: .85em; font-style: italic; margin-bottom: 4px; }
.bot.error .text { color: #a30000; }
.pending .text::after { content: "…"; }
.cite { color: var(--newsrag-accent, #1f5fbf); font-weight: 600; padding: 0 1px; border-radius: 4px; }
.cite[aria-expanded="true"] { background: var(--newsrag-user-bg, #eaf1fb); }
.quote { margin-top: 8px; padding: 6px 10px; border-left: 3px solid var(--newsrag-accent, #1f5fbf);
  background: rgba(0,0,0,.03); font-size: .92em; }
.quote .src { display: block; margin-top: 4px; color: var(--newsrag-muted, #5f6368); font-size: .9em; }
.quote a { color: var(--newsrag-accent, #1f5fbf); text-decoration: underline; }
.rate { margin-top: 6px; display: flex; align-items: center; gap: 6px; font-size: .85em; color: var(--newsrag-muted, #5f6368); }
.rate button { padding: 2px 6px; border: 1px solid rgba(0,0,0,.15); border-radius: 6px; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid rgba(0,0,0,.1); }
input { flex: 1; min-width: 0; padding: 9px 10px; border: 1px solid rgba(0,0,0,.25); border-radius: 8px;
  background: #fff; color: #1b1b1b; }
form button { background: var(--newsrag-accent, #1f5fbf); color: var(--newsrag-accent-text, #fff);
  padding: 0 14px; border-radius: 8px; font-weight: 600; }
form button:disabled { opacity: .5; cursor: default; }
.hint { font-size: .8em; padding: 0 12px 8px; }
@media (max-width: 520px) {
  .floating .panel { inset: 0; width: 100vw; height: 100%; border-radius: 0; border: 0; }
  .launcher { bottom: 12px; right: 12px; }
}`;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  };

  const load = () => {
    try { return JSON.parse(localStorage.getItem(STORE)) || { open: false, messages: [] }; }
    catch (e) { return { open: false, messages: [] }; }
  };
  const state = load();
  const save = () => {
    state.messages = state.messages.slice(-KEEP);
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  };

  function mount() {
    const inline = cfg.mode === "inline";
    let parent = document.body;
    try { if (inline) parent = document.querySelector(cfg.target); } catch (e) { parent = null; }
    if (!parent) { console.warn("newsrag widget: no element matches data-target", cfg.target); return; }
    const host = el("div");
    host.setAttribute("data-newsrag-widget", "");
    parent.appendChild(host);
    const root = host.attachShadow({ mode: "open" });
    root.appendChild(el("style", null, CSS));
    const wrap = el("div", "nr " + (inline ? "inline" : "floating") + (cfg.position === "left" ? " left" : ""));
    root.appendChild(wrap);

    const panel = el("section", "panel");
    panel.setAttribute("role", inline ? "region" : "dialog");
    panel.setAttribute("aria-label", T.title);
    const header = el("header");
    header.append(el("h2", null, T.title));
    const clear = el("button", "clear", "New chat");
    clear.type = "button";
    header.append(clear);
    const log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    const form = el("form");
    const input = el("input");
    input.type = "text";
    input.maxLength = 2000;
    input.placeholder = T.placeholder;
    input.setAttribute("aria-label", T.placeholder);
    const send = el("button", "send", "Ask");
    send.type = "submit";
    form.append(input, send);
    panel.append(header, log, form, el("p", "hint", T.hint));

    if (!inline) {
      const launcher = el("button", "launcher", T.title);
      launcher.type = "button";
      const close = el("button", "close", "✕");
      close.type = "button";
      close.setAttribute("aria-label", "Close");
      header.append(close);
      // the open panel has its own close button: the launcher would only sit underneath it
      const toggle = (open) => {
        state.open = open;
        panel.hidden = !open;
        launcher.hidden = open;
        launcher.setAttribute("aria-expanded", String(open));
        save();
        if (open) input.focus();
      };
      launcher.addEventListener("click", () => toggle(panel.hidden));
      close.addEventListener("click", () => toggle(false));
      panel.hidden = !state.open;
      launcher.hidden = !!state.open;
      launcher.setAttribute("aria-expanded", String(!!state.open));
      wrap.append(launcher);
    }
    wrap.append(panel);

    const scroll = () => { log.scrollTop = log.scrollHeight; };
    // An opened quote lands under its answer, often below the fold of the log: scroll just enough to show it (its top
    // first when it is taller than the log), inside the log only, never the host page.
    const reveal = (node) => {
      const box = node.getBoundingClientRect();
      const view = log.getBoundingClientRect();
      if (box.bottom > view.bottom) log.scrollTop += Math.min(box.bottom - view.bottom + 8, box.top - view.top - 8);
      else if (box.top < view.top) log.scrollTop -= view.top - box.top + 8;
    };
    const addUser = (text) => { log.append(el("div", "msg user", text)); scroll(); };
    const addBot = () => {
      const box = el("div", "msg bot");
      const parts = { box, note: el("p", "note"), text: el("div", "text"), cites: el("div", "cites") };
      parts.note.hidden = true;
      box.append(parts.note, parts.text, parts.cites);
      log.append(box);
      scroll();
      return parts;
    };

    // "[n]" markers become buttons that show the quoted passage with its title, date and source.
    const renderAnswer = (bot, msg) => {
      bot.text.textContent = "";
      bot.cites.textContent = "";
      bot.box.classList.toggle("refused", !!msg.refused);
      const byN = new Map((msg.citations || []).map((c) => [String(c.n), c]));
      for (const piece of msg.content.split(/(\[\d+\])/)) {
        const c = byN.get((piece.match(/^\[(\d+)\]$/) || [])[1]);
        if (!c) { bot.text.append(document.createTextNode(piece)); continue; }
        const btn = el("button", "cite", piece);
        btn.type = "button";
        btn.setAttribute("aria-expanded", "false");
        btn.setAttribute("aria-label", "Show source " + c.n);
        let quote = null;
        btn.addEventListener("click", () => {
          if (quote) { quote.remove(); quote = null; btn.setAttribute("aria-expanded", "false"); return; }
          quote = el("blockquote", "quote", "“" + c.quote + "”");
          const copies = (c.also_in || []).map((r) => r.source || r.title);
          const src = el("span", "src", [c.title, c.date, c.source, copies.length ? "also in: " + copies.join(", ") : ""]
            .filter(Boolean).join(" · "));
          if (c.url && /^https?:\/\//i.test(c.url)) {
            const link = el("a", null, "open article");
            link.href = c.url;
            link.target = "_blank";
            link.rel = "noopener noreferrer";
            src.append(" · ", link);
          }
          quote.append(src);
          bot.cites.append(quote);
          btn.setAttribute("aria-expanded", "true");
          reveal(quote);
        });
        bot.text.append(btn);
      }
      const notes = (msg.rewritten ? ["Searching for: " + msg.rewritten] : []).concat(msg.notices || []);
      bot.note.textContent = notes.join("\n");
      bot.note.hidden = !notes.length;
    };

    const addRating = (bot, question, msg) => {
      const row = el("div", "rate");
      row.append("Was this useful?");
      for (const [rating, label] of [["up", "Yes"], ["down", "No"]]) {
        const b = el("button", null, label);
        b.type = "button";
        b.addEventListener("click", () => {
          row.textContent = "Thanks for the feedback.";
          fetch(API + "/api/feedback", { method: "POST", credentials: "omit",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ question, answer_text: msg.content, rating }) }).catch(() => {});
        });
        row.append(b);
      }
      bot.box.append(row);
    };

    const fail = (bot, message) => {
      bot.box.classList.remove("pending");
      bot.box.classList.add("error");
      bot.text.textContent = message;
      scroll();
    };

    // The server is up but refused us without CORS headers: this site is not allowed to embed the chat.
    const reachable = () => fetch(API + "/healthz", { mode: "no-cors", cache: "no-store" }).then(() => true, () => false);

    const history = () => state.messages.slice(-CONTEXT).map((m) => (
      { role: m.role, content: m.content, rewritten_query: m.rewritten || null }));

    const readEvents = async (res, on) => {
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let type = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          }
          if (data.length) on(type, JSON.parse(data.join("\n")));
        }
      }
    };

    let busy = false;
    const ask = async (question) => {
      busy = true;
      send.disabled = true;
      addUser(question);
      const context = history();
      const user = { role: "user", content: question };
      const bot = addBot();
      bot.box.classList.add("pending");
      const t0 = performance.now();
      try {
        let res;
        try {
          res = await fetch(API + "/api/ask", { method: "POST", credentials: "omit",
            headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
            body: JSON.stringify({ question, history: context }) });
        } catch (e) {
          return fail(bot, (await reachable()) ? T.unavailable : T.offline);
        }
        if (!res.ok) {
          const body = await res.json().catch(() => ({}));
          if (res.status === 403) return fail(bot, T.unavailable);
          if (res.status === 429) return fail(bot, T.busy);
          return fail(bot, body.error || T.failed);
        }
        let streamed = "";
        let answer = null;
        let error = null;
        await readEvents(res, (type, data) => {
          if (type === "notice") {
            bot.note.textContent = (bot.note.textContent ? bot.note.textContent + "\n" : "") + data.text;
            bot.note.hidden = false;
            if (data.reset) { streamed = ""; bot.text.textContent = ""; } // the partial answer is withdrawn
          }
          else if (type === "token") {
            if (!streamed) bot.box.dataset.ttftMs = String(Math.round(performance.now() - t0));
            streamed += data.text;
            bot.text.textContent = streamed;
            scroll();
          } else if (type === "done") answer = data.answer;
          else if (type === "error") error = data.error;
        });
        if (!answer) return fail(bot, error || T.failed);
        bot.box.classList.remove("pending");
        user.rewritten = answer.rewritten_query || null;
        const msg = { role: "assistant", content: answer.text, refused: !!answer.refused,
          rewritten: answer.rewritten_query || null, notices: answer.notices || [],
          citations: (answer.citations || []).map(({ n, title, date, source, url, quote }) =>
            ({ n, title, date, source, url, quote })) };
        renderAnswer(bot, msg);
        addRating(bot, question, msg);
        state.messages.push(user, msg);
        save();
        scroll();
        document.dispatchEvent(new CustomEvent("newsrag:answer", { detail:
          { question, refused: msg.refused, citations: msg.citations.length } }));
      } catch (e) {
        fail(bot, T.failed);
      } finally {
        busy = false;
        send.disabled = false;
      }
    };

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const question = input.value.trim();
      if (!question || busy) return;
      input.value = "";
      ask(question);
    });
    clear.addEventListener("click", () => {
      state.messages = [];
      save();
      log.textContent = "";
      input.focus();
    });

    for (const m of state.messages) {
      if (m.role === "user") addUser(m.content);
      else renderAnswer(addBot(), m);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
