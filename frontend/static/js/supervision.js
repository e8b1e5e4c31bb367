// @ts-check
// The coordinators' live dashboard (/console/toezicht) over /ws/supervision. Without
// JavaScript the page is a server-rendered snapshot that reloads itself; with it, the
// socket pushes a snapshot when the queue moves, every 5 s, and a flag alert at once.
// Protocol: docs/chat-protocol.md, "Supervision socket".

import { byId as $, setChildren } from "./dom.js";
import { clockTime, fill, readTexts } from "./page-texts.js";
import { ReconnectingSocket } from "./reconnecting-socket.js";

/** @typedef {import("./reconnecting-socket.js").Frame} Frame */

/**
 * What the dashboard shows (frames "welcome" and "snapshot").
 * @typedef {object} Snapshot
 * @property {string} at
 * @property {number} waiting
 * @property {number} longest_wait_seconds
 * @property {number} in_progress_count
 * @property {{available: number, busy: number, at_capacity: number, pause: number,
 *   free_slots: number, people?: Person[]}} counsellors
 * @property {Flagged[]} [flagged]
 * @property {Running[]} [in_progress]
 */
/**
 * `read_along_refused`: why this coordinator may not read along (null: they may).
 * @typedef {{id: string, nickname: string, terms?: string[], source: string,
 *   flagged_at: string, status: string, counsellor?: string | null,
 *   read_along_refused?: string | null}} Flagged
 * @typedef {{name: string, state: string, active: number, capacity: number}} Person
 * @typedef {{id: string, nickname: string, topic: string, language?: string, counsellor?: string | null,
 *   running_seconds: number, flagged?: boolean, read_along_refused?: string | null}} Running
 */

const texts = readTexts("supervision-texts");
const app = document.getElementById("supervision-app");
const SOUND_KEY = "clb-supervision-sound";
/** @type {Set<string>} */
const seenAlerts = new Set();
/** Why reading along is refused, per conversation id, from the latest snapshot.
 * @type {Map<string, string | null>} */
const refusals = new Map();
/** @type {AudioContext | null} */
let audio = null;
let mayPlay = false;

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {unknown} seconds */
function duration(seconds) {
  const minutes = Math.floor((Number(seconds) || 0) / 60);
  if (minutes < 1) return texts.less_than_minute;
  if (minutes < 60) return fill(texts.minutes, { n: minutes });
  return fill(texts.hours, { h: Math.floor(minutes / 60), n: minutes % 60 });
}

/**
 * "Meelezen" where the server allows it, else the short reason why not.
 * @param {string} id
 * @param {string} nickname
 * @param {string | null | undefined} refused
 * @param {"p" | "span"} [tag]
 */
function readLink(id, nickname, refused, tag = "p") {
  if (refused) return el(tag, "small read-refused", texts.refusals[refused] || refused);
  const link = el("a", "flag-read", texts.read_along);
  link.href = `/console/toezicht/gesprek/${encodeURIComponent(id)}`;
  link.append(el("span", "visually-hidden", ` ${fill(texts.read_along_with, { name: nickname })}`));
  return link;
}

function icon() {
  const node = el("span", "flag-icon", "⚠");
  node.setAttribute("aria-hidden", "true");
  return node;
}

// --- Rendering a snapshot ------------------------------------------------------------------

/** @param {Flagged[]} flagged */
function renderFlags(flagged) {
  const items = flagged.map((f) => {
    const li = el("li", "flag-item");
    li.dataset.id = f.id;
    const head = el("p", "flag-head");
    head.append(icon(), " ", el("strong", "", texts.alert), " ", el("span", "flag-nick", f.nickname));
    const meta = [
      `“${(f.terms || []).join("”, “")}” ${texts.sources[f.source] || ""}`.trim(),
      fill(texts.since, { time: clockTime(f.flagged_at) }),
      texts.statuses[f.status] || f.status,
    ];
    if (f.counsellor) meta.push(f.counsellor);
    li.append(head, el("p", "flag-meta", meta.join(" · ")), readLink(f.id, f.nickname, f.read_along_refused));
    return li;
  });
  setChildren($("flag-list"), items);
  $("flag-list").dataset.count = String(items.length);
  $("flagged-count").textContent = String(items.length);
  $("flagged-empty").hidden = items.length > 0;
}

/**
 * The numbers; a node is only written when its number changed (no needless re-reading).
 * @param {Snapshot} s
 */
