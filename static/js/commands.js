// Usage commands: tabs per client (all panels stay visible without JavaScript) and
// a copy button on each command.

document.documentElement.classList.add("js");

for (const box of document.querySelectorAll("[data-tabs]")) {
  const tablist = box.querySelector("[role=tablist]");
  const tabs = [...box.querySelectorAll("[role=tab]")];
  const panels = [...box.querySelectorAll("[role=tabpanel]")];
  const select = (name) => {
    for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const panel of panels) panel.hidden = panel.dataset.panel !== name;
  };
  tablist.hidden = false;
  for (const tab of tabs) tab.addEventListener("click", () => select(tab.dataset.tab));
  select(tabs[0].dataset.tab);
}

for (const block of document.querySelectorAll(".codeblock")) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = "Copy";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(block.querySelector("code").textContent);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select it";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  block.append(button);
}
