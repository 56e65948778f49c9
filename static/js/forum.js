/* Passerelles — starts machina's forum scripts (jQuery, its poll and attachment helpers: board_base.html).
   A file rather than an inline script: the Content-Security-Policy runs no inline script (config/security.py).
   machina's editor pages used to call machina.poll.init() and machina.attachment.init() inline; both only
   bind the "add another option / file" buttons of their forms, and do nothing on pages without them. */
(function () {
  "use strict";

  if (!window.jQuery || !window.machina) {
    return;
  }
  window.jQuery(function () {
    window.machina.init();
    window.machina.poll.init();
    window.machina.attachment.init();
  });
})();
