// @ts-check
// The console's one connection to /ws/console, shared by the waiting list and the chat
// panels. console-chat.js opens it; until then nothing is sent.

/** @typedef {import("./reconnecting-socket.js").ReconnectingSocket} ReconnectingSocket */

/** @type {ReconnectingSocket | null} */
let socket = null;

/** @param {ReconnectingSocket} connected */
export function useSocket(connected) {
  socket = connected;
}

export function currentSocket() {
  return socket;
}

/**
 * Send a frame; false when there is no connection right now (the caller says so or
 * resends after the reconnect).
 * @param {object} frame
 */
export function send(frame) {
  return Boolean(socket && socket.send(frame));
}
