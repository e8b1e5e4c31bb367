// @ts-check
// The message box, on the visitor's page and in every console panel: the characters-left
// counter, the typing frames this side sends and the other side's typing indicator.

import { fill } from "./page-texts.js";

/** @typedef {import("./page-texts.js").Texts} Texts */

/**
 * Remaining characters, shown near the limit; announced only at a few thresholds so a
 * screen reader is not interrupted on every key.
 * @param {HTMLTextAreaElement} textarea
 * @param {HTMLElement} counter
 * @param {HTMLElement} announcer  a live region
 * @param {Texts} texts
 * @param {number} max
 * @returns {() => void}  updates the counter (after the text was changed from code)
 */
export function bindCounter(textarea, counter, announcer, texts, max) {
  const thresholds = [500, 100, 0];
  /** @type {number | null} */
  let announced = null;
  const update = () => {
    const left = max - textarea.value.length;
    const near = left <= 500;
    counter.hidden = !near;
    counter.textContent = fill(left === 1 ? texts.chars_left_one : texts.chars_left, { n: left });
    counter.classList.toggle("is-low", left <= 100);
    const found = thresholds.find((limit) => left <= limit && left > limit - 100);
    const level = found === undefined ? null : found;
    if (level !== null && level !== announced) {
      announced = level;
      announcer.textContent = counter.textContent;
    } else if (!near) {
      announced = null;
    }
  };
  textarea.addEventListener("input", update);
  update();
  return update;
}

/**
 * Typing indicator frames: on while typing (refreshed every 3 s), off after 4 s idle.
 * @param {(active: boolean) => void} sendTyping
 */
export function typingNotifier(sendTyping) {
  let active = false;
  let lastSent = 0;
  /** @type {number | undefined} */
  let idle;
  const stop = () => {
    clearTimeout(idle);
    if (active) {
      active = false;
      sendTyping(false);
    }
  };
  return {
    /** @param {boolean} hasText */
    input(hasText) {
      if (!hasText) {
        stop();
        return;
      }
      const now = Date.now();
      if (!active || now - lastSent > 3000) {
        active = true;
        lastSent = now;
        sendTyping(true);
      }
      clearTimeout(idle);
      idle = setTimeout(stop, 4000);
    },
    stop,
  };
}

/**
 * "An is aan het typen…", hidden again if no update comes within 6 s (a lost "off" frame).
 * @param {HTMLElement} node
 * @param {Texts} texts
 * @returns {(active: boolean, name?: string) => void}
 */
export function typingDisplay(node, texts) {
  /** @type {number | undefined} */
  let timer;
  return (active, name) => {
    clearTimeout(timer);
    if (active) {
      node.textContent = fill(texts.typing, { name: name || "" });
      node.hidden = false;
      timer = setTimeout(() => {
        node.hidden = true;
      }, 6000);
    } else {
      node.hidden = true;
    }
  };
}
