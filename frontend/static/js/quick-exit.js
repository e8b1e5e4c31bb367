// @ts-check
// Quick exit: a button and the Escape key replace this page with a neutral site.
// The platform also never adds entries to the browser history (internal links replace the
// current entry), so after a quick exit the Back button cannot lead back into it.

const exitUrl = document.body.dataset.quickExitUrl || "https://www.google.be";

/** @param {Event} [event] */
function quickExit(event) {
  if (event) event.preventDefault();
  try {
    sessionStorage.clear();
  } catch (_) {
    // Storage may be disabled; leaving quickly matters more.
  }
  document.title = "";
  document.body.hidden = true;
  window.location.replace(exitUrl);
}

/** @param {URL} url */
function samePageTarget(url) {
  // A link to a spot on this page (the skip link): no navigation, so no history entry.
  if (!url.hash || url.pathname !== window.location.pathname || url.search !== window.location.search) {
    return null;
  }
  return document.getElementById(decodeURIComponent(url.hash.slice(1)));
}

/** @param {HTMLAnchorElement | null} anchor */
function isInternalLink(anchor) {
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return false;
  if (anchor.hasAttribute("data-quick-exit")) return false;
  const url = new URL(anchor.href, window.location.href);
  return url.origin === window.location.origin;
}

document.addEventListener("click", (event) => {
  if (!(event.target instanceof Element)) return;
  const anchor = event.target.closest("a");
  if (!anchor) return;
  if (anchor.hasAttribute("data-quick-exit")) {
    quickExit(event);
    return;
  }
  const modified = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
  if (!modified && event.button === 0 && isInternalLink(anchor)) {
    event.preventDefault();
    const target = samePageTarget(new URL(anchor.href, window.location.href));
    if (target) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
      return;
    }
    window.location.replace(anchor.href);
  }
});

const escapeExits = document.body.dataset.escapeExit !== "off";

document.addEventListener("keydown", (event) => {
  if (!escapeExits) return;
  if (event.key === "Escape" && !event.defaultPrevented && !event.isComposing) quickExit(event);
});
