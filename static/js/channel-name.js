// Check a new channel's name as it is typed: format, reserved, taken.

const input = document.getElementById("id_name");
const status = document.getElementById("name-status");
const preview = document.getElementById("name-preview");
const checkUrl = input.dataset.checkUrl;
let timer = null;
let latest = 0;

async function check(name) {
  const ticket = ++latest;
  const response = await fetch(`${checkUrl}?name=${encodeURIComponent(name)}`, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok || ticket !== latest) return;
  const body = await response.json();
  status.textContent = body.message;
  status.className = `name-status ${body.ok ? "ok" : "bad"}`;
}

input.addEventListener("input", () => {
  const name = input.value.trim();
  preview.textContent = name || "name";
  clearTimeout(timer);
  if (!name) {
    status.textContent = "";
    status.className = "name-status";
    return;
  }
  timer = setTimeout(() => check(name).catch(() => {}), 250);
});
