// Turn the room form into a navigation to /chat/<room>/.
document.getElementById("open-room").addEventListener("submit", (event) => {
  event.preventDefault();
  const room = document.getElementById("room-name").value.trim();
  if (room) window.location.href = `/chat/${encodeURIComponent(room)}/`;
});
