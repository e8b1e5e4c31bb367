// Shared by the counsellor tools (console-tools.js, console-canned.js, console-outcome.js):
// the page's texts and CSRF token, a small JSON client and a DOM helper.

import { fill, readTexts } from "./chat-socket.js";

const data = readTexts("console-tools-data");
export const texts = data.texts || {};
const csrf = data.csrf || "";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || texts.error_generic || "");
    this.status = status;
    this.code = error.code || "";
    this.fields = (error.details && error.details.fields) || {};
  }
}

/** JSON over fetch with the CSRF header; throws ApiError with the server's Dutch message. */
export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw new ApiError(0, null);
  }
  let parsed = null;
  try {
    parsed = await response.json();
  } catch (_) {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401) error.message = texts.signed_out || error.message;
    throw error;
  }
  return parsed;
}

/** An element with attributes (and text, only ever as textContent). */
export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "className") node.className = value;
    else if (name === "hidden") node.hidden = Boolean(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

const TIME = new Intl.DateTimeFormat(document.documentElement.lang || "nl-BE", {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : TIME.format(date);
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

export { fill };