function renderStats(s) {
  const c = s.counsellors;
  const values = {
    waiting: s.waiting,
    longest: s.waiting ? duration(s.longest_wait_seconds) : "–",
    available: c.available,
    busy: c.busy,
    at_capacity: c.at_capacity,
    pause: c.pause,
    free_slots: c.free_slots,
    in_progress: s.in_progress_count,
  };
  for (const [key, value] of Object.entries(values)) {
    const node = /** @type {HTMLElement} */ (app).querySelector(`[data-stat="${key}"]`);
    if (node && node.textContent !== String(value)) node.textContent = String(value);
  }
}

/** @param {Person[]} people */
function renderPeople(people) {
  const rows = people.map((p) => {
    const tr = el("tr");
    tr.dataset.state = p.state;
    const state = el("span", `state state-${p.state}`, texts.states[p.state] || p.state);
    const cells = [el("td", "", p.name), el("td"), el("td", "", fill(texts.chats_of, { n: p.active, max: p.capacity }))];
    cells[1].append(state);
    tr.append(...cells);
    return tr;
  });
  setChildren($("people-rows"), rows);
  $("people-table").hidden = rows.length === 0;
  $("people-empty").hidden = rows.length > 0;
}

/** @param {Running[]} running */
function renderRunning(running) {
  const rows = running.map((r) => {
    const tr = el("tr");
    tr.dataset.id = r.id;
    const flag = el("td");
    if (r.flagged) flag.append(icon(), ` ${texts.yes}`);
    const link = el("td");
    link.append(readLink(r.id, r.nickname, r.read_along_refused, "span"));
    tr.append(
      el("td", "", r.nickname),
      el("td", "", texts.topics[r.topic] || r.topic),
      el("td", "", texts.languages[r.language || "nl"] || r.language || ""),
      el("td", "", r.counsellor || ""),
      el("td", "", duration(r.running_seconds)),
      flag,
      link,
    );
    return tr;
  });
  setChildren($("running-rows"), rows);
  $("running-table").hidden = rows.length === 0;
  $("running-empty").hidden = rows.length > 0;
}

/** @param {Snapshot} s */
function renderSnapshot(s) {
  const root = /** @type {HTMLElement} */ (app);
  // Keep keyboard focus where it was when the element it is on gets rebuilt.
  const focused = document.activeElement;
  const focusedHref = focused && focused.getAttribute("href");
  refusals.clear();
  for (const c of [...(s.flagged || []), ...(s.in_progress || [])]) refusals.set(c.id, c.read_along_refused || null);
  renderFlags(s.flagged || []);
  renderAlertLinks();
  renderStats(s);
  renderPeople(s.counsellors.people || []);
  renderRunning(s.in_progress || []);
  if (focused && focusedHref && !focused.isConnected) {
    const again = /** @type {HTMLElement | null} */ (root.querySelector(`a[href="${CSS.escape(focusedHref)}"]`));
    if (again) again.focus();
  }
  const updated = /** @type {HTMLElement} */ (root.querySelector("[data-updated]"));
  updated.textContent = fill(texts.live, { time: clockTime(s.at) });
}

// --- Alerts ------------------------------------------------------------------------------

/** The alerts shown offer "Meelezen" only where the latest snapshot allows it. */
function renderAlertLinks() {
  for (const item of /** @type {NodeListOf<HTMLElement>} */ ($("alerts").querySelectorAll(".alert-item"))) {
    const id = item.dataset.id || "";
    const old = /** @type {HTMLElement | null} */ (item.querySelector("[data-read-action]"));
    if (!old || !refusals.has(id)) continue;
    const refused = refusals.get(id);
    const same = refused ? old.textContent === (texts.refusals[refused] || refused) : old.tagName === "A";
    if (same) continue;
    const action = readLink(id, item.dataset.nickname || "", refused);
    action.dataset.readAction = "";
    old.replaceWith(action);
  }
}

function beep() {
  if (!(/** @type {HTMLInputElement} */ ($("alert-sound")).checked) || !mayPlay) return;
  try {
    audio = audio || new AudioContext();
    for (const [offset, pitch] of [[0, 880], [0.25, 660]]) {
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      tone.frequency.value = pitch;
      const start = audio.currentTime + offset;
      volume.gain.setValueAtTime(0.0001, start);
      volume.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + 0.22);
      tone.connect(volume).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.25);
    }
  } catch (_) {
    // No sound (autoplay rules): the alert on screen is what counts.
  }
}

