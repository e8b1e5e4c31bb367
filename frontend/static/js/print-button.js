// @ts-check
// A "print" button for pages meant for paper. Without JavaScript the page says to use the
// browser's own print command, so the button stays hidden until it can work.
for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-print]"))) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
