// @ts-check
// "Stel je vraag": a button that copies the pick-up code. Without JavaScript (or without a
// clipboard) the button stays hidden and the page says to write the code down.
const status = document.getElementById("copy-status");
for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-copy]"))) {
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy || "");
      if (status) status.textContent = button.dataset.copied || "";
    } catch (_) {
      // Refused by the browser: the code stays on screen to write down.
    }
  });
}
