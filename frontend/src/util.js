// Small helpers shared by the modules.

/** Elements matching `selector` in `root`, `root` itself included. */
export function within(root, selector) {
  const found = Array.from(root.querySelectorAll ? root.querySelectorAll(selector) : []);
  if (root.matches && root.matches(selector)) found.unshift(root);
  return found;
}

/** Run `init(element)` once per element (a flag in a data attribute marks it done). */
export function once(root, selector, flag, init) {
  for (const element of within(root, selector)) {
    if (element.dataset[flag]) continue;
    element.dataset[flag] = "1";
    init(element);
  }
}

/** The polite status region for `element`: `aria-controls` / its own, or a new one after it. */
export function statusRegionFor(element, id) {
  let region = id ? document.getElementById(id) : null;
  if (!region) {
    region = document.createElement("p");
    region.className = "status-message";
    region.setAttribute("role", "status");
    element.insertAdjacentElement("afterend", region);
  }
  return region;
}
