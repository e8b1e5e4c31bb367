// @ts-check
// Passkeys (WebAuthn): adding one on the security page, and using one as the login's
// second step. The server sends the options as JSON with base64url fields; this file turns
// them into the ArrayBuffers the browser wants, and the browser's answer back into JSON.
// Buttons stay hidden where the browser has no WebAuthn.

import { readTexts } from "./page-texts.js";

/** @param {string} text @returns {ArrayBuffer} */
function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

/** @param {ArrayBuffer | null} buffer @returns {string | null} */
function toBase64url(buffer) {
  if (!buffer) return null;
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {any} list */
function credentialList(list) {
  return (list || []).map((/** @type {any} */ item) => ({ ...item, id: fromBase64url(item.id) }));
}

/** @param {any} options @returns {PublicKeyCredentialCreationOptions} */
function creationOptions(options) {
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: credentialList(options.excludeCredentials),
  };
}

/** @param {any} options @returns {PublicKeyCredentialRequestOptions} */
function requestOptions(options) {
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: credentialList(options.allowCredentials),
  };
}

/** @param {PublicKeyCredential} credential */
function credentialJson(credential) {
  const response = /** @type {any} */ (credential.response);
  /** @type {Record<string, unknown>} */
  const body = { clientDataJSON: toBase64url(response.clientDataJSON) };
  if (response.attestationObject) {
    body.attestationObject = toBase64url(response.attestationObject);
    body.transports = typeof response.getTransports === "function" ? response.getTransports() : [];
  } else {
    body.authenticatorData = toBase64url(response.authenticatorData);
    body.signature = toBase64url(response.signature);
    body.userHandle = toBase64url(response.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: body,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

/** @param {string} url @param {unknown} body */
async function post(url, body) {
  const csrf = /** @type {HTMLInputElement | null} */ (document.querySelector("input[name=csrf_token]"));
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
    body: JSON.stringify(body),
  });
}

/** @param {Response} response */
async function failure(response) {
  try {
    const data = await response.json();
    return String(data?.error?.message || "");
  } catch (_) {
    return "";
  }
}

/**
 * Ask the server for options, let the browser make or use the passkey, send it back, and
 * follow where the server sends the page.
 * @param {HTMLElement} button
 */
async function run(button) {
  const texts = readTexts("passkey-texts");
  const status = document.getElementById(button.dataset.status || "passkey-status");
  const say = (/** @type {string} */ text) => {
    if (status) status.textContent = text;
  };
  const registering = button.dataset.passkey === "register";
  button.setAttribute("aria-disabled", "true");
  say(texts.waiting || "");
  try {
    const answer = await post(button.dataset.options || "", {});
    if (!answer.ok) return say((await failure(answer)) || texts.failed || "");
    const options = await answer.json();
    const credential = registering
      ? await navigator.credentials.create({ publicKey: creationOptions(options) })
      : await navigator.credentials.get({ publicKey: requestOptions(options) });
    if (!credential) return say(texts.failed || "");
    const nameField = /** @type {HTMLInputElement | null} */ (document.getElementById("passkey-name"));
    const json = credentialJson(/** @type {PublicKeyCredential} */ (credential));
    const body = registering ? { credential: json, name: nameField ? nameField.value : "" } : { credential: json };
    const result = await post(button.dataset.submit || "", body);
    if (result.ok && result.redirected) {
      window.location.assign(result.url);
      return;
    }
    say((await failure(result)) || texts.failed || "");
  } catch (_) {
    say(texts.cancelled || "");
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

if (window.PublicKeyCredential) {
  for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-passkey]"))) {
    button.hidden = false;
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-disabled") !== "true") run(button);
    });
  }
}
