/* @mention autocomplete for the forum's post editor (machina's textarea#id_content).
 *
 * Typing "@" followed by at least two letters asks the directory (data-mentions-url on this
 * script tag, JSON [{username, name, association}]) and shows the matching members in a listbox
 * under the editor (the list itself: listbox.js). Keyboard: Down/Up move through the suggestions,
 * Enter inserts "@username", Escape closes. The textarea keeps focus and points at the highlighted option with
 * aria-activedescendant; a polite live region says how many members were found.
 * Vanilla JS, no dependency, no network call but the site's own endpoint.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var endpoint = script ? script.getAttribute("data-mentions-url") : null;
  if (!endpoint || !window.fetch || !window.PasserellesListbox) {
    return;
  }

  var MIN_LENGTH = 2;
  var MAX_LENGTH = 100;
  var DELAY_MS = 200;
  // "@name" right before the caret, not glued to a word, a dot, a slash or a colon (e-mail
  // addresses and URLs are not mentions) — the same rule as the server's (forum/notifications.py).
  var TOKEN = /(?:^|[^\p{L}\p{N}_@.+\-\/:`])@([\p{L}\p{N}_.+\-]+)$/u;
  var counter = 0;

  function attach(textarea) {
    if (textarea.dataset.mentionsReady) {
      return;
    }
    textarea.dataset.mentionsReady = "1";
    counter += 1;
    var listId = "mentions-listbox-" + counter;

    var hint = document.createElement("p");
    hint.id = listId + "-aide";
    hint.className = "mentions-hint";
    hint.textContent = "Pour mentionner un membre, tapez @ suivi d'au moins deux lettres de son nom.";
    var described = (textarea.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    described.push(hint.id);
    textarea.setAttribute("aria-describedby", described.join(" "));

    var items = [];
    var token = null; // {query, start, end}: the "@query" being completed, by character offsets
    var dismissed = null; // the token closed with Escape: not reopened until it changes
    var timer = null;
    var pending = null;

    var listbox = window.PasserellesListbox.create(textarea, {
      id: listId,
      className: "mentions-listbox",
      label: "Membres à mentionner",
      choose: choose,
      closed: function () {
        dismissed = token;
        listbox.announce("Suggestions fermées.");
      },
    });
    textarea.insertAdjacentElement("afterend", hint); // under the editor, above the suggestions

    function choose(index) {
      var person = items[index];
      if (!person || !token) {
        return;
      }
      var value = textarea.value;
      var after = value.slice(token.end);
      var insert = "@" + person.username + (/^\s/.test(after) ? "" : " ");
      textarea.value = value.slice(0, token.start) + insert + after;
      var caret = token.start + insert.length;
      textarea.setSelectionRange(caret, caret);
      textarea.focus();
      listbox.announce(person.name + " mentionné·e.");
      token = null;
      listbox.close();
    }

    function render(results) {
      items = results.slice(0, 8);
      if (!items.length) {
        listbox.close();
        listbox.announce("Aucun membre ne correspond.");
        return;
      }
      listbox.show(items, function (option, person) {
        var name = document.createElement("span");
        name.className = "mentions-option__name";
        name.textContent = person.name + " (@" + person.username + ")";
        option.appendChild(name);
        if (person.association) {
          var association = document.createElement("span");
          association.className = "mentions-option__meta";
          association.textContent = person.association;
          option.appendChild(association);
        }
      });
      listbox.highlight(0);
      listbox.announce(
        (items.length === 1 ? "1 membre trouvé. " : items.length + " membres trouvés. ") +
        "Flèches haut et bas pour choisir, Entrée pour insérer, Échap pour fermer."
      );
    }

    function search(current) {
      if (pending) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      var url = endpoint + (endpoint.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(current.query);
      window.fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending ? pending.signal : undefined,
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (results) {
          // Only if the person is still typing the same mention.
          if (token && token.start === current.start && token.query === current.query && Array.isArray(results)) {
            render(results);
          }
        })
        .catch(function () { /* aborted or offline: no suggestion */ });
    }

    function detect() {
      window.clearTimeout(timer);
      var caret = textarea.selectionStart;
      if (caret !== textarea.selectionEnd) {
        token = null;
        listbox.close();
        return;
      }
      var match = TOKEN.exec(textarea.value.slice(0, caret));
      if (!match || match[1].length < MIN_LENGTH || match[1].length > MAX_LENGTH) {
        token = null;
        listbox.close();
        return;
      }
      var current = { query: match[1], start: caret - match[1].length - 1, end: caret };
      if (dismissed && dismissed.start === current.start && dismissed.query === current.query) {
        return;
      }
      dismissed = null;
      token = current;
      timer = window.setTimeout(function () { search(current); }, DELAY_MS);
    }

    textarea.addEventListener("input", detect);
    textarea.addEventListener("click", detect);
    textarea.addEventListener("blur", function () {
      window.clearTimeout(timer);
      listbox.close();
    });
    textarea.addEventListener("keydown", listbox.keydown);
  }

  function init() {
    var editors = document.querySelectorAll("textarea#id_content, textarea[data-mentions]");
    for (var i = 0; i < editors.length; i += 1) {
      attach(editors[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
