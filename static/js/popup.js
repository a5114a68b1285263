// The login popup's last page: tell the OutSmart iframe that opened it (our own origin), then close.
// Only the attempt id and its outcome travel; the iframe asks the server for the rest.
document.addEventListener("DOMContentLoaded", () => {
  const data = document.body.dataset;
  if (!window.opener || !data.attempt) return;  // no opener: the iframe's polling finishes the job
  try {
    window.opener.postMessage({ type: "exact:login", attempt: data.attempt, outcome: data.outcome }, data.appOrigin);
    setTimeout(() => window.close(), 800);
  } catch (error) {
    // The opener navigated elsewhere; stay open so the admin can read the result.
  }
});
