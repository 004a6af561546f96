// After an htmx swap into a target marked data-focus-on-swap, move the keyboard focus
// to the new content (its first heading, or the target itself) so that screen reader
// and keyboard users land on the results they asked for.
export function initFocusOnSwap(doc) {
  doc.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail && event.detail.target;
    if (!target || !target.hasAttribute || !target.hasAttribute("data-focus-on-swap")) {
      return;
    }
    const heading = target.querySelector("h1, h2, h3") || target;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  });
}
