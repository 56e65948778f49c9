/* Suggestions under the header's search box (associations, people, guides).
 *
 * Typing two letters or more asks /recherche/suggestions/?q= (URL in data-suggest-url on the input)
 * and lists the matches under the box, as an ARIA combobox: Down/Up move through them, Enter opens
 * the highlighted one (or submits the search when none is), Escape closes. A polite live region
 * says how many were found. Suggestions come filtered by the server: only what the person may see.
 * Without JavaScript the box is a plain search form.
 */
(function () {
  "use strict";

  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch) {
    return;
  }
  var endpoint = input.getAttribute("data-suggest-url");
  var MIN_LENGTH = 2;
  var DELAY_MS = 180;
  var listId = input.id + "-suggestions";

  var list = document.createElement("ul");
  list.id = listId;
  list.className = "search-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;

  var status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  input.parentNode.classList.add("has-suggestions");
  input.insertAdjacentElement("afterend", status);
  input.insertAdjacentElement("afterend", list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-expanded", "false");

  var items = [];
  var active = -1;
  var timer = null;
  var controller = null;
  var lastQuery = "";

  function close() {
    list.hidden = true;
    list.textContent = "";
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function setActive(index) {
    var options = list.querySelectorAll("[role='option']");
    active = index;
    for (var i = 0; i < options.length; i += 1) {
      var selected = i === index;
      options[i].setAttribute("aria-selected", selected ? "true" : "false");
      if (selected) {
        input.setAttribute("aria-activedescendant", options[i].id);
      }
    }
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open(index) {
    var item = items[index];
    if (item) {
      window.location.assign(item.url);
    }
  }

  function render(results) {
    list.textContent = "";
    items = results;
    active = -1;
    if (!items.length) {
      close();
      status.textContent = "Aucune suggestion : appuyez sur Entrée pour lancer la recherche.";
      return;
    }
    items.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = listId + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      var title = document.createElement("span");
      title.className = "search-suggestion__title";
      title.textContent = item.title;
      var kind = document.createElement("span");
      kind.className = "search-suggestion__kind";
      kind.textContent = item.kind_label;
      option.appendChild(title);
      option.appendChild(kind);
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { open(index); });
      list.appendChild(option);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    status.textContent = items.length === 1 ? "1 suggestion." : items.length + " suggestions.";
  }

  function ask() {
    var query = input.value.trim();
    if (query === lastQuery) {
      return;
    }
    lastQuery = query;
    if (query.length < MIN_LENGTH) {
      close();
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
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      setActive((active + 1) % items.length);
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      setActive(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      open(active);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", function () {
    window.setTimeout(close, 150);
  });
})();
