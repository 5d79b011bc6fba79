// The till: Enter in the inventory search does not submit the sale, it goes to the first result.
// No inline script anywhere (the CSP forbids it): this file is the whole behaviour.
document.addEventListener("keydown", (event) => {
  const search = event.target.closest && event.target.closest("[data-till-search]");
  if (!search || event.key !== "Enter") return;
  event.preventDefault();
  const first = document.querySelector("#till-items button");
  if (first) first.focus();
});
