// Copy buttons: <button data-copy="id"> copies that element's text: an input's value, or the
// text of any other element (a long link shown wrapped in the page).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const isInput = "value" in field && typeof field.select === "function";
  const text = isInput ? field.value : field.textContent.trim();
  if (isInput) {
    field.select();
  } else {
    const range = document.createRange();
    range.selectNodeContents(field);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    document.execCommand("copy");
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
