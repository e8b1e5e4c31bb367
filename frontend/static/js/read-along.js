// Silent read-along of one chat (/console/toezicht/gesprek/…): the server rendered the
// history; /ws/supervision streams what follows. The whisper form posts without JavaScript
// and goes over the socket with it. Protocol: docs/chat-protocol.md, "Supervision socket".

import { ChatSocket, MessageLog, clockTime, fill, readTexts } from "./chat-socket.js";

const texts = readTexts("read-along-texts");
const app = document.getElementById("read-along-app");

function start() {
  const conversationId = app.dataset.conversation;
  const counsellor = app.dataset.counsellor || "";
  const list = document.getElementById("read-list");
  const scroller = list.closest(".msg-scroll");
  const connection = app.querySelector("[data-connection]");
  const form = document.getElementById("whisper-form");
  const status = document.getElementById("whisper-status");
  let ended = false;

  // "self" is nobody: a reader sees both sides as others, each with its author.
  const log = new MessageLog({
    list,
    self: "reader",
    texts,
    onGap: () => socket.reconnectNow(),
  });
  for (const li of list.querySelectorAll("li[data-seq]")) {
    const seq = Number(li.dataset.seq);
    log.bySeq.set(seq, li);
    log.note(seq);
  }
  scroller.scrollTop = scroller.scrollHeight;

  function setConnection(text) {
    connection.textContent = text;
    connection.hidden = !text;
  }

  function end() {
    if (ended) return;
    ended = true;
    app.querySelector("[data-ended]").hidden = false;
    if (form) form.hidden = true;
    socket.stop();
  }

  function onFrame(frame) {
    if (frame.conversation_id && frame.conversation_id !== conversationId) return;
    switch (frame.type) {
      case "message": {
        const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
        if (log.message(frame) !== "dup") {
          const li = log.bySeq.get(Number(frame.seq));
          if (li) li.classList.add(`msg-from-${frame.sender}`);
          const empty = document.getElementById("read-empty");
          if (empty) empty.hidden = true;
        }
        if (atBottom) scroller.scrollTop = scroller.scrollHeight;
        break;
      }
      case "status": {
        const node = app.querySelector("[data-status]");
        const label = texts.statuses[frame.status] || frame.status;
        node.textContent = frame.counsellor ? `${label} · ${frame.counsellor}` : label;
        if (frame.status === "ended" || frame.status === "abandoned") end();
        break;
      }
      case "whispered": {
        const item = document.createElement("li");
        const label = document.createElement("p");
        label.className = "whisper-label";
        label.textContent = `${texts.you_whispered} (${clockTime(frame.at)})`;
        const body = document.createElement("p");
        body.textContent = frame.body;
        item.append(label, body);
        document.getElementById("whisper-sent").append(item);
        status.textContent = fill(texts.whispered, { name: counsellor });
        break;
      }
      case "error":
        if (frame.code === "conversation_closed") end();
        else if (status) status.textContent = frame.message || texts.error_generic;
        break;
      default:
        break;
    }
  }

  const socket = new ChatSocket({
    path: "/ws/supervision",
    hello: () => ({ type: "hello", v: 1 }),
    onFrame,
    onUp: () => {
      setConnection("");
      socket.send({ type: "read_along", conversation_id: conversationId, last_seq: log.lastSeq });
    },
    onDown: () => setConnection(texts.reconnecting),
    onFinal: () => setConnection(texts.signed_out),
    pingEveryMs: 20000,
    staleAfterMs: 45000,
  });

  if (form) {
    form.addEventListener("submit", (event) => {
      const textarea = form.querySelector("textarea");
      const body = textarea.value.trim();
      if (!body) {
        event.preventDefault();
        textarea.focus();
        return;
      }
      // Over the socket when it is up; otherwise the form posts as it would without JS.
      if (socket.send({ type: "whisper", conversation_id: conversationId, body })) {
        event.preventDefault();
        textarea.value = "";
        textarea.focus();
      }
    });
  }
  socket.start();
}

if (app && app.dataset.open === "yes") start();
