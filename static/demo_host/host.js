// OutSmart's side of the contract: trust only the app's origin and our own iframe, then act on the message.
// Loaded in <head>, not deferred: the listener must exist before the iframe can post its first exact:ready.
window.exactMessages = [];

const STATES = {
  not_connected: "Niet verbonden", connected: "Ingelogd, nog niet opgeslagen", saved: "Verbonden",
  expired: "Authenticatie verlopen", disconnected: "Verbinding verbroken", needs_attention: "Actie nodig",
};

function logMessage(message) {
  const log = document.getElementById("host-messages");  // after the iframe: may not be parsed yet
  if (!log) return;
  const item = document.createElement("li");
  item.textContent = JSON.stringify(message);
  log.appendChild(item);
}

document.addEventListener("DOMContentLoaded", () => window.exactMessages.forEach(logMessage));

window.addEventListener("message", (event) => {
  const frame = document.getElementById("exact-frame");  // the iframe exists before it can post anything
  if (event.origin !== document.body.dataset.appOrigin || !frame || event.source !== frame.contentWindow) return;
  const message = event.data || {};
  window.exactMessages.push(message);
  if (document.readyState !== "loading") logMessage(message);  // before that, DOMContentLoaded logs it
  const badge = document.getElementById("host-status");
  if (message.type === "exact:resize" && Number.isFinite(message.height)) frame.style.height = `${Math.max(message.height, 200)}px`;
  if ((message.type === "exact:status" || message.type === "exact:ready") && message.state) {
    badge.textContent = STATES[message.state] || message.state;
    badge.dataset.state = message.state;
  }
});
