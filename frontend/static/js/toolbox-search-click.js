// @ts-check
// Tells the toolbox which result of a search was opened, so editors see the searches that
// people rarely click (/console/toolbox/zoekopdrachten). Only the search words and the
// tool's slug are sent, as a form post the browser delivers even while the next page
// loads (navigator.sendBeacon); the server keeps counts, never who clicked.

const ENDPOINT = "/toolbox/zoekklik";
const TOOL_PATH = /^\/toolbox\/([a-z0-9]+(?:-[a-z0-9]+)*)$/;
// The result links; the catalogue's list of tools, or any element marked for it.
const RESULT_LINKS = ".tool-list a[href], [data-search-results] a[href]";

/**
 * Send one click on a result of the search `query`.
 * @param {string} query what was searched for
 * @param {string} slug the opened tool's slug
 * @returns {boolean} whether the browser took it
 */
export function sendSearchClick(query, slug) {
  const body = new URLSearchParams({ q: query, tool: slug });
  if (typeof navigator.sendBeacon === "function" && navigator.sendBeacon(ENDPOINT, body)) {
    return true;
  }
  fetch(ENDPOINT, { method: "POST", body, keepalive: true, credentials: "same-origin" }).catch(
    () => undefined,
  );
  return true;
}

/**
 * The tool slug a result link points to, or "" for any other link.
 * @param {HTMLAnchorElement} link
 * @returns {string}
 */
export function toolSlug(link) {
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin) {
    return "";
  }
  const match = TOOL_PATH.exec(url.pathname);
  return match ? match[1] : "";
}

/**
 * Count a click (or a middle click, which opens a tab) on a result while a search shows.
 * @param {ParentNode & EventTarget} root where the results are
 * @param {string} query the search shown (the page's `q`)
 */
export function watchResultClicks(root, query) {
  if (!query.trim()) {
    return;
  }
  /** @param {Event} event */
  const onClick = (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const link = target?.closest(RESULT_LINKS);
    if (!(link instanceof HTMLAnchorElement)) {
      return;
    }
    const slug = toolSlug(link);
    if (slug) {
      sendSearchClick(query, slug);
    }
  };
  root.addEventListener("click", onClick);
  root.addEventListener("auxclick", onClick);
}

watchResultClicks(document, new URLSearchParams(window.location.search).get("q") ?? "");
