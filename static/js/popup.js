// The login popup's own pages (our origin, a top-level window that shares nothing with OutSmart's iframe).
// Before going to Exact, and again on the way back when the browser kept no cookie, the popup asks the iframe that
// opened it for the login's secret: only that iframe has it (it came in the iframe's own page, never in a URL), so a
// popup address opened anywhere else goes nowhere. At the end it tells the iframe how the login went, then closes.
document.addEventListener("DOMContentLoaded", () => {
  const data = document.body.dataset;
  const appOrigin = data.appOrigin;
  const opener = window.opener;

  if (data.handoffSubmit !== undefined && window.history.replaceState) {
    // Back from Exact without this window's cookie: the code travels on in the form, not in the address bar.
    window.history.replaceState(null, "", window.location.pathname);
  }

  if (data.handoff === "ask") {
    const form = document.querySelector("[data-handoff-form]");
    const button = form.querySelector("button");
    const missing = () => {
      document.querySelector("[data-handoff-missing]").hidden = false;
      const waiting = document.querySelector("[data-handoff-waiting]");
      if (waiting) waiting.hidden = true;
    };
    if (!opener) return missing();
    let answered = false;
    window.addEventListener("message", (event) => {
      // Only the window that opened this one, on our own origin, about this attempt.
      if (event.source !== opener || event.origin !== appOrigin || !event.data) return;
      if (event.data.type !== "exact:handoff" || event.data.attempt !== data.attempt || answered) return;
      answered = true;
      form.elements.handoff.value = event.data.secret;
      if (data.handoffSubmit !== undefined) return form.submit();
      button.disabled = false;
      const waiting = document.querySelector("[data-handoff-waiting]");
      if (waiting) waiting.hidden = true;
      button.focus();
    });
    try {
      opener.postMessage({ type: "exact:handoff-request", attempt: data.attempt }, appOrigin);
    } catch (error) {
      return missing();
    }
    setTimeout(() => { if (!answered) missing(); }, 4000);
    return;
  }

  if (!opener || !data.attempt) return;  // no opener: the iframe's polling finishes the job
  if (data.outcome === "aborted") return;  // cancelled in OutSmart, which has moved on: stay open to be read
  try {
    opener.postMessage({ type: "exact:login", attempt: data.attempt, outcome: data.outcome }, appOrigin);
    setTimeout(() => window.close(), 800);
  } catch (error) {
    // The opener navigated elsewhere; stay open so the admin can read the result.
  }
});
