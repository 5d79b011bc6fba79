// fabcom: the little behaviour htmx does not cover. No inline script (the CSP forbids it).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
// On a phone the menu scrolls sideways: show the current page's entry, not the first ones.
// (scrollLeft, not scrollIntoView: the page itself must not move.)
const here = document.querySelector(".main-nav [aria-current=page]");
if (here) {
  const list = here.closest("ul");  // scrolls only when it overflows: nothing happens on a wide screen
  const offset = here.getBoundingClientRect().left - list.getBoundingClientRect().left;
  list.scrollLeft += offset - (list.clientWidth - here.offsetWidth) / 2;
}
// The browser scrolls a focused link into view only when it is wholly hidden: a keyboard
// user tabbing along the menu sees each entry whole.
document.addEventListener("focusin", (event) => {
  if (event.target.closest(".main-nav")) event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
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
