// <button type="button" data-copy="text to copy" data-copied="Copied" hidden>Copy</button>
// or data-copy-target="element-id" to copy that element's text. Hidden without the
// Clipboard API; says "Copied" in a polite status region.
import { once, statusRegionFor } from "./util.js";

export function initCopy(root) {
  if (!(navigator.clipboard && window.isSecureContext)) return;
  once(root, "[data-copy], [data-copy-target]", "copyReady", (button) => {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const target = button.dataset.copyTarget
        ? document.getElementById(button.dataset.copyTarget)
        : null;
      const text = target ? target.textContent.trim() : button.dataset.copy;
      try {
        await navigator.clipboard.writeText(text || "");
        statusRegionFor(button, button.dataset.status).textContent =
          button.dataset.copied || "";
      } catch {
        // Nothing copied: the text is still on the page to select by hand.
      }
    });
  });
}
