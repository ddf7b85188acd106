// Keep a destructive button disabled until the channel's name is typed.

for (const form of document.querySelectorAll("form[data-confirm-name]")) {
  const input = form.querySelector("input[name=confirm]");
  const button = form.querySelector("[data-confirm-button]");
  const update = () => {
    button.disabled = input.value.trim() !== form.dataset.confirmName;
  };
  input.addEventListener("input", update);
  update();
}
