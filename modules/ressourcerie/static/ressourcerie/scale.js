// The weighing station's seam for a connected scale. A module's script (see the
// ressourcerie_scale_scripts hook) reads the scale and reports each stable reading:
//   document.dispatchEvent(new CustomEvent("ressourcerie:scale-reading", {detail: {kg: 12.5}}))
// The gross weight field takes it; nothing is recorded until the volunteer presses Enter,
// so a wrong reading is corrected by hand like any typed weight.
document.addEventListener("ressourcerie:scale-reading", (event) => {
  const kg = Number(event.detail && event.detail.kg);
  const field = document.getElementById("weight");
  if (!field || !Number.isFinite(kg) || kg < 0) return;
  const language = document.documentElement.lang || "fr";
  field.value = new Intl.NumberFormat(language, { maximumFractionDigits: 3, useGrouping: false }).format(kg);
  const status = document.getElementById("scale-status");
  if (status) status.textContent = status.dataset.template.replace("{kg}", field.value);
});
