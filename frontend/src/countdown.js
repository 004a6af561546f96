// A hold countdown: "9:41" updated every second, read out at most once a minute.
//
// <p>… <span data-expires="2026-03-03T08:30:00Z"        (when the hold ends, ISO 8601)
//            data-now="2026-03-03T08:20:00Z"            (optional: server time, corrects skew)
//            data-minute-left="1 minute left"           (optional: read out once a minute)
//            data-minutes-left="{minutes} minutes left"
//            data-expired="This slot is no longer held.">10:00</span></p>
// or, to keep a sentence and show the countdown in a part of it:
// <p data-expires="…">Held until 09:30. <span data-countdown aria-hidden="true"></span></p>
// The time shown (the element, or its [data-countdown] child) changes every second but
// is not a live region; a visually hidden polite live region after the element gets a
// sentence once a minute (when data-minutes-left is given) and at expiry.
// At expiry the element gets the class "is-expired" and an event "carnet:expired".
import { once } from "./util.js";

function pad(n) {
  return String(n).padStart(2, "0");
}

function start(element) {
  const expires = Date.parse(element.dataset.expires);
  if (Number.isNaN(expires)) return;
  const display = element.querySelector("[data-countdown]") || element;
  const serverNow = Date.parse(element.dataset.now || "");
  const skew = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();
  const live = document.createElement("span");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");
  element.insertAdjacentElement("afterend", live);
  let lastMinute = null;
  let timer = null;

  const tick = () => {
    if (!element.isConnected) {
      clearInterval(timer);
      live.remove();
      return;
    }
    const left = Math.max(0, Math.round((expires - (Date.now() + skew)) / 1000));
    if (left === 0) {
      clearInterval(timer);
      display.textContent = element.dataset.expired || "0:00";
      element.classList.add("is-expired");
      live.textContent = element.dataset.expired || "";
      element.dispatchEvent(new CustomEvent("carnet:expired", { bubbles: true }));
      return;
    }
    display.textContent = `${Math.floor(left / 60)}:${pad(left % 60)}`;
    const minutes = Math.ceil(left / 60);
    if (minutes !== lastMinute) {
      // The first value is already on the page; announce the following ones.
      if (lastMinute !== null) {
        const text =
          minutes === 1 ? element.dataset.minuteLeft : element.dataset.minutesLeft;
        if (text) live.textContent = text.replace("{minutes}", String(minutes));
      }
      lastMinute = minutes;
    }
  };
  tick();
  timer = setInterval(tick, 1000);
}

export function initCountdowns(root) {
  once(root, "[data-expires]", "countdownReady", start);
}
