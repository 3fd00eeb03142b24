// The room page: one websocket to /ws/chat/<room>/, reconnecting with backoff.
// Messages are inserted with textContent, never as HTML.
(() => {
  const room = document.body.dataset.room;
  const list = document.getElementById("messages");
  const status = document.getElementById("status");
  const errorLine = document.getElementById("error");
  const form = document.getElementById("send");
  const textInput = document.getElementById("text");
  const authorInput = document.getElementById("author");
  const seen = new Set();
  let socket = null;
  let retryDelay = 500;

  function show(message) {
    if (seen.has(message.id)) return; // history and live delivery may overlap on join
    seen.add(message.id);
    const item = document.createElement("li");
    item.className = "message";
    item.dataset.id = message.id;
    const author = document.createElement("strong");
    author.textContent = message.author;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    item.append(author, ": ", text);
    list.append(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${room}/`);
    socket.addEventListener("open", () => {
      status.textContent = "connected";
      document.body.dataset.connected = "true";
      retryDelay = 500;
    });
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "history") frame.messages.forEach(show);
      else if (frame.type === "message") show(frame);
      else if (frame.type === "error") errorLine.textContent = frame.error;
    });
    socket.addEventListener("close", () => {
      // Dynos restart daily and on every deploy; the next process picks the room up.
      status.textContent = `disconnected, retrying in ${retryDelay / 1000} s`;
      document.body.dataset.connected = "false";
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      errorLine.textContent = "not connected yet";
      return;
    }
    errorLine.textContent = "";
    socket.send(JSON.stringify({ text: textInput.value, author: authorInput.value }));
    textInput.value = "";
  });

  connect();
})();
