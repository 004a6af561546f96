// <form method="post" data-confirm="Cancel this appointment?"> asks before sending.
// (Elements driven by htmx can use hx-confirm instead.)
import { once } from "./util.js";

export function initConfirm(root) {
  once(root, "form[data-confirm]", "confirmReady", (form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
}
