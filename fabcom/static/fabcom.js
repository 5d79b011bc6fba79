// fabcom: the little behaviour htmx does not cover. No inline script (the CSP forbids it).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
// After htmx swaps a page of results, keep the focus where the user was typing.
document.addEventListener("htmx:afterSwap", (event) => {
  const error = event.detail.target.querySelector("[aria-invalid=true]");
  if (error) error.focus();
});
// An htmx request that failed (403, 404, 500: htmx swaps nothing) or could not reach the
// server: say so where flash messages go, instead of the page silently doing nothing.
// The server answers htmx errors with a short fragment (templates/_error.html).
document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const box = document.getElementById("flashes");
  if (!box) return;
  if ((xhr.getResponseHeader("Content-Type") || "").startsWith("text/html")) {
    box.innerHTML = xhr.responseText;
  } else {
    showError(box, xhr.responseText || box.dataset.failed);
  }
});
document.addEventListener("htmx:sendError", () => {
  const box = document.getElementById("flashes");
  if (box) showError(box, box.dataset.offline);
});
function showError(box, text) {
  const line = document.createElement("p");
  line.className = "flash flash-error";
  line.setAttribute("role", "alert");
  line.textContent = text;
  box.replaceChildren(line);
}
