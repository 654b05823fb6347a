/* Career tutor: the chat page. No framework, no build step.
 *
 * Safety rules this file keeps:
 *  - streamed tokens, user text, passages and titles go in with textContent only;
 *  - the only innerHTML is the server's nh3-sanitised `html` of a final answer;
 *  - every state-changing request sends the X-CSRF-Token from the page's meta tag.
 */
(() => {
  "use strict";

  const $ = (sel, root = document) => root.querySelector(sel);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";
  const CSRF = meta("csrf-token");
  const MAX_CHARS = parseInt(meta("max-chars"), 10) || 4000;
  const NEXT_QUESTION = "What should I do next?";

  const app = $("#app");
  const log = $("#log");
  const empty = $("#empty");
  const form = $("#composer");
  const input = $("#message");
  const send = $("#send");
  const count = $("#count");
  const roleSelect = $("#role");
  const convList = $("#conv-list");
  const phasesEl = $("#phases");
  const nextBtn = $("#next-steps");
  const hoursInput = $("#hours");
  const scrim = $("#scrim");

  const state = {
    role: null,
    conversationId: null,
    conversations: [],
    roadmap: null,
    progress: null,
    busy: false,
    controller: null,
    lastQuestion: null,
  };

  // --- small helpers ---------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.message) || `Request failed (${status}).`);
      this.status = status;
      this.hint = body && body.hint;
      this.code = body && body.error;
      this.retryAfter = retryAfter;
    }
  }

  async function api(method, path, body, signal) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    let res;
    try {
      res = await fetch(path, {
        method, headers, signal, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, { message: "The tutor can't be reached.", hint: "Check that the server is running." });
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  async function errorFrom(res) {
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    return new ApiError(res.status, body, parseInt(res.headers.get("Retry-After") || "", 10) || null);
  }

  const getJSON = async (path) => (await api("GET", path)).json();
  const sendJSON = async (method, path, body) => (await api(method, path, body)).json();

  function toast(message, kind = "info", hint = null) {
    const box = $("#toasts");
    const t = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
      el("strong", { text: message }), hint ? el("span", { text: hint }) : null);
    box.append(t);
    setTimeout(() => t.remove(), kind === "error" ? 7000 : 3500);
  }

  function toastError(err) {
    const [message, hint] = describe(err);
    toast(message, "error", hint);
  }

  function describe(err) {
    if (err.status === 429 && err.retryAfter) return [err.message, `Try again in ${err.retryAfter} s.`];
    return [err.message, err.hint || null];
  }

  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  function when(iso) {
    const t = Date.parse(iso || "");
    if (Number.isNaN(t)) return "";
    const mins = Math.round((t - Date.now()) / 60000);
    if (Math.abs(mins) < 60) return rtf.format(mins, "minute");
    const hours = Math.round(mins / 60);
    if (Math.abs(hours) < 24) return rtf.format(hours, "hour");
    return rtf.format(Math.round(hours / 24), "day");
  }

  // Source links: absolute https only, without credentials (as the server's renderer).
  function safeHttpsUrl(url) {
    try {
      const u = new URL(url);
      return u.protocol === "https:" && u.hostname && !u.username && !u.password ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  }
  function scrollDown(force = false) {
    if (force || nearBottom()) log.scrollTop = log.scrollHeight;
  }
  function scrollToEnd() {
    log.scrollTo({ top: log.scrollHeight, behavior: "instant" });
  }
  // A finished answer is shown from its start: the whole of it when it fits, else its top
  // (next-step advice and abstentions used to land below the fold).
  function reveal(node) {
    const view = log.getBoundingClientRect();
    const box = node.getBoundingClientRect();
    const top = log.scrollTop + box.top - view.top - 8;
    // the end of the log when the answer fits there; its start when it does not (the log's
    // own padding made a 610px answer in a 627px pane "fit" and lose its first line)
    log.scrollTo({ top: Math.min(top, log.scrollHeight - log.clientHeight), behavior: "instant" });
  }

  function setUrl() {
    const url = new URL(location.href);
    if (state.conversationId) url.searchParams.set("c", state.conversationId);
    else url.searchParams.delete("c");
    if (state.role) url.searchParams.set("role", state.role);
    history.replaceState(null, "", url.pathname + url.search);
  }

  // --- messages ----------------------------------------------------------------------------

  function addUser(text) {
    empty.hidden = true;
    const node = el("div", { class: "msg msg-user" }, el("div", { class: "bubble", text }));
    log.append(node);
    scrollDown(true);
    return node;
  }

  function addBot() {
    empty.hidden = true;
    const answer = el("div", { class: "answer" });
    const thinking = el("div", { class: "thinking" },
      el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
      el("span", { text: "Searching the guides…" }));
    const body = el("div", { class: "msg-body" }, el("div", { class: "answer-card" }, answer), thinking);
    const node = el("article", { class: "msg msg-bot", "aria-busy": "true", "aria-label": "Tutor answer" },
      el("div", { class: "avatar", "aria-hidden": "true", text: "CT" }), body);
    log.append(node);
    scrollDown(true);
    return { node, body, answer, thinking, text: "" };
  }

  function footnotes(a) {
    const cites = a.citations || [];
    if (!cites.length) return null;
    const section = el("section", { class: "sources", "aria-label": "Sources" },
      el("h3", { class: "sources-label", text: cites.length === 1 ? "Source" : "Sources" }));
    for (const c of cites) {
      const isProgress = c.kind === "progress";
      const where = el("span", { class: "fn-where" },
        el("span", { class: "fn-title", text: c.title || (isProgress ? "Your progress" : c.guide || "Guide") }),
        !isProgress && c.heading ? document.createTextNode(` › ${c.heading}`) : null);
      const metaBits = [];
      if (!isProgress) {
        if (c.source) metaBits.push(`Source: ${c.source}`);
        if (c.as_of) metaBits.push(`as of ${c.as_of}`);
        if (c.guide) metaBits.push(`guide ${c.guide}`);
      } else {
        metaBits.push(c.source || "From your roadmap checklist and hours a week");
        if (c.as_of) metaBits.push(`as of ${c.as_of}`);
      }
      const metaLine = el("p", { class: "fn-meta", text: metaBits.join(" · ") });
      const href = c.source_url && safeHttpsUrl(c.source_url);
      if (href) {
        metaLine.append(" · ", el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank", text: "open source" }));
      }
      section.append(el("details", { class: isProgress ? "fn fn-progress" : "fn", id: `fn-${a.anchor}-${c.n}` },
        el("summary", {}, el("span", { class: "fn-n", text: String(c.n) }), where),
        el("div", { class: "fn-body" }, el("blockquote", { class: "fn-text", text: c.text || "" }), metaLine)));
    }
    return section;
  }

  function finishBot(view, a, live = true) {
    view.thinking.remove();
    view.answer.classList.remove("streaming");
    view.node.classList.toggle("abstained", !!a.abstained);
    const card = view.answer.parentElement;
    if (a.abstained) {
      card.before(el("p", { class: "msg-label", text: "Not covered by my guides" }));
    }
    if (a.notice) card.before(el("p", { class: "notice", text: a.notice }));
    view.answer.innerHTML = a.html || ""; // sanitised on the server (markdown-it html=False + nh3)
    if (!a.html) view.answer.textContent = a.answer || "";
    const fn = footnotes(a);
    if (fn) view.body.append(fn);
    view.node.setAttribute("aria-busy", "false");
    if (live) reveal(view.node);
  }

  function failBot(view, err, retry) {
    view.thinking.remove();
    view.answer.classList.remove("streaming");
    view.node.setAttribute("aria-busy", "false");
    const [message, hint] = describe(err);
    const box = el("div", { class: "msg-error", role: "alert" },
      el("span", { text: hint ? `${message} ${hint}` : message }));
    if (retry) {
      box.append(el("button", {
        type: "button", class: "btn", text: "Try again",
        onclick: () => { view.node.remove(); retry(); },
      }));
    }
    if (!view.text) view.answer.parentElement.remove();
    view.body.append(box);
    scrollDown();
  }

  function renderStored(message, i) {
    if (message.sender === "user") {
      addUser(message.content);
      return;
    }
    const view = addBot();
    const a = message.answer || { answer: message.content, html: null, citations: [], anchor: `m${i}` };
    finishBot(view, a, false);
  }

  function clearLog() {
    for (const node of [...log.children]) if (node !== empty) node.remove();
    empty.hidden = false;
  }

  // --- chat --------------------------------------------------------------------------------

  async function* sseEvents(res) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut).replace(/^\r?\n\r?\n/, "");
        let event = "message";
        const data = [];
        for (const line of frame.split(/\r?\n/)) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    form.classList.toggle("busy", busy);
    send.setAttribute("aria-label", busy ? "Stop answering" : "Send");
    nextBtn.disabled = busy;
  }

  async function ask(question) {
    if (state.busy) return;
    state.lastQuestion = question;
    addUser(question);
    const view = addBot();
    const controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    let finished = false;
    try {
      const res = await api("POST", "/api/chat", {
        message: question, role: state.role, conversation_id: state.conversationId,
      }, controller.signal);
      for await (const { event, data } of sseEvents(res)) {
        if (event === "meta") {
          if (data.conversation_id && data.conversation_id !== state.conversationId) {
            state.conversationId = data.conversation_id;
            setUrl();
          }
        } else if (event === "token") {
          if (!view.text) {
            view.thinking.hidden = true;
            view.answer.classList.add("streaming");
          }
          view.text += data.text;
          view.answer.textContent = view.text; // tokens are plain text, never HTML
          scrollDown();
        } else if (event === "reset") {
          view.text = "";
          view.answer.textContent = "";
          if (data.notice) toast(data.notice);
        } else if (event === "answer") {
          finishBot(view, data);
          finished = true;
        } else if (event === "error") {
          failBot(view, new ApiError(500, data), () => { view.node.previousElementSibling?.remove(); ask(question); });
          finished = true;
        }
      }
      if (!finished) throw new ApiError(0, { message: "The answer was cut off.", hint: "Try again." });
    } catch (err) {
      if (err.name === "AbortError") {
        view.thinking.remove();
        view.answer.classList.remove("streaming");
        view.node.setAttribute("aria-busy", "false");
        view.body.append(el("p", { class: "notice", text: "Stopped." }));
      } else {
        failBot(view, err, () => { view.node.previousElementSibling?.remove(); ask(question); });
        toastError(err);
      }
    } finally {
      state.controller = null;
      setBusy(false);
      loadConversations();
    }
  }

  async function nextSteps() {
    if (state.busy || !state.role) return;
    closeDrawer();
    addUser(NEXT_QUESTION);
    const view = addBot();
    view.thinking.lastChild.textContent = "Reading your roadmap…";
    setBusy(true);
    try {
      const a = await sendJSON("POST", "/api/next", {
        role: state.role, conversation_id: state.conversationId,
      });
      if (a.conversation_id && a.conversation_id !== state.conversationId) {
        state.conversationId = a.conversation_id;
      }
      finishBot(view, a);
      loadConversations();
    } catch (err) {
      failBot(view, err, null);
      toastError(err);
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  // --- conversations ----------------------------------------------------------------------

  const PAGE = 50; // conversations per request (GET /api/conversations?limit=&before=)

  function convItem(c) {
    const a = el("a", { href: `/?c=${encodeURIComponent(c.id)}`, "data-id": c.id },
      el("span", { class: "conv-title", text: c.title || "New conversation" }),
      el("span", { class: "conv-when", text: when(c.updated_at || c.created_at) }));
    if (c.id === state.conversationId) a.setAttribute("aria-current", "page");
    return el("li", {}, a);
  }

  function olderButton(page) {
    if (page.length < PAGE) return null;
    const last = page[page.length - 1].id;
    return el("li", { class: "conv-more" }, el("button", {
      type: "button", class: "btn btn-ghost", text: "Show older",
      onclick: async (e) => {
        const item = e.target.closest("li");
        try {
          const older = await getJSON(`/api/conversations?limit=${PAGE}&before=${encodeURIComponent(last)}`);
          state.conversations.push(...older);
          item.replaceWith(...older.map(convItem), ...[olderButton(older)].filter(Boolean));
        } catch (err) {
          toastError(err);
        }
      },
    }));
  }

  async function loadConversations() {
    try {
      state.conversations = await getJSON(`/api/conversations?limit=${PAGE}`);
    } catch (err) {
      return;
    }
    convList.replaceChildren();
    if (!state.conversations.length) {
      convList.append(el("li", { class: "conv-empty", text: "No conversations yet." }));
      return;
    }
    convList.append(...state.conversations.map(convItem));
    const more = olderButton(state.conversations);
    if (more) convList.append(more);
  }

  async function openConversation(id) {
    if (state.busy) state.controller?.abort();
    try {
      const conv = await getJSON(`/api/conversations/${encodeURIComponent(id)}`);
      state.conversationId = conv.id;
      clearLog();
      conv.messages.forEach(renderStored);
      if (conv.role && conv.role !== state.role && hasRole(conv.role)) await selectRole(conv.role);
      setUrl();
      markCurrent();
      scrollToEnd();
    } catch (err) {
      state.conversationId = null;
      setUrl();
      if (err.status !== 404) toastError(err);
    }
  }

  function markCurrent() {
    for (const a of convList.querySelectorAll("a[data-id]")) {
      if (a.dataset.id === state.conversationId) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  function newConversation() {
    if (state.busy) state.controller?.abort();
    state.conversationId = null;
    clearLog();
    setUrl();
    markCurrent();
    closeDrawer();
    input.focus();
  }

  // --- roadmap -----------------------------------------------------------------------------

  function hasRole(slug) {
    return [...roleSelect.options].some((o) => o.value === slug);
  }

  async function selectRole(slug) {
    state.role = slug;
    roleSelect.value = slug;
    try { localStorage.setItem("tutor.role", slug); } catch (_) { /* private mode */ }
    $("#empty-role").textContent = roleSelect.selectedOptions[0]?.textContent || slug;
    setUrl();
    await loadRoadmap();
  }

  async function loadRoadmap() {
    const role = state.role;
    phasesEl.setAttribute("aria-busy", "true");
    phasesEl.replaceChildren(el("div", { class: "skeleton" }), el("div", { class: "skeleton" }));
    const opt = roleSelect.selectedOptions[0];
    if (!role || (opt && opt.hasAttribute("data-no-roadmap"))) {
      state.roadmap = null;
      phasesEl.replaceChildren(el("p", { class: "phases-empty", text: "No roadmap for this role yet." }));
      $("#meter-label").textContent = "";
      nextBtn.disabled = true;
      phasesEl.setAttribute("aria-busy", "false");
      return;
    }
    try {
      const [roadmap, progress] = await Promise.all([
        getJSON(`/api/roadmap/${encodeURIComponent(role)}`),
        getJSON(`/api/progress/${encodeURIComponent(role)}`),
      ]);
      if (role !== state.role) return; // the learner switched meanwhile
      state.roadmap = roadmap;
      state.progress = progress;
      renderRoadmap();
      nextBtn.disabled = state.busy;
    } catch (err) {
      phasesEl.replaceChildren(el("p", { class: "phases-empty", text: describe(err)[0] }));
    } finally {
      phasesEl.setAttribute("aria-busy", "false");
    }
  }

  function renderProgress() {
    const p = state.progress;
    if (!p) return;
    const total = p.total || 0;
    const meter = $("#meter");
    meter.max = Math.max(total, 1);
    meter.value = p.done || 0;
    $("#meter-label").textContent = `${p.done || 0} of ${total} milestones done`;
    $("#roadmap-badge").textContent = `${p.done || 0}/${total}`;
    showHours();
    for (const sec of phasesEl.querySelectorAll(".phase")) {
      const boxes = [...sec.querySelectorAll("input[type=checkbox]")];
      const done = boxes.filter((b) => p.states[b.value] === "done").length;
      for (const b of boxes) {
        b.checked = p.states[b.value] === "done";
        b.indeterminate = p.states[b.value] === "in_progress";
      }
      sec.querySelector(".phase-count").textContent = `${done}/${boxes.length}`;
      const current = sec.dataset.id === p.current_phase;
      sec.classList.toggle("current", current);
      sec.classList.toggle("complete", boxes.length > 0 && done === boxes.length);
      const tag = sec.querySelector(".phase-tag");
      tag.hidden = !current;
    }
  }

  function renderRoadmap() {
    const r = state.roadmap;
    $("#roadmap-role").textContent = r.role_title || r.role;
    $("#roadmap-note").textContent = r.duration_note || "";
    const nodes = r.phases.map((ph, i) => {
      const list = el("ul", { class: "checklist" });
      for (const m of ph.milestones) {
        const id = `ms-${m.id}`;
        list.append(el("li", {}, el("label", { class: "check", for: id },
          el("input", { type: "checkbox", id, value: m.id, onchange: onTick }),
          el("span", { class: "check-text" },
            el("span", { class: "check-title", text: m.title }),
            m.why ? el("span", { class: "check-why", text: m.why }) : null))));
      }
      const titleId = `ph-${ph.id}`;
      return el("section", { class: "phase", "data-id": ph.id, "aria-labelledby": titleId },
        el("div", { class: "phase-head" },
          el("span", { class: "phase-step", "aria-hidden": "true", text: String(i + 1) }),
          el("h3", { class: "phase-title", id: titleId, text: ph.title }),
          el("span", { class: "phase-tag", text: "Now", hidden: true }),
          el("span", { class: "phase-count" })),
        ph.summary ? el("p", { class: "phase-summary", text: ph.summary }) : null,
        list);
    });
    phasesEl.replaceChildren(...nodes);
    renderProgress();
  }

  async function onTick(ev) {
    const box = ev.target;
    const wanted = box.checked ? "done" : null;
    box.disabled = true;
    try {
      state.progress = await sendJSON("PUT", "/api/progress", { milestone_id: box.value, state: wanted });
      renderProgress();
    } catch (err) {
      box.checked = !box.checked;
      toastError(err);
    } finally {
      box.disabled = false;
    }
  }

  // The field shows the learner's own hours, or the roadmap's as a placeholder (never as a
  // value: a learner who never set hours must not see "10" as if it were theirs).
  function showHours() {
    const p = state.progress;
    const r = state.roadmap;
    hoursInput.value = p && p.hours_per_week ? String(p.hours_per_week) : "";
    hoursInput.placeholder = r && r.hours_per_week ? `e.g. ${r.hours_per_week}` : "";
    hoursInput.removeAttribute("aria-invalid");
  }

  function refuseHours(message, hint) {
    toast(message, "error", hint);
    showHours(); // back to the stored value
  }

  async function onHours() {
    const raw = hoursInput.value.trim();
    if (raw === "" && !hoursInput.validity.badInput) {
      showHours();
      return;
    }
    const value = Number(raw);
    const lo = Number(hoursInput.min), hi = Number(hoursInput.max);
    if (!raw || !Number.isFinite(value) || value < lo || value > hi) {
      hoursInput.setAttribute("aria-invalid", "true");
      refuseHours(`${raw || "That"} is not a number of hours from ${lo} to ${hi}.`, "Your saved hours are unchanged.");
      return;
    }
    try {
      const saved = await sendJSON("PUT", "/api/hours", { hours_per_week: value });
      if (state.progress) state.progress.hours_per_week = saved.hours_per_week;
      showHours();
      toast(`Saved: ${saved.hours_per_week} hours a week.`);
    } catch (err) {
      const [message, hint] = describe(err);
      refuseHours(message, hint);
    }
  }

  // --- drawers (phone and tablet) -------------------------------------------------------------

  let opener = null;
  const regions = ["main", "chats", "roadmap"].map((id) => document.getElementById(id));
  function openDrawer(name, button) {
    opener = button;
    app.dataset.drawer = name;
    scrim.hidden = false;
    button.setAttribute("aria-expanded", "true");
    for (const r of regions) r.inert = r.id !== name; // keyboard and screen readers stay in the drawer
    const panel = document.getElementById(name);
    (panel.querySelector("[data-close]") || panel).focus();
  }
  function closeDrawer() {
    if (!app.dataset.drawer) return;
    delete app.dataset.drawer;
    scrim.hidden = true;
    for (const r of regions) r.inert = false;
    for (const b of document.querySelectorAll("[data-open]")) b.setAttribute("aria-expanded", "false");
    if (opener) opener.focus();
    opener = null;
  }

  // --- composer ----------------------------------------------------------------------------

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
    const n = input.value.length;
    count.textContent = n > MAX_CHARS * 0.8 ? `${n} / ${MAX_CHARS}` : "";
    count.classList.toggle("over", n > MAX_CHARS);
  }

  function submit() {
    if (state.busy) {
      state.controller?.abort();
      return;
    }
    const q = input.value.trim();
    if (!q) {
      input.focus();
      return;
    }
    if (q.length > MAX_CHARS) {
      toast(`Your question is longer than ${MAX_CHARS} characters.`, "error", "Shorten it and send again.");
      return;
    }
    input.value = "";
    autosize();
    ask(q);
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  input.addEventListener("input", autosize);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  log.addEventListener("click", (e) => {
    const suggestion = e.target.closest("[data-suggest]");
    if (suggestion) {
      if (!state.busy) ask(suggestion.textContent.trim());
      return;
    }
    const ref = e.target.closest("sup.cite a");
    if (ref) {
      const target = document.getElementById(ref.getAttribute("href").slice(1));
      if (!target) return;
      e.preventDefault();
      target.open = true;
      target.scrollIntoView({ block: "nearest", behavior: "smooth" });
      target.querySelector("summary").focus({ preventScroll: true });
      target.classList.add("flash");
      setTimeout(() => target.classList.remove("flash"), 1200);
    }
  });
  convList.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-id]");
    if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    closeDrawer();
    openConversation(a.dataset.id).then(() => input.focus());
  });
  $("#new-chat").addEventListener("click", newConversation);
  roleSelect.addEventListener("change", () => selectRole(roleSelect.value));
  nextBtn.addEventListener("click", nextSteps);
  hoursInput.addEventListener("change", onHours);
  for (const b of document.querySelectorAll("[data-open]")) {
    b.addEventListener("click", () => (app.dataset.drawer ? closeDrawer() : openDrawer(b.dataset.open, b)));
  }
  for (const b of document.querySelectorAll("[data-close]")) b.addEventListener("click", closeDrawer);
  scrim.addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closeDrawer();
  });

  // --- start -------------------------------------------------------------------------------

  async function start() {
    const params = new URLSearchParams(location.search);
    let stored = null;
    try { stored = localStorage.getItem("tutor.role"); } catch (_) { /* private mode */ }
    const wanted = [params.get("role"), stored].find((r) => r && hasRole(r));
    const first = roleSelect.options[0] && roleSelect.options[0].value;
    const initial = wanted || first || null;
    state.role = initial;
    if (initial) roleSelect.value = initial;
    const roadmap = initial ? selectRole(initial) : Promise.resolve();
    const cid = params.get("c");
    await loadConversations();
    if (cid) await openConversation(cid);
    await roadmap;
    if (state.conversationId) scrollToEnd(); // after the layout has settled (phones reflow)
    document.documentElement.dataset.ready = "1";
  }

  autosize();
  start();
})();
