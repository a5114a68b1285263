// OutSmart's side of the contract: trust only the app's origin and our own iframe, then act on the message.
const appOrigin = document.body.dataset.appOrigin;
const frame = document.getElementById("exact-frame");
const badge = document.getElementById("host-status");
const log = document.getElementById("host-messages");
window.exactMessages = [];

const STATES = {
  not_connected: "Niet verbonden", connected: "Ingelogd, nog niet opgeslagen", saved: "Verbonden",
  expired: "Authenticatie verlopen", disconnected: "Verbinding verbroken", needs_attention: "Actie nodig",
};

window.addEventListener("message", (event) => {
  if (event.origin !== appOrigin || event.source !== frame.contentWindow) return;
  const message = event.data || {};
  window.exactMessages.push(message);
  const item = document.createElement("li");
  item.textContent = JSON.stringify(message);
  log.appendChild(item);
  if (message.type === "exact:resize" && Number.isFinite(message.height)) frame.style.height = `${Math.max(message.height, 200)}px`;
  if ((message.type === "exact:status" || message.type === "exact:ready") && message.state) {
    badge.textContent = STATES[message.state] || message.state;
    badge.dataset.state = message.state;
  }
});
