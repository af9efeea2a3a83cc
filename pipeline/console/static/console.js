// Central Kitchen console: small progressive enhancements. Every page works without this file;
// with it the editor gets its toolbar, image upload and live Weibo count, and the board updates itself.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", body, credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" },
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
  return data;
}

// -- the editor ---------------------------------------------------------------------------------

function insertAround(textarea, before, after, placeholder) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const inner = value.slice(start, end) || placeholder;
  textarea.setRangeText(before + inner + after, start, end, "end");
  textarea.focus();
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

function setupEditor(form) {
  const body = form.querySelector("#body");
  form.querySelectorAll(".toolbar [data-wrap]").forEach((button) => {
    const tag = button.dataset.wrap;
    button.addEventListener("click", () => insertAround(body, `<${tag}>`, `</${tag}>`, button.title));
  });
  form.querySelector(".toolbar [data-list]")?.addEventListener("click", () =>
    insertAround(body, "<ul>\n<li>", "</li>\n</ul>", "列表项"));
  form.querySelector(".toolbar [data-link]")?.addEventListener("click", () => {
    const href = window.prompt("链接地址（只允许白名单内的政府网站）", "https://www.gov.cn/");
    if (href) insertAround(body, `<a href="${href.replace(/"/g, "&quot;")}">`, "</a>", "链接文字");
  });

  const cover = form.querySelector("#cover");
  const coverImg = form.querySelector("#cover-img");
  const coverHint = form.querySelector("#cover-hint");
  const coverClear = form.querySelector("#cover-clear");
  const showCover = (sha) => {
    cover.value = sha || "";
    coverImg.hidden = !sha;
    if (sha) coverImg.src = `/media/${sha}`;
    coverClear.hidden = !sha;
    coverHint.textContent = sha ? "已设置封面。" : "插入的第一张图片会作为封面。";
  };
  coverClear?.addEventListener("click", () => showCover(""));

  const file = form.querySelector("#image-file");
  const status = form.querySelector("#upload-status");
  file?.addEventListener("change", async () => {
    if (!file.files.length) return;
    const data = new FormData();
    data.append("file", file.files[0]);
    status.textContent = "正在上传图片…";
    try {
      const media = await post("/console/media", data);
      const alt = file.files[0].name.replace(/\.[^.]+$/, "").replace(/[<>"&]/g, "");
      insertAround(body, "", "", `<p><img src="${media.url}" alt="${alt}"></p>\n`);
      if (!cover.value) showCover(media.sha256);
      status.textContent = `已插入图片（${media.width}×${media.height}）`;
    } catch (error) {
      status.textContent = `上传失败：${error.message}`;
    }
    file.value = "";
  });

  const kind = form.querySelector("#kind");
  const interprets = form.querySelector("#interprets-field");
  kind.addEventListener("change", () => { interprets.hidden = kind.value !== "interpretation"; });

  const count = form.querySelector("#weibo-count");
  const text = form.querySelector("#weibo-text");
  let timer = null;
  let sequence = 0;
  const refresh = async () => {
    const data = new FormData();
    for (const name of ["title", "summary", "body", "kind"]) data.append(name, form.elements[name].value);
    data.append("item", form.dataset.item || "");
    for (const name of ["targets", "columns"]) {
      form.querySelectorAll(`input[name="${name}"]:checked`).forEach((box) => data.append(name, box.value));
    }
    const mine = ++sequence;
    try {
      const result = await post("/console/preview/weibo", data);
      if (mine !== sequence) return;
      count.textContent = `${result.length} / ${result.limit}`;
      count.className = result.fits ? "ok" : "over";
      count.dataset.length = result.length;
      text.textContent = result.text;
    } catch (error) {
      count.textContent = "—";
      text.textContent = `无法计算：${error.message}`;
    }
  };
  form.addEventListener("input", (event) => {
    if (!["title", "summary", "body", "kind", "targets", "columns"].includes(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  kind.addEventListener("change", refresh);
  refresh();
}

// -- the distribution board -----------------------------------------------------------------------

function setupBoard(board) {
  const dialog = document.getElementById("delivery-dialog");
  const dialogBody = document.getElementById("delivery-dialog-body");
  const status = document.getElementById("board-status");

  board.addEventListener("click", async (event) => {
    const cell = event.target.closest("a.cell");
    if (!cell || !dialog.showModal) return;
    event.preventDefault();
    const response = await fetch(`${cell.getAttribute("href")}?fragment=1`, { credentials: "same-origin" });
    dialogBody.innerHTML = await response.text();
    dialog.showModal();
  });

  const update = async () => {
    if (document.hidden) return;
    let data;
    try {
      const response = await fetch(board.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401) { status.textContent = "登录已失效，请刷新页面重新登录"; return; }
      data = await response.json();
    } catch (error) {
      status.textContent = "暂时无法刷新，稍后重试…";
      return;
    }
    if (data.signature !== board.dataset.signature) {
      const response = await fetch(board.dataset.fragment, { credentials: "same-origin" });
      board.innerHTML = await response.text();
      board.dataset.signature = data.signature;
    }
    for (const [key, cell] of Object.entries(data.cells)) {
      const link = board.querySelector(`a.cell[data-cell="${CSS.escape(key)}"]`);
      if (!link || (link.dataset.state === cell.state && link.dataset.delivery === String(cell.delivery))) continue;
      link.dataset.state = cell.state;
      link.dataset.delivery = cell.delivery;
      link.className = `cell state-${cell.state} changed`;
      link.href = link.href.replace(/\/deliveries\/\d+/, `/deliveries/${cell.delivery}`);
      link.querySelector(".cell-label").textContent = cell.label;
      link.querySelector(".cell-op").textContent = `${{ publish: "发布", correct: "更正", takedown: "撤稿" }[cell.operation]} · 第${cell.revision}版`;
    }
    for (const [id, itemStatus] of Object.entries(data.items)) {
      const span = board.querySelector(`[data-item-status="${id}"]`);
      const names = { draft: "草稿", in_review: "审核中", approved: "已签发", published: "已发布", withdrawn: "已撤稿" };
      if (span) span.textContent = names[itemStatus] || itemStatus;
    }
    status.textContent = `已刷新 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
  };
  setInterval(update, 2000);
  document.addEventListener("visibilitychange", update);
}

// -- the failures list -----------------------------------------------------------------------------

function setupFailures(table) {
  const all = document.getElementById("select-all");
  all?.addEventListener("change", () => {
    table.querySelectorAll('input[name="delivery"]').forEach((box) => { box.checked = all.checked; });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const editor = document.getElementById("editor");
  if (editor) setupEditor(editor);
  const board = document.getElementById("board");
  if (board) setupBoard(board);
  const failures = document.getElementById("failures");
  if (failures) setupFailures(failures);
});
