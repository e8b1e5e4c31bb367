// @ts-check
// The visitor page's HTTP calls: a visitor token (made on first use, renewed once when
// the server forgot it) and starting a conversation. Errors come back in the API's shape.

import { save, state, texts } from "./chat-page.js";

/**
 * An API error as the page handles it.
 * @typedef {object} ApiFailure
 * @property {number} status
 * @property {string} code
 * @property {string} [message]
 * @property {Record<string, any>} [details]
 */

/**
 * The error the API sent, or a generic one when the body is not the API's JSON.
 * @param {Response} response
 * @returns {Promise<ApiFailure>}
 */
export async function apiError(response) {
  try {
    const body = await response.json();
    if (body && body.error) return { status: response.status, ...body.error };
  } catch (_) {
    // Not JSON.
  }
  return { status: response.status, code: "error", message: texts.error_generic };
}

export function bearer() {
  return { Authorization: `Bearer ${state.store.token}`, Accept: "application/json" };
}

async function ensureToken() {
  if (state.store.token) return;
  const response = await fetch("/api/visitors", {
    method: "POST",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw await apiError(response);
  const body = await response.json();
  save({ token: body.token });
}

/**
 * POST the form; resolves to {conversation_id, status}.
 * @param {Record<string, unknown>} values
 * @param {boolean} [retried]
 * @returns {Promise<{conversation_id: string, status: string}>}
 */
export async function postConversation(values, retried = false) {
  await ensureToken();
  const response = await fetch("/api/chat/conversations", {
    method: "POST",
    headers: { ...bearer(), "Content-Type": "application/json" },
    body: JSON.stringify(values),
  });
  if (response.status === 401 && !retried) {
    // The token expired (or the server forgot it): get a new one, once.
    save({ token: null });
    return postConversation(values, true);
  }
  if (!response.ok) throw await apiError(response);
  return response.json();
}
