// "Near me": the browser's position, asked only when the patient clicks.
//
// <form ...>
//   <input type="hidden" name="lat"> <input type="hidden" name="lon">
//   <button type="button" class="button button--secondary" data-near-me hidden
//           data-status="near-me-status"                (optional: id of a status element)
//           data-clear="place"                          (optional: name of a field to empty)
//           data-locating="Locating…"                   (optional)
//           data-error-denied="…" data-error-unavailable="…"   (or one data-error="…")
//           >Near me</button>
//   <p data-near-me-status aria-live="polite"></p>     (optional: found near the button)
// </form>
// The message goes to the element data-status names, else a [data-near-me-status] in
// the button's .form-field or form, else a role=status paragraph created after it.
// The button stays hidden without JavaScript or geolocation. On success the hidden
// inputs get the coordinates (4 decimals, about 10 m) and the form is submitted
// (requestSubmit, so htmx handles it when the form has hx-get).
import { once, statusRegionFor } from "./util.js";

function statusFor(button) {
  if (!button.dataset.status) {
    const scope = button.closest(".form-field") || button.form || button.parentElement;
    const near = scope && scope.querySelector("[data-near-me-status]");
    if (near) return near;
  }
  return statusRegionFor(button, button.dataset.status);
}

function field(form, name) {
  return form.querySelector(`input[name="${name}"]`);
}

function locate(button) {
  const form = button.form || button.closest("form");
  if (!form) return;
  const status = statusFor(button);
  const label = button.textContent;
  const fail = (error) => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
    const denied = error && error.code === 1;
    const data = button.dataset;
    status.textContent =
      (denied ? data.errorDenied : data.errorUnavailable) ||
      data.errorUnavailable ||
      data.error ||
      "";
    status.classList.add("error");
  };
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (button.dataset.locating) status.textContent = button.dataset.locating;
  status.classList.remove("error");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const lat = field(form, "lat");
      const lon = field(form, "lon");
      if (!lat || !lon) return fail(null);
      lat.value = position.coords.latitude.toFixed(4);
      lon.value = position.coords.longitude.toFixed(4);
      if (button.dataset.clear) {
        const other = form.querySelector(`[name="${button.dataset.clear}"]`);
        if (other) other.value = "";
      }
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
      status.textContent = "";
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    },
    fail,
    { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 },
  );
}

export function initNearMe(root) {
  if (!("geolocation" in navigator)) return;
  once(root, "[data-near-me]", "nearMeReady", (button) => {
    button.hidden = false;
    button.addEventListener("click", (event) => {
      event.preventDefault();
      locate(button);
    });
  });
}
