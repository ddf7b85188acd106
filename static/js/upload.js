// Drag-and-drop upload: one XMLHttpRequest per file (for progress), posting the raw
// bytes to the same /api/v1/upload/<channel> endpoint pixi uses, authenticated by the
// session cookie and a CSRF token.

const zone = document.getElementById("dropzone");
const input = document.getElementById("file-input");
const list = document.getElementById("upload-list");
const uploadUrl = zone.dataset.uploadUrl;
const maxSize = Number(zone.dataset.maxSize);
const accepted = zone.dataset.accept.split(",");
const replace = document.getElementById("replace");
const PARALLEL = 2;

const queue = [];
let running = 0;

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function problemWith(file) {
  if (!accepted.some((ext) => file.name.endsWith(ext))) {
    return `Only ${accepted.join(" and ")} files can be uploaded.`;
  }
  if (file.size === 0) return "The file is empty.";
  if (file.size > maxSize) {
    return `The file is larger than the limit of ${formatSize(maxSize)}.`;
  }
  return null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function addItem(file) {
  const item = el("li", "upload-item");
  item.dataset.filename = file.name;
  const head = el("div", "upload-item-head");
  head.append(el("span", "filename", file.name), el("span", "muted", formatSize(file.size)));
  const progress = el("div", "progress");
  progress.setAttribute("role", "progressbar");
  progress.setAttribute("aria-label", `Upload of ${file.name}`);
  progress.setAttribute("aria-valuemin", "0");
  progress.setAttribute("aria-valuemax", "100");
  progress.setAttribute("aria-valuenow", "0");
  const bar = el("div", "progress-bar");
  progress.append(bar);
  const status = el("div", "upload-status", "Waiting…");
  item.append(head, progress, status);
  list.prepend(item);
  return {
    item,
    setProgress(percent) {
      const value = Math.max(0, Math.min(100, Math.round(percent)));
      bar.style.width = `${value}%`;
      progress.setAttribute("aria-valuenow", String(value));
    },
    finish(ok, message, link) {
      item.classList.add(ok ? "is-done" : "is-failed");
      item.dataset.state = ok ? "done" : "failed";
      status.textContent = message;
      if (link) {
        status.append(" · ");
        const a = el("a", "", "view package");
        a.href = link;
        status.append(a);
      }
    },
    status,
  };
}

function messageFrom(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && body.detail) return String(body.detail);
  } catch {
    // not JSON: a proxy's error page, for example
  }
  if (xhr.status === 413) return "The file is too large for this server.";
  return `Upload failed (HTTP ${xhr.status || "network error"}).`;
}

function packageLink(body) {
  const channel = encodeURIComponent(body.channel);
  return `/channels/${channel}/packages/${encodeURIComponent(body.name)}`;
}

function offerReplace(file, view) {
  const button = el("button", "button button-small", "Replace it");
  button.type = "button";
  button.addEventListener("click", () => {
    button.remove();
    view.item.classList.remove("is-failed");
    delete view.item.dataset.state;
    queue.push({ file, view, force: true });
    pump();
  });
  view.status.append(" ", button);
}

function send(file, view, force) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", force ? `${uploadUrl}?force=true` : uploadUrl);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-File-Name", file.name);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) view.setProgress((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      view.setProgress(100);
      if (xhr.status >= 200 && xhr.status < 300) {
        const body = JSON.parse(xhr.responseText);
        view.finish(true, `Uploaded ${body.subdir}/${body.filename}`, packageLink(body));
      } else {
        view.finish(false, messageFrom(xhr));
        if (xhr.status === 409 && replace) offerReplace(file, view);
      }
      resolve();
    });
    xhr.addEventListener("error", () => {
      view.finish(false, "Network error: the upload did not reach the server.");
      resolve();
    });
    view.status.textContent = "Uploading…";
    xhr.send(file);
  });
}

function pump() {
  while (running < PARALLEL && queue.length) {
    const { file, view, force } = queue.shift();
    running += 1;
    send(file, view, force || (replace && replace.checked)).then(() => {
      running -= 1;
      pump();
    });
  }
}

function accept(files) {
  for (const file of files) {
    const view = addItem(file);
    const problem = problemWith(file);
    if (problem) {
      view.finish(false, problem);
      continue;
    }
    queue.push({ file, view });
  }
  pump();
}

zone.addEventListener("dragover", (event) => {
  event.preventDefault();
  zone.classList.add("is-dragover");
});
zone.addEventListener("dragleave", () => zone.classList.remove("is-dragover"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("is-dragover");
  if (event.dataTransfer) accept(event.dataTransfer.files);
});
input.addEventListener("change", () => {
  accept(input.files);
  input.value = "";
});

// A file dropped beside the zone must not make the browser open it and leave
// the page (and any uploads in progress).
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => {
    if (!zone.contains(event.target)) event.preventDefault();
  });
}
