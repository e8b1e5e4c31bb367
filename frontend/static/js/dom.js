// @ts-check
// DOM helpers shared by the pages. The element lookups only narrow types for the checker:
// they return what the template promises to be there and add no run-time checks, so a
// missing element still fails where it is used, as before.

/**
 * Replace an element's children (Element.replaceChildren is too new for older phones).
 * @param {Node} parent
 * @param {Iterable<Node>} children
 */
export function setChildren(parent, children) {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  for (const child of children) parent.appendChild(child);
}

/**
 * The element with this id, which the page's template always renders.
 * @param {string} id
 */
export function byId(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/**
 * The first element under root that matches, which the template always renders.
 * @param {ParentNode} root
 * @param {string} selector
 */
export function one(root, selector) {
  return /** @type {HTMLElement} */ (root.querySelector(selector));
}

/**
 * Every element under root that matches, as HTML elements.
 * @param {ParentNode} root
 * @param {string} selector
 */
export function all(root, selector) {
  return /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll(selector));
}

/**
 * The nearest element from an event's target up that matches (clicks on a button's icon).
 * @param {Event} event
 * @param {string} selector
 * @returns {HTMLElement | null}
 */
export function closestTarget(event, selector) {
  if (!(event.target instanceof Element)) return null;
  return /** @type {HTMLElement | null} */ (event.target.closest(selector));
}

/**
 * The detail of a CustomEvent (the console's plug-in events), {} when there is none.
 * @param {Event} event
 * @returns {Record<string, any>}
 */
export function eventDetail(event) {
  return /** @type {CustomEvent} */ (event).detail || {};
}
