// The delivery inspector page: plain DOM, no framework, no network beyond this server.
// Every text from a delivery is set with textContent, never parsed as HTML.
"use strict";

const api = new URL("api/", document.baseURI).href;
const rows = new Map();
let catalogue = [];
let selected = null;

function $(id) { return document.getElementById(id); }

async function call(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  const answer = await fetch(api + path, init);
  const data = await answer.json();
  return {ok: answer.ok, status: answer.status, data};
}

function pretty(text) {
  if (text === null || text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (error) { return text; }
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "…" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
}

function proofText(proof) {
  if (!proof.kind) return null;
  return proof.refused ? proof.kind + " refused: " + proof.refused : proof.kind;
}

function showRow(entry) {
  let row = rows.get(entry.serial)?.row;
  if (!row) {
    row = document.createElement("tr");
    row.dataset.serial = entry.serial;
    row.addEventListener("click", () => select(entry.serial));
    const body = $("deliveries");
    body.insertBefore(row, body.firstChild);
  }
  rows.set(entry.serial, {row, entry});
  row.replaceChildren();
  row.dataset.status = entry.status ?? "";
  row.dataset.ledger = entry.ledger ?? "";
  cell(row, entry.serial);
  cell(row, entry.event + "@" + (entry.version ?? "?"));
  cell(row, entry.time.slice(11, 23));
  cell(row, proofText(entry.proof), entry.proof.refused ? "bad" : "");
  cell(row, entry.ledger);
  cell(row, entry.status, entry.status >= 400 ? "bad" : "ok");
  cell(row, entry.duration === null ? null : (entry.duration * 1000).toFixed(1));
  row.classList.toggle("selected", entry.serial === selected);
  if (entry.serial === selected) showDetail(entry);
  if (entry.status !== null) refreshFakeSoon();  // the handler may have changed the fake
}

let fakeTimer = null;
function refreshFakeSoon() {
  clearTimeout(fakeTimer);
  fakeTimer = setTimeout(refreshFake, 200);
}

function timelineItem(item) {
  const li = document.createElement("li");
  const at = item.at === undefined ? "" : "+" + (item.at * 1000).toFixed(1) + " ms ";
  if (item.kind === "outbound") {
    li.className = "outbound";
    const head = document.createElement("div");
    head.textContent = at + item.method + " " + item.path + " → " + (item.status ?? item.error)
      + (item.resend_count ? " (retry " + item.resend_count + ")" : "");
    const request = document.createElement("pre");
    request.textContent = pretty(item.request_body);
    const answer = document.createElement("pre");
    answer.textContent = pretty(item.response_body);
    li.append(head, request, answer);
  } else if (item.kind === "deferred_started") {
    li.textContent = at + "deferred job " + item.job + " started: " + item.function;
  } else {
    li.textContent = "deferred job " + item.job + " ended" + (item.error ? " with " + item.error : "")
      + " after " + (item.duration * 1000).toFixed(1) + " ms";
  }
  return li;
}

function showDetail(entry) {
  $("detail").hidden = false;
  $("detail-title").textContent = "#" + entry.serial + " " + entry.event + "@" + entry.version
    + (entry.delivery_id ? " (" + entry.delivery_id + ")" : "");
  $("detail-headers").textContent = Object.entries(entry.request.headers)
    .map(([name, value]) => name + ": " + value).join("\n");
  $("detail-body").textContent = pretty(entry.request.body);
  $("detail-answer").textContent = (entry.status ?? "") + "\n" + pretty(entry.answer);
  $("detail-timeline").replaceChildren(...entry.timeline.map(timelineItem));
}

function select(serial) {
  selected = serial;
  for (const {row, entry} of rows.values()) row.classList.toggle("selected", entry.serial === serial);
  showDetail(rows.get(serial).entry);
}

function showResult(target, result) {
  target.className = "result " + (result.ok ? "ok" : "bad");
  target.textContent = JSON.stringify(result.data, null, 2);
}

async function resend(mode) {
  if (selected === null) return;
  const result = await call("deliveries/" + selected + "/resend", {as: mode});
  showResult($("send-result"), result);
  if (result.ok && result.data.serial) select(result.data.serial);
}

function showExample() {
  const item = catalogue[$("send-event").value];
  $("send-payload").value = JSON.stringify(item.example, null, 2);
}

async function send() {
  const item = catalogue[$("send-event").value];
  let payload;
  try { payload = JSON.parse($("send-payload").value); } catch (error) {
    showResult($("send-result"), {ok: false, data: {detail: "not JSON: " + error.message}});
    return;
  }
  const result = await call("send", {event: item.event, version: item.version, payload});
  showResult($("send-result"), result);
}

async function refreshFake() {
  $("fake-state").textContent = JSON.stringify((await call("fake")).data, null, 2);
}

async function seed() {
  let data;
  try { data = JSON.parse($("fake-seed").value); } catch (error) {
    showResult($("fake-result"), {ok: false, data: {detail: "not JSON: " + error.message}});
    return;
  }
  showResult($("fake-result"), await call("fake/seed", data));
  await refreshFake();
}

function listen() {
  const stream = new EventSource(api + "stream");
  stream.onopen = () => { $("stream-state").textContent = "live"; };
  stream.onerror = () => { $("stream-state").textContent = "reconnecting…"; };
  stream.addEventListener("delivery", (message) => showRow(JSON.parse(message.data)));
}

async function start() {
  catalogue = (await call("events")).data.events;
  $("send-event").replaceChildren(...catalogue.map((item, index) => {
    const option = document.createElement("option");
    option.value = index;
    option.textContent = item.event + "@" + item.version;
    return option;
  }));
  showExample();
  $("send-event").addEventListener("change", showExample);
  $("send-button").addEventListener("click", send);
  $("resend-same").addEventListener("click", () => resend("same"));
  $("resend-new").addEventListener("click", () => resend("new"));
  $("fake-refresh").addEventListener("click", refreshFake);
  $("fake-seed-button").addEventListener("click", seed);
  listen();
  for (const entry of (await call("deliveries")).data.deliveries.reverse()) showRow(entry);
  await refreshFake();
  document.body.dataset.ready = "true";
}

start();
