/* Passerelles — live chat on a room page (templates/chat/room_detail.html).
 *
 * Progressive enhancement: without this file the page shows the history (paginated) and the composer
 * posts a plain form. With it, the page opens the websocket named by data-ws-url, receives messages
 * live, sends through the socket, and never loses one:
 *  - every sent message has a client id; it stays in the outbox (shown "envoi…") until the server's
 *    `message` frame with that client id comes back, and is re-sent with the same id after a
 *    reconnection or a silence (the server saves it once);
 *  - messages carry their number in the room (`seq`): on a gap, or on reconnecting, the page asks
 *    `resume` after the last message it holds without a gap;
 *  - reconnection waits 1 s, 2 s, 4 s… up to 30 s (with jitter); a refusal (session expired, access
 *    withdrawn) stops it and says why;
 *  - close code 4440 (the session ended: logged out here or in another tab, password changed, account
 *    deactivated): the page asks once over HTTP whether it is still logged in (its own password change
 *    renews the session) and reconnects if so; otherwise it says the person is disconnected and stops.
 * The protocol is documented in chat/PROTOCOL.md.
 */
(function () {
  "use strict";

  var root = document.querySelector(".chat-room[data-ws-url]");
  if (!root || root.getAttribute("data-live") !== "true" || !("WebSocket" in window)) {
    return;
  }

  var TEXT = {
    connecting: "Connexion au salon…",
    connected: "Connecté : les nouveaux messages s’affichent en direct.",
    reconnecting: "Connexion perdue. Nouvelle tentative dans %s s…",
    offline: "Hors ligne : vos messages partiront dès le retour de la connexion.",
    refusedSession: "Votre session a expiré : reconnectez-vous pour continuer la discussion.",
    refusedAccess: "Vous n’avez plus accès à ce salon.",
    refusedRoom: "Ce salon n’existe plus.",
    loggedOut: "Vous êtes déconnecté·e : reconnectez-vous pour continuer la discussion.",
    sending: "envoi…",
    failed: "non envoyé",
    edited: "(modifié)",
    deletedByAuthor: "Message supprimé par son auteur·rice.",
    deletedByModeration: "Message supprimé par la modération.",
    edit: "Modifier",
    del: "Supprimer",
    moderate: "Modérer",
    yourMessage: " votre message",
    messageOf: " le message de ",
    save: "Enregistrer",
    cancel: "Annuler",
    editLabel: "Modifier votre message",
    reasonLabel: "Motif de la suppression (consigné dans le journal de modération)",
    confirmDelete: "Supprimer ce message ? Il sera remplacé par la mention « Message supprimé ».",
    online: "En ligne : ",
    others: " et %s autres",
    typingOne: "%s écrit…",
    typingMany: "%s écrivent…",
    tooLong: "Votre message dépasse %s caractères.",
    formerMember: "Ancien membre"
  };

  var wsPath = root.getAttribute("data-ws-url");
  var historyUrl = root.getAttribute("data-history-url");
  var username = root.getAttribute("data-username");
  var canModerate = root.getAttribute("data-can-moderate") === "true";
  var maxLength = parseInt(root.getAttribute("data-max-length"), 10) || 4000;
  var list = root.querySelector(".chat-messages");
  var statusEl = root.querySelector("[data-chat-status]");
  var presenceEl = root.querySelector("[data-chat-presence]");
  var typingEl = root.querySelector("[data-chat-typing]");
  var form = root.querySelector(".chat-composer");
  var textarea = form ? form.querySelector("textarea") : null;

  var socket = null;
  var attempts = 0;
  var stopped = false;
  var sessionRechecked = false; // one HTTP check after a 4440, until the next `ready`
  var reconnectTimer = null;
  var gapTimer = null;
  var readTimer = null;
  var lastTypingSent = 0;
  var online = {};
  var onlineUnnamed = 0; // people online beyond the names the server listed (large rooms)
  var typing = {};
  var outbox = new Map(); // client_id -> {body, element, sentAt}
  var bySeq = new Map(); // seq -> id, for the messages on the page
  var contiguousSeq = 0; // every message up to this number is on the page
  var contiguousId = 0; // …and this is the id of that message
  var highestId = 0;
  var lastReadSent = 0;

  // --- the messages already on the page --------------------------------------------------------

  Array.prototype.forEach.call(list.querySelectorAll(".chat-message[data-id]"), function (item) {
    var id = parseInt(item.getAttribute("data-id"), 10);
    var seq = parseInt(item.getAttribute("data-seq"), 10);
    bySeq.set(seq, id);
    highestId = Math.max(highestId, id);
  });
  (function initContiguous() {
    // The latest page holds the last messages: its first one is the base of the sequence.
    var seqs = Array.from(bySeq.keys()).sort(function (a, b) { return a - b; });
    if (seqs.length) {
      contiguousSeq = seqs[0] - 1;
      contiguousId = 0;
      advanceContiguous();
      if (contiguousId === 0) { contiguousId = parseInt(root.getAttribute("data-last-id"), 10) || 0; }
    } else {
      contiguousId = parseInt(root.getAttribute("data-last-id"), 10) || 0;
    }
  })();

  function advanceContiguous() {
    while (bySeq.has(contiguousSeq + 1)) {
      contiguousSeq += 1;
      contiguousId = bySeq.get(contiguousSeq);
    }
  }

  // --- status, presence, typing ----------------------------------------------------------------

  function setStatus(text) {
    if (statusEl) { statusEl.textContent = text; }
  }

  function renderPresence() {
    if (!presenceEl) { return; }
    var names = Object.keys(online).map(function (id) { return online[id]; }).sort();
    presenceEl.hidden = names.length === 0;
    presenceEl.textContent = names.length
      ? TEXT.online + names.join(", ") + (onlineUnnamed > 0 ? TEXT.others.replace("%s", onlineUnnamed) : "")
      : "";
  }

  function renderTyping() {
    if (!typingEl) { return; }
    var now = Date.now();
    var names = Object.keys(typing).filter(function (id) { return typing[id].until > now; })
      .map(function (id) { return typing[id].name; });
    if (!names.length) { typingEl.textContent = ""; return; }
    typingEl.textContent = (names.length === 1 ? TEXT.typingOne : TEXT.typingMany).replace("%s", names.join(", "));
  }
  setInterval(renderTyping, 1000);

  // --- rendering messages ----------------------------------------------------------------------

  function formatDate(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    return date.toLocaleString("fr-FR", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function actionLink(action, label, hidden, href) {
    var link = document.createElement("a");
    link.className = "chat-action" + (action === "edit" ? "" : " danger-link");
    link.setAttribute("data-action", action);
    link.href = href;
    link.textContent = label;
    var span = document.createElement("span");
    span.className = "visually-hidden";
    span.textContent = hidden;
    link.appendChild(span);
    return link;
  }

  function messageUrl(id, verb) {
    return root.getAttribute("data-history-url").replace(/messages\.json$/, "messages/" + id + "/" + verb + "/");
  }

  function fillMessage(item, frame) {
    item.innerHTML = "";
    item.className = "chat-message" + (frame.deleted ? " chat-message--deleted" : "") +
      (frame.author === username ? " chat-message--own" : "");
    item.id = "message-" + frame.id;
    item.setAttribute("data-id", frame.id);
    item.setAttribute("data-seq", frame.seq);
    item.setAttribute("data-author", frame.author || "");
    var meta = document.createElement("p");
    meta.className = "chat-message__meta";
    var author = document.createElement("strong");
    author.className = "chat-message__author";
    author.textContent = frame.author_name || TEXT.formerMember;
    var time = document.createElement("time");
    time.setAttribute("datetime", frame.created);
    time.textContent = formatDate(frame.created);
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(time);
    if (frame.edited && !frame.deleted) {
      var edited = document.createElement("span");
      edited.className = "chat-message__edited";
      edited.textContent = " " + TEXT.edited;
      meta.appendChild(edited);
    }
    item.appendChild(meta);
    if (frame.deleted) {
      var gone = document.createElement("p");
      gone.className = "chat-message__body chat-message__body--deleted";
      gone.textContent = frame.moderated ? TEXT.deletedByModeration : TEXT.deletedByAuthor;
      item.appendChild(gone);
      return;
    }
    var body = document.createElement("div");
    body.className = "chat-message__body";
    // `html` is the server's rendering of the plain text (escaped, links made clickable by bleach).
    body.innerHTML = frame.html;
    item.appendChild(body);
    var own = frame.author === username;
    if (own || canModerate) {
      var actions = document.createElement("p");
      actions.className = "chat-message__actions";
      if (own) {
        actions.appendChild(actionLink("edit", TEXT.edit, TEXT.yourMessage, messageUrl(frame.id, "modifier")));
        actions.appendChild(document.createTextNode(" "));
        actions.appendChild(actionLink("delete", TEXT.del, TEXT.yourMessage, messageUrl(frame.id, "supprimer")));
      } else {
        actions.appendChild(actionLink("moderate", TEXT.moderate, TEXT.messageOf + (frame.author_name || ""),
          messageUrl(frame.id, "supprimer")));
      }
      item.appendChild(actions);
    }
  }

  function removeEmptyNotice() {
    var empty = list.querySelector("[data-chat-empty]");
    if (empty) { empty.remove(); }
  }

  function insertInOrder(item, seq) {
    var items = list.querySelectorAll(".chat-message[data-seq]");
    for (var i = items.length - 1; i >= 0; i--) {
      var other = parseInt(items[i].getAttribute("data-seq"), 10);
      if (other < seq) {
        items[i].after(item);
        return;
      }
    }
    var firstPending = list.querySelector(".chat-message--pending");
    if (items.length === 0 && firstPending) {
      list.insertBefore(item, firstPending);
    } else if (items.length) {
      list.insertBefore(item, items[0]);
    } else {
      list.appendChild(item);
    }
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function onMessage(frame) {
    var stick = nearBottom();
    if (frame.client_id && frame.author === username && outbox.has(frame.client_id)) {
      var pending = outbox.get(frame.client_id);
      outbox.delete(frame.client_id);
      if (pending.element) { pending.element.remove(); }
    }
    var existing = document.getElementById("message-" + frame.id);
    if (existing) {
      fillMessage(existing, frame);
    } else {
      removeEmptyNotice();
      var item = document.createElement("li");
      fillMessage(item, frame);
      insertInOrder(item, frame.seq);
    }
    bySeq.set(frame.seq, frame.id);
    highestId = Math.max(highestId, frame.id);
    advanceContiguous();
    if (frame.seq > contiguousSeq) {
      scheduleGapRepair();
    }
    if (stick) { list.scrollTop = list.scrollHeight; }
    scheduleRead();
  }

  function onEdit(frame) {
    var item = document.getElementById("message-" + frame.id);
    if (!item) { return; }
    var body = item.querySelector(".chat-message__body");
    if (body) { body.innerHTML = frame.html; }
    if (!item.querySelector(".chat-message__edited")) {
      var edited = document.createElement("span");
      edited.className = "chat-message__edited";
      edited.textContent = " " + TEXT.edited;
      item.querySelector(".chat-message__meta").appendChild(edited);
    }
  }

  function onDelete(frame) {
    var item = document.getElementById("message-" + frame.id);
    if (!item) { return; }
    var hadFocus = item.contains(document.activeElement);
    item.classList.add("chat-message--deleted");
    Array.prototype.forEach.call(item.querySelectorAll(".chat-message__body, .chat-message__actions, .chat-edit, .chat-moderate, .chat-message__edited"),
      function (el) { el.remove(); });
    var gone = document.createElement("p");
    gone.className = "chat-message__body chat-message__body--deleted";
    gone.textContent = frame.moderated ? TEXT.deletedByModeration : TEXT.deletedByAuthor;
    item.appendChild(gone);
    if (hadFocus && textarea) { textarea.focus(); }
  }

  // --- the socket ------------------------------------------------------------------------------

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function resume() {
    send({ type: "resume", after: contiguousId });
  }

  function scheduleGapRepair() {
    if (gapTimer) { return; }
    // A missing number may just be late (frames of different senders can cross): wait a little.
    gapTimer = setTimeout(function () {
      gapTimer = null;
      var seqs = Array.from(bySeq.keys());
      if (seqs.length && Math.max.apply(null, seqs) > contiguousSeq) { resume(); }
    }, 1500);
  }

  function flushOutbox() {
    var now = Date.now();
    outbox.forEach(function (pending, clientId) {
      if (send({ type: "send", client_id: clientId, body: pending.body })) {
        pending.sentAt = now;
      }
    });
  }

  function scheduleRead() {
    if (readTimer) { return; }
    readTimer = setTimeout(function () {
      readTimer = null;
      if (document.visibilityState === "visible" && highestId > lastReadSent) {
        if (send({ type: "read", up_to: highestId })) { lastReadSent = highestId; }
      }
    }, 1000);
  }
  document.addEventListener("visibilitychange", scheduleRead);

  function updateNavBadge(total) {
    var badge = document.querySelector("[data-chat-unread-total]");
    if (!badge) { return; }
    if (!total) { badge.remove(); return; }
    badge.firstChild.textContent = String(total);
  }

  function refuse(text) {
    stopped = true;
    setStatus(text);
    if (form) {
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
    }
  }

  function checkAccessThenReconnect() {
    // A refused handshake looks like a network failure to the browser: ask the server over HTTP.
    fetch(historyUrl + "?after=" + contiguousId, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 302) {
          refuse(TEXT.refusedSession);
        } else if (response.status === 403) {
          refuse(TEXT.refusedAccess);
        } else if (response.status === 404) {
          refuse(TEXT.refusedRoom);
        } else {
          scheduleReconnect();
        }
      })
      .catch(scheduleReconnect);
  }

  function sessionEnded() {
    // 4440: the session this socket opened with is over. Still logged in (a password changed from this
    // browser renews the session's key)? Reconnect once; otherwise say so and stop, never loop.
    if (sessionRechecked) { refuse(TEXT.loggedOut); return; }
    sessionRechecked = true;
    fetch(historyUrl + "?after=" + contiguousId, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (response.status === 200) { connect(); } else { refuse(TEXT.loggedOut); }
      })
      .catch(function () { refuse(TEXT.loggedOut); });
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) { return; }
    var delay = Math.min(30000, 1000 * Math.pow(2, attempts)) * (0.75 + Math.random() * 0.5);
    attempts += 1;
    setStatus(TEXT.reconnecting.replace("%s", Math.round(delay / 1000)));
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    if (stopped) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    setStatus(TEXT.connecting);
    var opened = false;
    try {
      socket = new WebSocket(scheme + window.location.host + wsPath);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", function () {
      opened = true;
      attempts = 0;
      setStatus(TEXT.connected);
      resume();
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      handle(frame);
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      online = {};
      onlineUnnamed = 0;
      renderPresence();
      if (event.code === 4401) { refuse(TEXT.refusedSession); return; }
      if (event.code === 4403) { refuse(TEXT.refusedAccess); return; }
      if (event.code === 4404) { refuse(TEXT.refusedRoom); return; }
      if (event.code === 4440) { sessionEnded(); return; }
      if (!opened) { checkAccessThenReconnect(); return; }
      scheduleReconnect();
    });
  }

  function handle(frame) {
    switch (frame.type) {
      case "ready":
        sessionRechecked = false;
        canModerate = !!frame.can_moderate;
        maxLength = frame.max_length || maxLength;
        break;
      case "message":
        onMessage(frame);
        break;
      case "resumed":
        if (!frame.complete) {
          send({ type: "resume", after: frame.last_id });
        } else {
          flushOutbox();
          scheduleRead();
        }
        break;
      case "edit":
        onEdit(frame);
        break;
      case "delete":
        onDelete(frame);
        break;
      case "presence":
        // `online` (+ `count`) on connect; then `joined` / `left`: lists of people (chat/PROTOCOL.md).
        if (frame.online) {
          online = {};
          frame.online.forEach(function (person) { online[person.id] = person.name; });
          onlineUnnamed = Math.max(0, (frame.count || 0) - frame.online.length);
        }
        [].concat(frame.joined || []).forEach(function (person) { online[person.id] = person.name; });
        [].concat(frame.left || []).forEach(function (person) {
          if (online[person.id] !== undefined) {
            delete online[person.id];
          } else if (onlineUnnamed > 0) {
            onlineUnnamed -= 1;
          }
          delete typing[person.id];
        });
        renderPresence();
        break;
      case "typing":
        typing[frame.user.id] = { name: frame.user.name, until: Date.now() + 4000 };
        renderTyping();
        break;
      case "read":
        updateNavBadge(frame.unread_total);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  function onError(frame) {
    setStatus(frame.message);
    if (!frame.client_id || !outbox.has(frame.client_id)) { return; }
    var pending = outbox.get(frame.client_id);
    if (frame.code === "rate_limited") {
      // Kept in the outbox: sent again once the limit allows it.
      setTimeout(function () { if (outbox.has(frame.client_id)) { send({ type: "send", client_id: frame.client_id, body: pending.body }); } },
        (frame.retry_after || 5) * 1000);
      return;
    }
    outbox.delete(frame.client_id);
    markFailed(pending, frame.message);
  }

  function markFailed(pending, reason) {
    var item = pending.element;
    if (!item) { return; }
    item.classList.add("chat-message--failed");
    var state = item.querySelector(".chat-message__state");
    state.textContent = TEXT.failed + " : " + reason;
    if (textarea && !textarea.value) {
      textarea.value = pending.body;
    }
  }

  // Sends that got no answer for a while go again, with the same client id.
  setInterval(function () {
    var now = Date.now();
    outbox.forEach(function (pending, clientId) {
      if (now - pending.sentAt > 10000 && send({ type: "send", client_id: clientId, body: pending.body })) {
        pending.sentAt = now;
      }
    });
  }, 5000);

  // --- the composer ----------------------------------------------------------------------------

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function showPending(clientId, body) {
    removeEmptyNotice();
    var item = document.createElement("li");
    item.className = "chat-message chat-message--own chat-message--pending";
    item.setAttribute("data-client-id", clientId);
    var meta = document.createElement("p");
    meta.className = "chat-message__meta";
    var state = document.createElement("span");
    state.className = "chat-message__state";
    state.textContent = TEXT.sending;
    meta.appendChild(state);
    var text = document.createElement("div");
    text.className = "chat-message__body";
    text.textContent = body;
    item.appendChild(meta);
    item.appendChild(text);
    // Pending messages are not announced: the acknowledged message will be.
    item.setAttribute("aria-hidden", "true");
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = textarea.value;
      if (!body.trim()) { textarea.focus(); return; }
      if (body.length > maxLength) {
        setStatus(TEXT.tooLong.replace("%s", maxLength));
        textarea.focus();
        return;
      }
      var clientId = newClientId();
      var pending = { body: body, element: showPending(clientId, body), sentAt: 0 };
      outbox.set(clientId, pending);
      if (send({ type: "send", client_id: clientId, body: body })) {
        pending.sentAt = Date.now();
      } else {
        setStatus(TEXT.offline);
      }
      textarea.value = "";
      textarea.focus();
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (textarea.value && now - lastTypingSent > 3000 && send({ type: "typing" })) {
        lastTypingSent = now;
      }
    });
  }

  // --- edit, delete, moderate (the links lead to plain pages when the socket is down) -----------

  function inlineForm(item, className, label, value, onSubmit, returnFocusTo) {
    var existing = item.querySelector("." + className);
    if (existing) { existing.querySelector("textarea, input").focus(); return; }
    var box = document.createElement("form");
    box.className = className;
    var id = className + "-" + item.getAttribute("data-id");
    var labelEl = document.createElement("label");
    labelEl.setAttribute("for", id);
    labelEl.textContent = label;
    var field = document.createElement(className === "chat-edit" ? "textarea" : "input");
    field.id = id;
    field.value = value;
    if (className === "chat-edit") { field.rows = 3; field.maxLength = maxLength; } else { field.type = "text"; field.maxLength = 500; field.required = true; }
    var save = document.createElement("button");
    save.type = "submit";
    save.className = "button button--small";
    save.textContent = className === "chat-edit" ? TEXT.save : TEXT.del;
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button button--small button--secondary";
    cancel.textContent = TEXT.cancel;
    function close() {
      box.remove();
      if (returnFocusTo && document.body.contains(returnFocusTo)) { returnFocusTo.focus(); }
    }
    cancel.addEventListener("click", close);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
      if (className === "chat-edit" && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        box.requestSubmit();
      }
    });
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!field.value.trim()) { field.focus(); return; }
      onSubmit(field.value);
      close();
    });
    box.appendChild(labelEl);
    box.appendChild(field);
    box.appendChild(save);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(cancel);
    item.appendChild(box);
    field.focus();
  }

  function rawText(body) {
    // The rendered text has <br> for line breaks and links whose text is the address typed.
    if (!body) { return ""; }
    var copy = body.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("br"), function (br) { br.replaceWith("\n"); });
    return copy.textContent;
  }

  list.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-action]");
    if (!link || !socket || socket.readyState !== WebSocket.OPEN) { return; }
    var item = link.closest(".chat-message");
    var id = parseInt(item.getAttribute("data-id"), 10);
    var action = link.getAttribute("data-action");
    event.preventDefault();
    if (action === "edit") {
      var current = rawText(item.querySelector(".chat-message__body"));
      inlineForm(item, "chat-edit", TEXT.editLabel, current, function (value) {
        send({ type: "edit", id: id, body: value });
      }, link);
    } else if (action === "delete") {
      if (window.confirm(TEXT.confirmDelete)) {
        send({ type: "delete", id: id });
      }
    } else if (action === "moderate") {
      inlineForm(item, "chat-moderate", TEXT.reasonLabel, "", function (value) {
        send({ type: "delete", id: id, reason: value });
      }, link);
    }
  });

  connect();
})();
