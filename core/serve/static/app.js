// etl serve: drop a file, flag missing fields as the mapping changes, follow an import's progress.
"use strict";

function csrf() {
  return document.body.dataset.csrf;
}

function setUpDrop(form) {
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector(".drop");
  const chosen = form.querySelector(".chosen");
  const show = () => { chosen.textContent = input.files.length ? input.files[0].name : ""; };
  input.addEventListener("change", show);
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
}

function setUpMapping(form) {
  const box = form.querySelector(".missing");
  const list = box.querySelector("ul");
  const button = form.querySelector("#check");
  const table = form.querySelector("table.columns");
  let asked = 0;  // only the answer to the latest question counts: answers may come back out of order
  const refresh = async (event) => {
    const question = ++asked;
    if (event && event.target.matches("select[data-field]")) {
      const select = event.target;
      const how = select.closest("tr").querySelector("[data-how]");
      how.textContent = select.value === select.dataset.proposed ? how.dataset.how : table.dataset.chosen;
    }
    const fields = [...form.querySelectorAll("select[data-field]")].map((s) => s.value).filter(Boolean);
    form.querySelectorAll("select[data-field]").forEach((s) => s.closest("tr").classList.toggle("ignored", !s.value));
    const response = await fetch(form.dataset.missing, {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify({fields}),
    });
    if (!response.ok || question !== asked) return;
    const {missing} = await response.json();
    if (question !== asked) return;
    list.replaceChildren(...missing.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
    box.hidden = missing.length === 0;
    button.disabled = missing.length > 0;
  };
  form.addEventListener("change", refresh);
  if (!box.hidden) button.disabled = true;
}

function follow(section) {
  const bar = section.querySelector("progress");
  const read = section.querySelector("[data-read]");
  const loaded = section.querySelector("[data-loaded]");
  const icon = section.querySelector(".icon");
  const label = section.querySelector("[data-state]");
  const poll = async () => {
    const response = await fetch(section.dataset.poll, {cache: "no-store"});
    if (response.ok) {
      const state = await response.json();
      read.textContent = state.read.toLocaleString();
      loaded.textContent = state.loaded.toLocaleString();
      if (state.percent !== null) bar.value = state.percent;
      if (state.state === "running" && !icon.classList.contains("running")) {  // it waited for another job
        icon.className = "icon running";
        icon.setAttribute("aria-label", section.dataset.running);
        label.textContent = section.dataset.running;
      }
      if (state.state === "done" || state.state === "failed") {
        location.reload();
        return;
      }
    }
    setTimeout(poll, 300);
  };
  poll();
}

document.querySelectorAll("form[data-drop]").forEach(setUpDrop);
document.querySelectorAll("form#mapping").forEach(setUpMapping);
document.querySelectorAll("[data-poll]").forEach(follow);
