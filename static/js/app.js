// Behaviour htmx doesn't cover: the login popup, focus after a swap, and the messages to OutSmart's page.
// Every page still works without this file.
(() => {
  const embedded = window.parent !== window;
  const hostOrigin = document.body.dataset.hostOrigin;
  let popup = null;
  let lastStatus = null;
  let loginStarted = null;  // the login URL the popup was sent to: polling swaps in a new root every 2 s
  const handoffs = {};  // attempt id -> the secret only this iframe may hand its popup (it is in no later swap)
  let popupWaits = false;  // opened in the click, still blank: waiting to hear where to go
  let focusAfter = null;  // the id of what the clicked button loads ("Filteren op …", "Vernieuwen"): focused after
  let loginTimer = null;  // warns before the login's time is over

  // --- Host contract: exact:ready, exact:resize {height}, exact:status {state, division[, reason]} ---
  function toHost(message) {
    if (embedded && hostOrigin) window.parent.postMessage(message, hostOrigin);
  }
  function reportSize() {
    // The body's own height: the document's would never shrink below the iframe's current height.
    toHost({ type: "exact:resize", height: Math.ceil(document.body.getBoundingClientRect().height) });
  }
  function currentStatus() {
    const root = document.getElementById("exact");
    if (!root || !root.dataset.exactState) return null;
    const status = { state: root.dataset.exactState, division: root.dataset.exactDivision ? Number(root.dataset.exactDivision) : null };
    if (root.dataset.exactReason) status.reason = root.dataset.exactReason;  // only while it needs attention
    return status;
  }
  function reportStatus() {
    const status = currentStatus();
    const key = JSON.stringify(status);
    if (status && key !== lastStatus) toHost({ type: "exact:status", ...status });
    lastStatus = key;
  }

  // --- Login popup: opened in the click itself (popup blockers allow nothing later), then pointed at our start URL ---
  document.addEventListener("submit", (event) => {
    const form = event.target;
    focusAfter = (event.submitter && event.submitter.dataset.focusAfter) || null;
    if (form.hasAttribute("data-busy")) form.setAttribute("aria-busy", "true");
    if (form.hasAttribute("data-login-cancel")) {
      // Annuleren: the server ends the attempt (the form posts on); the popup has nothing left to do.
      popupWaits = false;
      if (popup && !popup.closed) popup.close();
      return;
    }
    if (!embedded || !form.hasAttribute("data-login-form") || !window.htmx) return;
    event.preventDefault();
    popup = window.open("", "exact-login", "popup,width=520,height=720");
    popupWaits = true;
    htmx.ajax("POST", form.action, { source: form, target: "#exact", swap: "outerHTML", values: { popup: "1" } });
  });

  function followLogin(root) {
    if (root.dataset.loginAttempt && root.dataset.loginHandoff) handoffs[root.dataset.loginAttempt] = root.dataset.loginHandoff;
    delete root.dataset.loginHandoff;
    const loginUrl = root.dataset.loginUrl;
    if (!loginUrl && popupWaits) {
      // No login was started (a refusal or a form error, shown in the iframe): the blank popup has nothing to show.
      popupWaits = false;
      if (popup && !popup.closed) popup.close();
      return;
    }
    if (!loginUrl || loginStarted === loginUrl) return;
    loginStarted = loginUrl;
    popupWaits = false;
    if (!popup || popup.closed) {
      // No window opened: say so instead of "log in in the opened window", with the link that opens a tab.
      document.getElementById("popup-blocked").hidden = false;
      document.getElementById("login-instructions").hidden = true;
      return;
    }
    popup.location.href = loginUrl;
    const statusUrl = root.dataset.loginStatus;
    const watch = setInterval(() => {
      const waiting = document.querySelector("#exact[data-login-status]");
      if (!waiting) return clearInterval(watch);
      if (popup.closed) {
        clearInterval(watch);
        // Give the callback a moment to land; the server only marks the attempt closed if it is still open.
        setTimeout(() => htmx.ajax("GET", statusUrl + "?closed=1", { target: "#exact", swap: "outerHTML" }), 1500);
      }
    }, 700);
  }

  window.addEventListener("message", (event) => {
    if (event.origin !== window.location.origin || !event.data) return;
    if (event.data.type === "exact:handoff-request") {
      // Only a window this iframe opened (the popup, or the new tab of the "popup blocked" link) gets the secret.
      const secret = handoffs[event.data.attempt];
      let ours = false;
      try { ours = event.source && event.source.opener === window; } catch (error) { ours = false; }
      if (secret && ours) {
        event.source.postMessage({ type: "exact:handoff", attempt: event.data.attempt, secret }, window.location.origin);
      }
      return;
    }
    if (event.data.type !== "exact:login") return;
    const waiting = document.querySelector("#exact[data-login-status]");
    if (waiting && window.htmx) {
      htmx.ajax("GET", waiting.dataset.loginStatus + "?waiting=1", { target: "#exact", swap: "outerHTML" });
    }
  });

  // --- The login's time limit: a warning in the step's status region, and its "Opnieuw beginnen", shortly before
  // the end; once it is over the server ends the attempt and the next status check swaps in what happened ---
  function watchLoginTime(root) {
    clearTimeout(loginTimer);
    const left = Number(root.dataset.loginSecondsLeft);
    const before = Number(root.dataset.loginWarnBefore);
    if (!root.dataset.loginStatus || !(left > 0)) return;
    const attempt = root.dataset.loginAttempt;
    loginTimer = setTimeout(() => {
      const shown = document.querySelector("#exact[data-login-status]");
      if (!shown || shown.dataset.loginAttempt !== attempt) return;
      const warning = document.getElementById("login-time-warning");
      warning.textContent = warning.dataset.warning;
      warning.classList.add("alert", "alert--info");
      document.getElementById("login-restart").hidden = false;
    }, Math.max(0, left - before) * 1000);
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    const root = document.getElementById("exact");
    const target = event.detail.target;
    if (root && target && target.id === "exact") {
      // A new step arrived: move focus to its heading so keyboard and screen-reader users know where they are; after
      // a button that loaded part of the step (a filter's choices, the lists again), to that part instead.
      // The login's waiting step arrives once: its status checks swap nothing until something has happened.
      const loaded = focusAfter && document.getElementById(focusAfter);
      const heading = root.querySelector("h1");
      if (loaded) loaded.focus();
      else if (heading) heading.focus();
      followLogin(root);
      watchLoginTime(root);
    }
    focusAfter = null;
    if (target && target.id === "administration-list") {
      // Search results or another page: say how many, and after paging keep the keyboard in the list.
      const count = document.getElementById("administration-count");
      const status = document.getElementById("search-status");
      if (count && status) status.textContent = count.textContent;
      const source = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (count && source && source.closest && !document.body.contains(source)) count.focus();
    }
    reportStatus();
    reportSize();
  });

  document.addEventListener("DOMContentLoaded", () => {
    const status = currentStatus();
    lastStatus = JSON.stringify(status);
    toHost({ type: "exact:ready", ...(status || {}) });
    reportSize();
    if (window.ResizeObserver) new ResizeObserver(reportSize).observe(document.body);
    const root = document.getElementById("exact");
    if (root) followLogin(root);
    if (root) watchLoginTime(root);
    watchSessionTime();
  });

  // --- The visit's time limit (inside OutSmart): warn before it ends; "Langer blijven" gets a freshly signed copy of
  // the session for every later request, so the visit goes on and nothing typed is lost ---
  function watchSessionTime() {
    const box = document.getElementById("session-time");
    if (!box) return;
    const message = document.getElementById("session-message");
    const extend = document.getElementById("session-extend");
    let timers = [];
    let before = null;  // where the admin was before going to the button: the focus goes back there after it
    extend.addEventListener("focusin", (event) => { before = event.relatedTarget; });
    const say = (text, kind) => {
      message.textContent = text;
      message.className = text ? `alert alert--${kind}` : "";
    };
    const schedule = (seconds) => {
      timers.forEach(clearTimeout);
      timers = [
        setTimeout(() => { say(box.dataset.warning, "info"); extend.hidden = false; },
                   Math.max(0, seconds - Number(box.dataset.warnBefore)) * 1000),
        setTimeout(() => { say(box.dataset.ended, "error"); extend.hidden = true; }, seconds * 1000),
      ];
    };
    extend.querySelector("button").addEventListener("click", async () => {
      const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      let answer = null;
      try {
        const response = await fetch(box.dataset.extendUrl, { method: "POST", headers, credentials: "same-origin" });
        if (response.ok) answer = await response.json();
      } catch (error) {
        answer = null;
      }
      if (!answer || !answer.session) {
        timers.forEach(clearTimeout);
        say(box.dataset.ended, "error");
        extend.hidden = true;
        message.focus();
        return;
      }
      headers["X-Session"] = answer.session;
      document.body.setAttribute("hx-headers", JSON.stringify(headers));
      document.querySelectorAll("input[name=_session]").forEach((input) => { input.value = answer.session; });
      extend.hidden = true;
      say(box.dataset.extended, "ok");
      const heading = document.querySelector("#exact h1");
      if (before && document.body.contains(before)) before.focus();
      else if (heading) heading.focus();
      schedule(answer.seconds);
    });
    schedule(Number(box.dataset.secondsLeft));
  }
})();
