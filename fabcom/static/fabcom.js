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
// A form sent back whole with an error (no htmx): the focus goes to the first wrong field,
// which scrolls it into view, rather than leaving the message below the fold while the
// page looks unchanged. A field the page itself focuses (autofocus) keeps the focus.
const firstWrong = document.querySelector("main [aria-invalid=true]");
if (firstWrong && !document.querySelector("main [autofocus]")) firstWrong.focus();
// The browser scrolls a focused link into view only when it is wholly hidden: a keyboard
// user tabbing along the menu sees each entry whole.
document.addEventListener("focusin", (event) => {
  if (event.target.closest(".main-nav")) event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
});
// After an htmx swap: a form sent back with an error puts the focus on the first wrong
// field. A swap that replaced the focused element (a button in a list, a form) would leave
// the focus on the page itself, and the next Tab at the top of the page: it goes to the
// swapped part instead. Elsewhere (typing in a search box) the focus stays where it is.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target) return;
  const swapped = target.isConnected ? target : target.id && document.getElementById(target.id);
  if (!swapped) return;
  const error = swapped.querySelector("[aria-invalid=true]");
  if (error) {
    error.focus();
  } else if (document.activeElement === document.body || !document.activeElement) {
    if (!swapped.hasAttribute("tabindex")) swapped.setAttribute("tabindex", "-1");
    swapped.focus({ preventScroll: true });
  }
});
// Back and Forward restore a page htmx kept, with the filters as the server first drew
// them: set them again from the address, which says what the list shows.
document.addEventListener("htmx:historyRestore", () => {
  const params = new URLSearchParams(location.search);
  for (const form of document.querySelectorAll("form[hx-push-url]")) {
    for (const field of form.elements) {
      if (!field.name || field.type === "hidden" || field.type === "submit") continue;
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = params.getAll(field.name).includes(field.value);
      } else if (field.tagName === "SELECT") {
        field.value = params.get(field.name) ?? field.options[0]?.value ?? "";
        if (field.selectedIndex < 0) field.selectedIndex = 0;
      } else {
        field.value = params.get(field.name) ?? "";
      }
    }
  }
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
// Changing the language reloads the page: a half-filled form would be lost without a word.
// A form sent by POST that the person has typed into asks first (a search or a filter is
// kept in the address, which the switch carries over).
document.addEventListener("input", (event) => {
  const form = event.target.form;
  if (form && form.method === "post" && !form.classList.contains("lang-switch")) form.dataset.unsaved = "1";
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList.contains("lang-switch")) {
    delete form.dataset.unsaved;  // sent: nothing left to lose
    return;
  }
  if (document.querySelector("form[data-unsaved='1']") && !window.confirm(form.dataset.confirmUnsaved)) {
    event.preventDefault();
    return;
  }
  // The address as it is now: a search typed since the page was drawn (htmx pushed it to
  // the address) comes back in the other language too.
  form.elements.next.value = location.pathname + location.search;
});