/**
 * The link of a flagged question's alert (chat/questions): it opens the question.
 * @param {string} url
 */
function questionLink(url) {
  const link = el("a", "flag-read", texts.open_question);
  link.href = url;
  return link;
}

/**
 * A browser notification (if allowed) that opens the read-along of that chat (or ``url``).
 * @param {string} text
 * @param {string} id
 * @param {string} [url]
 */
function notify(text, id, url) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const note = new Notification(texts.notify_title, { body: text, tag: `flag-${id}` });
    note.onclick = () => {
      window.focus();
      window.location.href = url || `/console/toezicht/gesprek/${encodeURIComponent(id)}`;
    };
  } catch (_) {
    // Some browsers only allow notifications from a service worker: the page still shows it.
  }
}

/** @param {Frame} frame  a "flag" frame: a crisis term in a chat */
function showAlert(frame) {
  const key = `${frame.conversation_id}|${frame.term}|${frame.at}`;
  if (seenAlerts.has(key)) return;
  seenAlerts.add(key);
  const text = fill(texts.alert_text, {
    name: frame.nickname || "",
    term: frame.term || "",
    source: texts.sources[frame.source] || "",
  });
  const item = el("div", "alert-item");
  item.dataset.id = frame.conversation_id;
  const line = el("p");
  line.append(icon(), " ", el("strong", "", `${texts.alert}:`), ` ${text}`);
  const dismiss = el("button", "button secondary small-button", texts.seen);
  dismiss.type = "button";
  dismiss.addEventListener("click", () => {
    item.remove();
    $("flagged-title").focus();
  });
  item.dataset.nickname = frame.nickname || "";
  // Until the snapshot that follows says otherwise, the link; then what the server allows.
  // A question ("Stel je vraag") has no chat to read along: its alert carries its own url.
  const action = frame.url ? questionLink(frame.url) : readLink(frame.conversation_id, frame.nickname || "", refusals.get(frame.conversation_id));
  if (!frame.url) action.dataset.readAction = "";
  item.append(line, action, dismiss);
  $("alerts").prepend(item);
  beep();
  notify(text, frame.conversation_id, frame.url);
}

// --- Options -------------------------------------------------------------------------------

/** @param {HTMLElement} root */
function setUpOptions(root) {
  const options = /** @type {HTMLElement} */ (root.querySelector("[data-js-only]"));
  options.hidden = false;
  const sound = /** @type {HTMLInputElement} */ ($("alert-sound"));
  sound.checked = localStorage.getItem(SOUND_KEY) === "on";
  sound.addEventListener("change", () => localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off"));
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, () => {
      mayPlay = true;
    }, { once: true, capture: true });
  }
  const button = $("alert-notify");
  const state = $("notify-state");
  if (!("Notification" in window)) {
    button.hidden = true;
    return;
  }
  const show = () => {
    if (Notification.permission === "granted") {
      button.hidden = true;
      state.textContent = texts.notify_on;
    } else if (Notification.permission === "denied") {
      button.hidden = true;
      state.textContent = texts.notify_denied;
    }
  };
  show();
  button.addEventListener("click", async () => {
    try {
      await Notification.requestPermission();
    } catch (_) {
      // Older API shape or refused: the state below says what happened.
    }
    show();
  });
}

// --- The socket --------------------------------------------------------------------------

/** @param {string} text */
function setConnection(text) {
  const node = /** @type {HTMLElement} */ (/** @type {HTMLElement} */ (app).querySelector("[data-connection]"));
  node.textContent = text;
  node.hidden = !text;
}

/** @param {Frame} frame */
function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
    case "snapshot":
      if (frame.snapshot) renderSnapshot(frame.snapshot);
      break;
    case "flag":
      showAlert(frame);
      break;
    default:
      break;
  }
}

if (app) {
  setUpOptions(app);
  const socket = new ReconnectingSocket({
    path: "/ws/supervision",
    hello: () => ({ type: "hello", v: 1 }),
    onFrame,
    onUp: () => setConnection(""),
    onDown: () => setConnection(texts.reconnecting),
    onFinal: () => {
      setConnection("");
      $("signed-out").hidden = false;
    },
    pingEveryMs: 20000,
    staleAfterMs: 45000,
  });
  socket.start();
}
