/* Regellotsen web chat: renders the engine's replies (text, options as buttons, sources as links)
   and posts what the user types or presses to api/chat. No framework, no build step, no cookies:
   the tab keeps a random conversation id (and the language if the user picked one) in sessionStorage. */
(function () {
  "use strict";

  var STRINGS = JSON.parse(document.getElementById("strings").textContent);
  var KEY_ID = "regellotsen.conversation";
  var KEY_LANG = "regellotsen.lang";
  var memory = {};
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var busy = document.getElementById("busy");
  var queue = Promise.resolve();

  function store(key, value) {
    try {
      if (value === undefined) return window.sessionStorage.getItem(key) || memory[key] || null;
      window.sessionStorage.setItem(key, value);
    } catch (e) {
      /* storage blocked (e.g. a strict third-party setting): keep it for this page only */
    }
    if (value !== undefined) memory[key] = value;
    return value;
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function browserLang() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "sv"];
    for (var i = 0; i < langs.length; i++) {
      var l = String(langs[i]).toLowerCase();
      if (l.indexOf("sv") === 0) return "sv";
      if (l.indexOf("en") === 0) return "en";
    }
    return "en";
  }

  var conversation = store(KEY_ID);
  if (!conversation || !/^[A-Za-z0-9_-]{16,64}$/.test(conversation)) conversation = store(KEY_ID, newId());
  var lang = store(KEY_LANG) || browserLang();

  function t(key) {
    return (STRINGS[lang] || STRINGS.sv)[key];
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    var nodes = document.querySelectorAll("[data-t]");
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute("data-t"));
    var sw = document.getElementById("lang");
    sw.lang = t("switch_to_lang");
    document.getElementById("a11y").href = lang === "en" ? "accessibility" : "tillganglighet";
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function srOnly(text) {
    return el("span", "sr-only", text);
  }

  /* Plain text from the engine: paragraphs split by blank lines, lines starting with "• " are bullets. */
  function renderText(text, into) {
    var blocks = String(text).split(/\n\s*\n/);
    for (var b = 0; b < blocks.length; b++) {
      var lines = blocks[b].split("\n");
      var list = null;
      var para = null;
      for (var i = 0; i < lines.length; i++) {
        var line = lines[i];
        if (/^\s*[•\-–] /.test(line)) {
          para = null;
          if (!list) list = into.appendChild(el("ul"));
          list.appendChild(el("li", null, line.replace(/^\s*[•\-–] /, "")));
        } else if (line.trim()) {
          list = null;
          if (para) para.appendChild(document.createElement("br"));
          else para = into.appendChild(el("p"));
          para.appendChild(document.createTextNode(line));
        }
      }
    }
  }

  var FORMATS = { "text/markdown": "Markdown", "text/html": "HTML", "application/pdf": "PDF", "text/plain": "text" };

  /* A document (the checklist) comes inside the reply; the link saves it from memory, no second request. */
  function downloadLink(doc) {
    var body;
    if (doc.encoding === "base64") {
      var raw = atob(doc.content);
      body = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) body[i] = raw.charCodeAt(i);
    } else {
      body = doc.content;
    }
    var blob = new Blob([body], { type: doc.media_type + (doc.encoding === "base64" ? "" : ";charset=utf-8") });
    var format = FORMATS[doc.media_type] || doc.media_type;
    var a = el("a", "download", t("download") + ": " + (doc.title || doc.name) + " (" + format + ")");
    a.href = URL.createObjectURL(blob);
    a.setAttribute("download", doc.name);
    a.setAttribute("type", doc.media_type);
    return a;
  }

  function renderFacts(facts, into) {
    if (!facts || !facts.length) return;
    var dl = into.appendChild(el("dl", "facts"));
    facts.forEach(function (f) {
      dl.appendChild(el("dt", null, f.label));
      dl.appendChild(el("dd", null, f.value));
    });
  }

  function renderReply(reply, turn) {
    var box = el("div", "msg bot");
    box.appendChild(srOnly(t("bot") + ": "));
    if (reply.title) box.appendChild(el("h3", "title", reply.title));
    renderFacts(reply.facts, box);
    renderText(reply.text || "", box);
    if (reply.citations && reply.citations.length) {
      box.appendChild(el("p", "src-head", t("sources")));
      var ul = box.appendChild(el("ul", "sources"));
      reply.citations.forEach(function (c) {
        if (!/^https?:\/\//i.test(c.url)) return;
        var a = el("a", null, c.title);
        a.href = c.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.appendChild(srOnly(" " + t("new_window")));
        ul.appendChild(el("li")).appendChild(a);
      });
    }
    (reply.documents || []).forEach(function (doc) {
      box.appendChild(el("p", "doc-link")).appendChild(downloadLink(doc));
    });
    if (reply.options && reply.options.length) {
      var group = el("div", "options");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("options"));
      reply.options.forEach(function (o) {
        var button = el("button", "opt", o.label);
        button.type = "button";
        button.setAttribute("data-value", o.value);
        group.appendChild(button);
      });
      box.appendChild(group);
    }
    turn.appendChild(box);
  }

  function scrollTo(node) {
    /* At once, never animated: nothing moves under the pointer, and prefers-reduced-motion needs no case. */
    if (node.scrollIntoView) node.scrollIntoView({ block: "start" });
  }

  function showUser(text, chose) {
    var box = el("div", "msg user");
    box.appendChild(srOnly((chose ? t("you_chose") : t("you")) + ": "));
    box.appendChild(document.createTextNode(text));
    log.appendChild(box);
  }

  function retire() {
    /* Earlier options stay readable but no longer take focus: only the newest turn's buttons act. */
    var old = log.querySelectorAll("button.opt:not([disabled])");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }

  function showTurn(data, focus) {
    if (data.kind !== "error") retire();
    var turn = el("article", "turn");
    turn.tabIndex = -1;
    turn.setAttribute("aria-label", t("bot"));
    if (data.lang) turn.lang = data.lang;
    if (data.kind) turn.setAttribute("data-kind", data.kind);
    (data.replies || []).forEach(function (r) {
      renderReply(r, turn);
    });
    log.appendChild(turn);
    /* After a pressed option its button is gone from the tab order, so focus moves to the new reply,
       where reading (and Tab) goes on; typed questions keep the focus in the question field. */
    if (focus) turn.focus({ preventScroll: true });
    /* Show the new reply from the top, with the message it answers above it when that fits. */
    var asked = turn.previousElementSibling;
    if (log.children.length > 1) scrollTo(asked && asked.classList.contains("user") ? asked : turn);
    return turn;
  }

  function showError(key) {
    showTurn({ lang: lang, kind: "error", replies: [{ text: t(key) }] }, false).classList.add("error");
  }

  function post(body, focus, onError) {
    body.conversation = conversation;
    body.locale = lang;
    queue = queue.then(function () {
      busy.hidden = false;
      log.setAttribute("aria-busy", "true");
      return fetch("api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store"
      })
        .then(function (res) {
          if (!res.ok) throw new Error(res.status === 429 ? "error_busy" : "error_server");
          return res.json().then(function (data) {
            showTurn(data, focus);
          });
        })
        .catch(function (error) {
          var key = error && /^error_/.test(error.message) ? error.message : "error_network";
          showError(key);
          if (onError) onError();
        })
        .then(function () {
          busy.hidden = true;
          log.removeAttribute("aria-busy");
        });
    });
    return queue;
  }

  log.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.opt") : null;
    if (!button || button.disabled) return;
    /* One press only: the reply's buttons rest until the answer is there (and come back if it fails). */
    var pending = log.querySelectorAll("button.opt:not([disabled])");
    for (var i = 0; i < pending.length; i++) pending[i].disabled = true;
    showUser(button.textContent, true);
    post({ choice: button.getAttribute("data-value") }, true, function () {
      for (var j = 0; j < pending.length; j++) pending[j].disabled = false;
      button.focus();
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      showError("empty");
      input.focus();
      return;
    }
    input.value = "";
    showUser(text, false);
    post({ text: text }, false);
  });

  document.getElementById("lang").addEventListener("click", function () {
    lang = t("switch_to_lang");
    store(KEY_LANG, lang);
    applyLanguage();
    post({ choice: "lang:" + lang }, false);
  });

  document.getElementById("restart").addEventListener("click", function () {
    post({ choice: "cmd:restart" }, false);
  });

  applyLanguage();
  post({ choice: "cmd:menu" }, false);
})();
