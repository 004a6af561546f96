// Carnet's one JavaScript bundle: htmx and a few small modules, no inline handlers.
// Built by scripts/build-frontend.sh into carnet/core/static/carnet/carnet.js (committed).
// Every module is progressive enhancement: each page works without JavaScript.
import htmx from "htmx.org";

import { initAgenda } from "./agenda.js";
import { initCopy } from "./copy.js";
import { initConfirm } from "./confirm.js";
import { initCountdowns } from "./countdown.js";
import { initFocusOnSwap } from "./focus.js";
import { initNearMe } from "./nearme.js";

// Safe defaults even on a page without <meta name="htmx-config"> (base.html has one):
// no eval, no <script> from swapped content, no inline styles (the CSP forbids them),
// same-origin requests only, and no copy of pages in localStorage (health data).
Object.assign(htmx.config, {
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
});
window.htmx = htmx;

// htmx.onLoad runs for the document once, then for every piece of swapped content.
htmx.onLoad((root) => {
  initNearMe(root);
  initCountdowns(root);
  initCopy(root);
  initConfirm(root);
  initAgenda(root);
});
initFocusOnSwap(document);
