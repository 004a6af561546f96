// The workspace's agenda grid (pro/agenda/agenda.html), as progressive enhancement:
// - motive colours: each [data-colour] gets the CSS variable --motive (CSSOM, which the
//   CSP allows; style="" attributes are refused);
// - drag and drop: an appointment link with draggable="true" dropped on a 5-minute cell
//   ([data-drop][data-starts-at]) posts the Move form (starts_at, notify, next) to its
//   data-move-url; the server answers with a redirect back and a message;
// - the current-time line ([data-now-line]) follows the clock, once a minute.
// Without JavaScript: the "Move" page of each appointment does the same.
import { once, within } from "./util.js";

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const STEP_MINUTES = 5;

function paint(element) {
  const colour = element.dataset.colour;
  if (colour && COLOUR.test(colour)) element.style.setProperty("--motive", colour);
}

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function postMove(link, cell) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = link.dataset.moveUrl;
  form.hidden = true;
  const notify = document.getElementById("agenda-notify");
  const grid = link.closest("[data-agenda-grid]");
  const fields = {
    csrfmiddlewaretoken: csrfToken(),
    starts_at: cell.dataset.startsAt,
    agenda: cell.dataset.agenda,
    next: (grid && grid.dataset.here) || window.location.pathname + window.location.search,
  };
  if (!notify || notify.checked) fields.notify = "on";
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}

function initDrag(grid) {
  let dragged = null;
  const status = document.querySelector("[data-agenda-status]");
  grid.addEventListener("dragstart", (event) => {
    const link = event.target.closest && event.target.closest("a[draggable=true][data-move-url]");
    if (!link) return;
    dragged = link;
    link.parentElement.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", link.dataset.appointment || "");
  });
  grid.addEventListener("dragend", () => {
    if (dragged) dragged.parentElement.classList.remove("is-dragging");
    for (const cell of grid.querySelectorAll(".is-drop-target")) cell.classList.remove("is-drop-target");
    dragged = null;
  });
  const cellAt = (event) => {
    if (!dragged) return null;
    // The appointment blocks lie over the cells: find the cell under the pointer.
    const column = event.target.closest && event.target.closest("[data-agenda-column]");
    if (!column) return null;
    const direct = event.target.closest("[data-drop]");
    if (direct) return direct;
    for (const cell of column.querySelectorAll("[data-drop]")) {
      const box = cell.getBoundingClientRect();
      if (event.clientY >= box.top && event.clientY < box.bottom) return cell;
    }
    return null;
  };
  grid.addEventListener("dragover", (event) => {
    const cell = cellAt(event);
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const other of grid.querySelectorAll(".is-drop-target")) {
      if (other !== cell) other.classList.remove("is-drop-target");
    }
    cell.classList.add("is-drop-target");
  });
  grid.addEventListener("drop", (event) => {
    const cell = cellAt(event);
    if (!cell || !dragged) return;
    event.preventDefault();
    if (status) status.textContent = status.dataset.moving || "…";
    postMove(dragged, cell);
  });
}

function localMinutes(zone, now) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type).value;
  return {
    day: `${get("year")}-${get("month")}-${get("day")}`,
    minutes: Number(get("hour")) * 60 + Number(get("minute")),
  };
}

function placeNowLine(line) {
  let local;
  try {
    local = localMinutes(line.dataset.zone, new Date());
  } catch (error) {
    return;
  }
  const start = Number(line.dataset.axisStart);
  const rows = Number(line.dataset.rows);
  const row = Math.floor((local.minutes - start) / STEP_MINUTES) + 1;
  for (const name of Array.from(line.classList)) {
    if (name.startsWith("row-start-")) line.classList.remove(name);
  }
  const visible = local.day === line.dataset.day && row >= 1 && row <= rows;
  line.classList.toggle("agenda-now--off", !visible);
  if (visible) line.classList.add(`row-start-${row}`);
}

export function initAgenda(root) {
  for (const element of within(root, "[data-colour]")) paint(element);
  once(root, "[data-agenda-grid]", "agendaReady", (grid) => {
    initDrag(grid);
    const lines = Array.from(grid.querySelectorAll("[data-now-line]"));
    if (lines.length) {
      const tick = () => lines.forEach(placeNowLine);
      tick();
      window.setInterval(tick, 60_000);
    }
  });
}
