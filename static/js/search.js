/* Suggestions under the header's search box (associations, people, guides).
 *
 * Typing two letters or more asks /recherche/suggestions/?q= (URL in data-suggest-url on the input)
 * and lists the matches under the box, as an ARIA combobox (the list itself: listbox.js): Down/Up move
 * through them, Enter opens the highlighted one (or submits the search when none is), Escape closes.
 * A polite live region says how many were found. Suggestions come filtered by the server: only what
 * the person may see. Without JavaScript the box is a plain search form.
 */
(function () {
  "use strict";

  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch || !window.PasserellesListbox) {
    return;
  }
  var endpoint = input.getAttribute("data-suggest-url");
  var MIN_LENGTH = 2;
  var DELAY_MS = 180;

  var items = [];
  var timer = null;
  var controller = null;
  var lastQuery = "";

  input.parentNode.classList.add("has-suggestions");
  input.setAttribute("role", "combobox");
  var listbox = window.PasserellesListbox.create(input, {
    id: input.id + "-suggestions",
    className: "search-suggestions",
    label: "Suggestions",
    expands: true,
    choose: function (index) {
      var item = items[index];
      if (item) {
        window.location.assign(item.url);
      }
    },
  });

  function render(results) {
    items = results;
    if (!items.length) {
      listbox.close();
      listbox.announce("Aucune suggestion : appuyez sur Entrée pour lancer la recherche.");
      return;
    }
    listbox.show(items, function (option, item) {
      var title = document.createElement("span");
      title.className = "search-suggestion__title";
      title.textContent = item.title;
      var kind = document.createElement("span");
      kind.className = "search-suggestion__kind";
      kind.textContent = item.kind_label;
      option.appendChild(title);
      option.appendChild(kind);
    });
    listbox.announce(items.length === 1 ? "1 suggestion." : items.length + " suggestions.");
  }

  function ask() {
    var query = input.value.trim();
    if (query === lastQuery) {
      return;
    }
    lastQuery = query;
    if (query.length < MIN_LENGTH) {
      listbox.close();
      return;
    }
    if (controller) {
      controller.abort();
    }
    controller = window.AbortController ? new AbortController() : null;
    window.fetch(endpoint + "?q=" + encodeURIComponent(query), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        if (input.value.trim() === query) {
          render(data.results || []);
        }
      })
      .catch(function () { /* aborted or offline: the form still submits */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, DELAY_MS);
  });
  // Enter with no highlighted suggestion is left to the form: it submits the search.
  input.addEventListener("keydown", listbox.keydown);
  input.addEventListener("blur", function () {
    window.setTimeout(listbox.close, 150);
  });
})();
