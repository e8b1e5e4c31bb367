// @ts-check
// "Lees voor": reads the page's main text aloud with the browser's own speech synthesis, in
// the page's language. Nothing leaves the browser: no network service is involved. The
// button stays hidden where the browser cannot speak.

const button = /** @type {HTMLButtonElement | null} */ (document.querySelector("[data-read-aloud]"));
const label = button?.querySelector("[data-read-aloud-label]");

/** The readable blocks of <main>, in order; hidden parts and controls are skipped. */
function readableTexts() {
  const main = document.getElementById("main");
  if (!main) return [];
  const blocks = main.querySelectorAll("h1, h2, h3, p, li, label, legend, dt, dd, td, th");
  /** @type {string[]} */
  const texts = [];
  for (const block of blocks) {
    const element = /** @type {HTMLElement} */ (block);
    if (element.closest("[hidden], [aria-hidden='true'], .visually-hidden, [data-no-read-aloud]")) continue;
    // A list item or label inside another readable block is read with that block.
    if (element.parentElement?.closest("p, li, label, dd, td")) continue;
    const text = element.innerText.replace(/\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  return texts;
}

function setSpeaking(/** @type {boolean} */ speaking) {
  if (!button || !label) return;
  button.setAttribute("aria-pressed", String(speaking));
  label.textContent = (speaking ? button.dataset.stopLabel : button.dataset.startLabel) || "";
}

function speak() {
  const language = document.documentElement.lang || "nl-BE";
  const texts = readableTexts();
  texts.forEach((text, index) => {
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = language;
    utterance.rate = 0.95;
    if (index === texts.length - 1) utterance.addEventListener("end", () => setSpeaking(false));
    window.speechSynthesis.speak(utterance);
  });
  setSpeaking(texts.length > 0);
}

if (button && "speechSynthesis" in window) {
  button.hidden = false;
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => {
    if (window.speechSynthesis.speaking || button.getAttribute("aria-pressed") === "true") {
      window.speechSynthesis.cancel();
      setSpeaking(false);
    } else {
      speak();
    }
  });
  // Leaving the page (or a quick exit) stops the voice at once.
  window.addEventListener("pagehide", () => window.speechSynthesis.cancel());
}
