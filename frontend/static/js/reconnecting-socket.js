// @ts-check
// The chat's WebSocket client (visitor page, console, supervision): says hello, reconnects
// by itself and notices a dead connection. Protocol: docs/chat-protocol.md.

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10000;

// Close codes after which reconnecting cannot help: the page decides what to show.
export const FINAL_CLOSE_CODES = new Set([1000, 1008, 4001, 4003]);

/**
 * A frame from the server. Which fields it has depends on `type` (docs/chat-protocol.md);
 * the pages read each field defensively, so one loose shape serves every kind.
 * @typedef {{type: string} & Record<string, any>} Frame
 */

/**
 * @typedef {object} SocketOptions
 * @property {string} path
 * @property {() => object} hello  the first frame after every (re)connect
 * @property {(frame: Frame) => void} onFrame
 * @property {() => void} [onUp]  after the server's welcome
 * @property {(wasUp: boolean) => void} [onDown]  connection lost, retrying
 * @property {(code: number, reason: string) => void} [onFinal]  no more retries
 * @property {number} [pingEveryMs]  0 = no pings
 * @property {number} [staleAfterMs]  reconnect when nothing was heard this long (0 = never)
 */

/** @param {string} path */
export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${path}`;
}

/**
 * A WebSocket that says hello, reconnects with backoff (0.5 s doubling to 10 s, with
 * jitter) and notices a dead connection (offline event, missing pongs, a frozen tab).
 */
export class ReconnectingSocket {
  /** @param {SocketOptions} options */
  constructor(options) {
    /** @type {Required<SocketOptions>} */
    this.options = {
      pingEveryMs: 0,
      staleAfterMs: 0,
      onUp() {},
      onDown() {},
      onFinal() {},
      ...options,
    };
    /** @type {WebSocket | null} */
    this.ws = null;
    this.up = false;
    this.stopped = true;
    this.attempt = 0;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    /** @type {number | undefined} */
    this.pingTimer = undefined;
    this.lastHeard = 0;
    this.onOnline = () => {
      if (!this.isUp) this.reconnectNow();
    };
    this.onOffline = () => this.drop();
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.checkAlive();
    };
    /** @param {PageTransitionEvent} event */
    this.onPageShow = (event) => {
      if (event.persisted) this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("pageshow", this.onPageShow);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  /** Close for good (the conversation ended, the page is leaving). */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("pageshow", this.onPageShow);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.detach(1000);
    this.up = false;
  }

  get isUp() {
    return this.up && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Send a frame if connected; false when it could not go out (resend it after onUp).
   * @param {object} frame
   */
  send(frame) {
    if (!this.isUp || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch (_) {
      return false;
    }
  }

  /** Drop the connection now and come back at once (a gap in the messages, back online). */
  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    this.drop(0);
  }

  /**
   * The connection is (probably) gone: forget it, tell the page, retry after a backoff.
   * @param {number} [delay]  ms before the retry; the backoff decides when not given
   */
  drop(delay) {
    if (this.stopped) return;
    const wasUp = this.up;
    this.detach(4000);
    this.up = false;
    clearInterval(this.pingTimer);
    this.options.onDown(wasUp);
    this.schedule(delay);
  }

  checkAlive() {
    if (this.stopped) return;
    if (!this.ws) {
      this.reconnectNow();
      return;
    }
    const { staleAfterMs } = this.options;
    if (staleAfterMs && this.up && Date.now() - this.lastHeard > staleAfterMs) this.reconnectNow();
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.options.path));
    } catch (_) {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify(this.options.hello()));
      this.startPings();
    };
    ws.onmessage = (event) => {
      this.lastHeard = Date.now();
      this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      if (FINAL_CLOSE_CODES.has(event.code) && !this.stopped) {
        this.up = false;
        this.stop();
        this.options.onFinal(event.code, event.reason);
        return;
      }
      this.drop();
    };
    ws.onerror = () => {
      // A close event always follows; that is where the retry is decided.
    };
  }

  /** @param {unknown} data  one text frame as received */
  receive(data) {
    /** @type {Frame} */
    let frame;
    try {
      frame = JSON.parse(String(data));
    } catch (_) {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "welcome") {
      this.up = true;
      this.attempt = 0;
      this.options.onFrame(frame);
      this.options.onUp();
      return;
    }
    this.options.onFrame(frame);
  }

  startPings() {
    clearInterval(this.pingTimer);
    const { pingEveryMs, staleAfterMs } = this.options;
    if (!pingEveryMs) return;
    this.pingTimer = setInterval(() => {
      if (staleAfterMs && Date.now() - this.lastHeard > staleAfterMs) {
        this.reconnectNow();
        return;
      }
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ type: "ping" }));
      }
    }, pingEveryMs);
  }

  /** @param {number} code */
  detach(code) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
    try {
      ws.close(code);
    } catch (_) {
      // Already closing.
    }
  }

  /** @param {number} [delay] */
  schedule(delay) {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    let wait = delay;
    if (wait === undefined) {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
      wait = base / 2 + Math.random() * (base / 2);
      this.attempt += 1;
    }
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }
}
