// Small behaviours htmx doesn't cover; every page works without them.
document.addEventListener("submit", (event) => {
  // A plain form (the login redirect) shows it is busy while the browser navigates away.
  const form = event.target;
  if (form.hasAttribute("data-busy")) form.setAttribute("aria-busy", "true");
});
document.addEventListener("htmx:afterSettle", (event) => {
  // A new step arrived: move focus to its heading so keyboard and screen-reader users know where they are.
  if (event.detail.target && event.detail.target.id === "exact") {
    const heading = document.querySelector("#exact h1");
    if (heading) heading.focus();
  }
});
