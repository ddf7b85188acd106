// A channel logo that fails to load (a moved image, an offline host) gives way to
// the channel's first letter, as a channel without a logo shows. Module scripts
// run late, so images that already failed are found by their zero natural width.

function fallBack(img) {
  const letter = document.createElement("span");
  letter.className = `${img.className} channel-logo-letter`;
  letter.setAttribute("aria-hidden", "true");
  letter.textContent = img.dataset.letter || "";
  img.replaceWith(letter);
}

for (const img of document.querySelectorAll("img.channel-logo")) {
  if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) {
    fallBack(img);
  } else {
    img.addEventListener("error", () => fallBack(img), { once: true });
  }
}
