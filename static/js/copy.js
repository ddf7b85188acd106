// Copy buttons: <button data-copy="#id"> copies the text of the element #id.
// navigator.clipboard needs a secure context (https or localhost); a server reached
// over plain http falls back to selecting the text and execCommand("copy").

function fallbackCopy(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy failed");
}

async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
  } else {
    fallbackCopy(text);
  }
}

function flash(button, label) {
  const original = button.dataset.label || button.textContent;
  button.dataset.label = original;
  button.textContent = label;
  clearTimeout(button._copyTimer);
  button._copyTimer = setTimeout(() => { button.textContent = original; }, 2000);
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  try {
    await copy(source.textContent.trim());
    flash(button, "Copied!");
  } catch {
    flash(button, "Press Ctrl+C");
    window.getSelection().selectAllChildren(source);
  }
});

// Forms with data-confirm ask before they submit (revoking a key, for example).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
