// @ts-check
// The receipts this side sends for the other side's messages, on the visitor's page and
// for every chat in the console: "delivered" as soon as a message arrives, "read" once it
// is on a screen someone looks at. The server takes "read" to mean "delivered" as well.

/**
 * @typedef {object} ReceiptOptions
 * @property {() => {send(frame: object): boolean} | null} socket  the connection, if any
 * @property {() => number} highestIncoming  the other side's latest seq in the log
 * @property {() => boolean} isSeen  whether the messages are on screen and the page is seen
 * @property {Record<string, unknown>} [fields]  more fields for each frame (the console's
 *   conversation_id)
 */

const BATCH_MS = 100;

export class ReceiptSender {
  /** @param {ReceiptOptions} options */
  constructor(options) {
    this.options = options;
    this.sentDelivered = 0;
    this.sentRead = 0;
    /** @type {number | undefined} */
    this.timer = undefined;
  }

  /** A message came in: send soon, one receipt for a burst of messages. */
  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  cancel() {
    clearTimeout(this.timer);
  }

  /** A new conversation: nothing was acknowledged in it yet. */
  reset() {
    this.sentDelivered = 0;
    this.sentRead = 0;
  }

  /** Send what the other side does not know yet (now visible, connected again, …). */
  flush() {
    const socket = this.options.socket();
    const top = this.options.highestIncoming();
    if (!socket || !top) return;
    // One receipt at a time: "read" when the message is on screen, else "delivered".
    if (this.options.isSeen() && top > this.sentRead) {
      if (socket.send(this.frame("read", top))) {
        this.sentRead = top;
        this.sentDelivered = Math.max(this.sentDelivered, top);
      }
    } else if (top > this.sentDelivered && socket.send(this.frame("delivered", top))) {
      this.sentDelivered = top;
    }
  }

  /**
   * @param {"read" | "delivered"} kind
   * @param {number} seq
   */
  frame(kind, seq) {
    return { type: "receipt", ...this.options.fields, kind, seq };
  }
}
