/* The suggestion list both autocompletes show under a text field: the header's search box (search.js)
 * and the forum editor's @mentions (mentions.js).
 *
 * PasserellesListbox.create(field, settings) adds after the field a listbox (ul[role=listbox]) and a
 * polite live region, and returns what the two scripts need: show(items, fill) builds one option per
 * item (fill(option, item) puts its content in), close(), announce(text), and keydown(event), which
 * handles Down/Up (move through the options, wrapping), Enter (settings.choose(index) on the highlighted
 * one) and Escape (close, then settings.closed()), and says whether it did. The focus stays in the
 * field: the highlighted option is named by its aria-activedescendant. An option clicked is chosen
 * without taking the focus from the field.
 *
 * settings: {id, className, label, choose(index), closed() (optional), expands (true for a combobox,
 * whose aria-expanded follows the list)}.
 */
(function () {
  "use strict";

  function create(field, settings) {
    var list = document.createElement("ul");
    list.id = settings.id;
    list.className = settings.className;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", settings.label);
    list.hidden = true;

    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    field.insertAdjacentElement("afterend", status);
    field.insertAdjacentElement("afterend", list);
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", settings.id);
    if (settings.expands) {
      field.setAttribute("aria-expanded", "false");
    }

    var count = 0;
    var active = -1;

    function close() {
      list.hidden = true;
      list.textContent = "";
      count = 0;
      active = -1;
      field.removeAttribute("aria-activedescendant");
      if (settings.expands) {
        field.setAttribute("aria-expanded", "false");
      }
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role='option']");
      active = index;
      field.removeAttribute("aria-activedescendant");
      for (var i = 0; i < options.length; i += 1) {
        var selected = i === index;
        options[i].setAttribute("aria-selected", selected ? "true" : "false");
        if (selected) {
          field.setAttribute("aria-activedescendant", options[i].id);
          if (options[i].scrollIntoView) {
            options[i].scrollIntoView({ block: "nearest" });
          }
        }
      }
    }

    function show(items, fill) {
      list.textContent = "";
      active = -1;
      count = items.length;
      if (!count) {
        close();
        return;
      }
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = settings.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        fill(option, item);
        // mousedown would move the focus out of the field: keep it there and choose on click.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { settings.choose(index); });
        list.appendChild(option);
      });
      list.hidden = false;
      if (settings.expands) {
        field.setAttribute("aria-expanded", "true");
      }
    }

    function keydown(event) {
      if (list.hidden || !count) {
        return false;
      }
      if (event.key === "ArrowDown") {
        highlight((active + 1) % count);
      } else if (event.key === "ArrowUp") {
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        settings.choose(active);
      } else if (event.key === "Escape") {
        event.stopPropagation();
        close();
        if (settings.closed) {
          settings.closed();
        }
      } else {
        return false;
      }
      event.preventDefault();
      return true;
    }

    return {
      show: show,
      close: close,
      highlight: highlight,
      keydown: keydown,
      announce: function (text) { status.textContent = text; },
    };
  }

  window.PasserellesListbox = { create: create };
})();
