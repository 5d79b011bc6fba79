// fabcom: the little behaviour htmx does not cover. No inline script (the CSP forbids it).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
// After htmx swaps a page of results, keep the focus where the user was typing.
document.addEventListener("htmx:afterSwap", (event) => {
  const error = event.detail.target.querySelector("[aria-invalid=true]");
  if (error) error.focus();
});
