// Usage commands: tabs per client (all panels stay visible without JavaScript),
// moved between with the arrow keys as the ARIA tabs pattern says, and a Copy
// button on each command (copy.js does the copying, with its plain-http fallback).

document.documentElement.classList.add("js");

for (const box of document.querySelectorAll("[data-tabs]")) {
  const tablist = box.querySelector("[role=tablist]");
  const tabs = [...box.querySelectorAll("[role=tab]")];
  const panels = [...box.querySelectorAll("[role=tabpanel]")];
  const select = (tab, focus) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
    }
    for (const panel of panels) panel.hidden = panel.dataset.panel !== tab.dataset.tab;
    if (focus) tab.focus();
  };
  tablist.hidden = false;
  for (const tab of tabs) tab.addEventListener("click", () => select(tab, false));
  tablist.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: tabs.length - 1,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
  });
  select(tabs[0], false);
}

for (const block of document.querySelectorAll(".codeblock")) {
  const code = block.querySelector("code[id]");
  if (!code) continue;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = "Copy";
  button.dataset.copy = `#${code.id}`;
  button.setAttribute("aria-label", `Copy: ${code.textContent}`);
  block.append(button);
}
