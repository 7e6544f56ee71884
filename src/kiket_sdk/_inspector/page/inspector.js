// The delivery inspector page: plain DOM, no framework, no network beyond this server.
// Every text from a delivery is set with textContent, never parsed as HTML, and shown with
// its bidirectional control characters escaped (visible), so no text can reorder what follows.
"use strict";

const api = new URL("api/", document.baseURI).href;
const rows = new Map();
let catalogue = [];
let selected = null;

function $(id) { return document.getElementById(id); }

// Numbers are never changed on their way through the page. JSON text the user typed is sent
// as that very text (a body given as a string goes unchanged), and JSON read from the server
// keeps every number that a JavaScript number would round (9007199254740993, 1e400) as its
// source text (JSON.rawJSON), which JSON.stringify writes back exactly. A browser without
// JSON.rawJSON shows such a body as the raw text it is (see pretty).
const EXACT = typeof JSON.rawJSON === "function"
  && JSON.parse("1.0", (key, value, context) => context?.source) === "1.0";

// The significant digits of a number's text ("-0.00150e3" -> "15").
function digits(text) {
  return text.split(/e/i)[0].replace(/[-+.]/g, "").replace(/^0+/, "").replace(/0+$/, "");
}

function parseExact(text) {
  if (!EXACT) return JSON.parse(text);
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && (!Number.isFinite(value) || digits(String(value)) !== digits(context.source))
      ? JSON.rawJSON(context.source) : value);
}

// One call to the inspector's API: {ok, status, data}, never a throw. An answer that is not a
// JSON object (a proxy's page, a server error in plain text) or no answer at all is not ok,
// with data.detail saying the status and the start of the text. A string body is sent as it
// is (JSON text the user typed); any other body as JSON.
async function call(path, body, method) {
  const init = {method: method ?? (body === undefined ? "GET" : "POST")};
  if (body !== undefined) {
    init.headers = {"Content-Type": "application/json"};
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let answer, text;
  try {
    answer = await fetch(api + path, init);
    text = await answer.text();
  } catch (error) {
    return {ok: false, status: 0, data: {detail: "no answer from the inspector: " + error.message}};
  }
  let data = null;
  try { data = parseExact(text); } catch (error) { /* not JSON: described below */ }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    const detail = answer.status + " " + answer.statusText + ", not a JSON object: " + text.slice(0, 500);
    return {ok: false, status: answer.status, data: {detail}};
  }
  return {ok: answer.ok, status: answer.status, data};
}

// Bidirectional control characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F) shown as
// \u escapes: in JSON text that is the same string, and elsewhere it shows what is there.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/g;
function visible(text) {
  return String(text).replace(BIDI, (char) => "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0"));
}

// JSON text pretty-printed when that loses nothing (every number kept as written), else the
// text itself; bidi controls escaped either way.
function pretty(text) {
  if (text === null || text === undefined) return "";
  if (!EXACT && /\d/.test(text)) return visible(text);  // a number might be rounded
  try { return visible(JSON.stringify(parseExact(text), null, 2)); } catch (error) { return visible(text); }
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "…" : visible(text);
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
  const outside = entry.answered_by === "routing";
  row.dataset.answeredBy = entry.answered_by;
  cell(row, entry.serial);
  cell(row, outside ? entry.method + " " + entry.path : entry.event + "@" + (entry.version ?? "?"));
  cell(row, entry.time.slice(11, 23));
  cell(row, outside ? "—" : proofText(entry.proof), entry.proof.refused ? "bad" : "");
  cell(row, outside ? "not reached" : entry.ledger);
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
    const target = item.path + (item.query ? "?" + item.query : "");
    head.textContent = at + item.method + " " + visible(target) + " → " + (item.status ?? item.error)
      + (item.resend_count ? " (retry " + item.resend_count + ")" : "");
    const by = document.createElement("span");
    by.className = "by";
    by.textContent = item.job === null || item.job === undefined
      ? "  by the handler"
      : "  by job " + item.job + (item.job_function ? " (" + item.job_function + ")" : "");
    head.appendChild(by);
    const request = document.createElement("pre");
    request.textContent = pretty(item.request_body);
    const answer = document.createElement("pre");
    answer.textContent = pretty(item.response_body);
    li.append(head, request, answer);
  } else if (item.kind === "handler_failed") {
    li.className = "bad";
    const head = document.createElement("div");
    head.textContent = at + (item.timed_out ? "the handler timed out: " : "the handler raised ")
      + visible(item.error_type + (item.message ? ": " + item.message : ""));
    const trace = document.createElement("pre");
    trace.textContent = visible(item.traceback);
    li.append(head, trace);
  } else if (item.kind === "deferred_started") {
    li.textContent = at + "deferred job " + item.job + " started: " + visible(item.function);
  } else {
    li.textContent = "deferred job " + item.job + " ended" + (item.error ? " with " + visible(item.error) : "")
      + " after " + (item.duration * 1000).toFixed(1) + " ms";
  }
  return li;
}

function showDetail(entry) {
  $("detail").hidden = false;
  $("detail-title").textContent = visible(entry.answered_by === "routing"
    ? "#" + entry.serial + " " + entry.method + " " + entry.path + " (answered before the delivery pipeline)"
    : "#" + entry.serial + " " + entry.event + "@" + entry.version
      + (entry.delivery_id ? " (" + entry.delivery_id + ")" : ""));
  $("resend-same").disabled = $("resend-new").disabled = entry.answered_by === "routing";
  $("detail-headers").textContent = visible(Object.entries(entry.request.headers)
    .map(([name, value]) => name + ": " + value).join("\n"));
  $("detail-body").textContent = pretty(entry.request.body);
  $("detail-answer-headers").textContent = visible((entry.status ?? "…") + "\n"
    + Object.entries(entry.answer_headers ?? {}).map(([name, value]) => name + ": " + value).join("\n"));
  $("detail-answer").textContent = pretty(entry.answer);
  $("detail-timeline").replaceChildren(...entry.timeline.map(timelineItem));
}

// Select a delivery; one not listed yet (its stream event is still on the way) is fetched.
async function select(serial) {
  selected = serial;
  for (const {row, entry} of rows.values()) row.classList.toggle("selected", entry.serial === serial);
  const known = rows.get(serial);
  if (known) { showDetail(known.entry); return; }
  const result = await call("deliveries/" + encodeURIComponent(serial));
  if (result.ok && !rows.has(serial)) showRow(result.data);
}

function showResult(target, result, summary) {
  target.className = "result " + (result.ok ? "ok" : "bad");
  const data = result.ok || result.data.detail === undefined ? JSON.stringify(result.data, null, 2)
    : (result.status ? "error " + result.status + ": " : "") + result.data.detail
      + (result.data.errors ? "\n" + JSON.stringify(result.data.errors, null, 2) : "");
  target.textContent = visible(summary ? summary + "\n" + data : data);
}

// The result of a send or resend, to read: the extension's status, the ledger's outcome and
// the delivery's number, then its answer pretty-printed (as pretty: losing no digit).
function showDelivered(target, result, note) {
  if (!result.ok) { showResult(target, result); return; }
  const data = result.data;
  target.className = "result ok";
  target.textContent = "answered " + data.status + " · ledger: " + (data.ledger ?? "not reached")
    + (data.serial ? " · delivery #" + data.serial : "") + (note ? "\n" + note : "")
    + "\n" + pretty(data.answer);
}

async function resend(mode) {
  if (selected === null) return;
  const result = await call("deliveries/" + encodeURIComponent(selected) + "/resend", {as: mode});
  showDelivered($("resend-result"), result);  // next to its buttons
  if (result.ok && result.data.serial) await select(result.data.serial);
}

// -- sending ------------------------------------------------------------------------------------

function chosen() { return catalogue[$("send-event").value]; }

function showExample() {
  $("send-payload").value = JSON.stringify(chosen().example, null, 2);
  payloadChanged();
}

// The user changed the payload (or the event): the last send's result no longer applies.
function payloadChanged() {
  $("send-result").textContent = "";
  checkSoon();
}

function showErrors(lines, state) {
  $("send-errors").replaceChildren(...lines.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  const sendButton = $("send-button");
  sendButton.dataset.state = state;
  sendButton.textContent = state === "invalid" ? "Send signed (payload has errors)" : "Send signed";
  sendButton.title = state === "invalid" ? "the server checks the payload again and refuses it" : "";
}

function modelErrors(errors) {
  return errors.map((error) => (error.loc.length ? error.loc.join(".") : "payload") + ": " + error.msg);
}

// The payload's text when it is JSON (it is sent as that very text), or null after showing
// where the syntax breaks (checked in the page).
function parsedPayload() {
  const text = $("send-payload").value;
  try { JSON.parse(text); return {text}; } catch (error) {
    const at = /position (\d+)/.exec(error.message);
    let where = "";
    if (at && !/line \d+/.test(error.message)) {  // newer browsers name the line themselves
      const before = text.slice(0, Number(at[1])).split("\n");
      where = " (line " + before.length + ", column " + (before[before.length - 1].length + 1) + ")";
    }
    showErrors(["JSON syntax: " + error.message + where], "invalid");
    return null;
  }
}

let checkTimer = null;
let checkRound = 0;
function checkSoon() {
  clearTimeout(checkTimer);
  $("send-button").dataset.state = "checking";
  checkTimer = setTimeout(check, 300);
}

async function check() {
  const round = ++checkRound;
  const parsed = parsedPayload();
  if (parsed === null) return;
  const item = chosen();
  const result = await call("validate", {event: item.event, version: item.version, payload_text: parsed.text});
  if (round !== checkRound) return;  // a newer edit is being checked
  if (!result.ok) { showErrors([result.data.detail], "invalid"); return; }
  if (result.data.valid) showErrors([], "valid");
  else showErrors(modelErrors(result.data.errors), "invalid");
}

async function send() {
  const item = chosen();
  const parsed = parsedPayload();
  if (parsed === null) {
    showResult($("send-result"), {ok: false, data: {detail: "not JSON: see the error under the payload"}});
    return;
  }
  const result = await call("send", {event: item.event, version: item.version, payload_text: parsed.text});
  if (result.data.errors) showErrors(modelErrors(result.data.errors), "invalid");
  showDelivered($("send-result"), result, result.ok ? freshId(parsed.text) : "");
  if (result.ok && result.data.serial) await select(result.data.serial);
}

// After a send, a payload object with a text id gets a fresh evt_... id, so pressing Send again
// is a new delivery rather than the ledger's duplicate path; says so (the result line's note).
function freshId(text) {
  if (!EXACT) return "";  // rewriting the payload could round a number
  const payload = parseExact(text);
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return "";
  if (typeof payload.id !== "string") return "";
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const id = "evt_" + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  $("send-payload").value = JSON.stringify({...payload, id}, null, 2);
  checkSoon();
  return "the payload's id is now " + id + ", so sending again is a new delivery"
    + " (Resend same bytes shows the duplicate path)";
}

// -- the fake's state -----------------------------------------------------------------------------

let openEditors = 0;  // while a record is being edited, refreshing would throw the edit away

function button(text, className, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.className = className;
  element.addEventListener("click", action);
  return element;
}

function table(headings, rows) {
  const element = document.createElement("table");
  const head = document.createElement("tr");
  for (const text of headings) {
    const th = document.createElement("th");
    th.textContent = text;
    head.appendChild(th);
  }
  const thead = document.createElement("thead");
  thead.appendChild(head);
  const tbody = document.createElement("tbody");
  tbody.append(...rows);
  element.append(thead, tbody);
  return element;
}

function none(text) {
  const element = document.createElement("p");
  element.className = "muted";
  element.textContent = text;
  return element;
}

const LONGEST_CELL = 200;  // characters a table cell shows; the whole text is its title

function valueCell(row, value) {
  const td = document.createElement("td");
  const code = document.createElement("code");
  const text = visible(value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));
  code.textContent = text.length > LONGEST_CELL ? text.slice(0, LONGEST_CELL) + "…" : text;
  if (text.length > LONGEST_CELL) {
    code.title = text;
    code.className = "cut";
  }
  td.appendChild(code);
  row.appendChild(td);
  return td;
}

// An error shown next to the control that caused it (cleared by the next success there).
function inlineError(place) {
  let element = place.querySelector(":scope > .inline-error");
  if (!element) {
    element = document.createElement("span");
    element.className = "inline-error";
    element.setAttribute("role", "alert");
    place.appendChild(element);
  }
  return element;
}

function showInline(place, text) {
  inlineError(place).textContent = visible(text);
}

// A change to the fake; a refusal is shown in ``place`` (next to the button pressed).
async function change(path, body, method, place) {
  const result = await call(path, body, method);
  showInline(place, result.ok ? "" : "error " + result.status + ": " + result.data.detail);
  return result.ok;
}

function segments(...parts) {
  return parts.map((part) => encodeURIComponent(String(part))).join("/");
}

// A record's row; ``key`` is its id as the server's exact text (row_ids), never a JS number.
function recordRow(group, columns, record, key) {
  const row = document.createElement("tr");
  const path = "fake/records/" + segments(group.project_id, group.module, group.table, key);
  row.dataset.record = [group.project_id, group.module, group.table, key].join("/");
  for (const column of columns) valueCell(row, record[column]);
  const actions = document.createElement("td");
  const edit = button("Edit", "edit", () => {
    const {id, ...fields} = record;
    const editor = document.createElement("textarea");
    editor.className = "record-json";
    editor.rows = 4;
    editor.value = visible(JSON.stringify(fields, null, 2));  // same JSON, controls escaped
    const cell = document.createElement("td");
    cell.colSpan = columns.length;
    cell.appendChild(editor);
    openEditors += 1;
    const close = async () => { openEditors -= 1; await refreshFake(); };
    const save = button("Save", "save", async () => {
      try { JSON.parse(editor.value); } catch (error) {
        showInline(actions, "not JSON: " + error.message);
        return;
      }
      if (await change(path, editor.value, "PUT", actions)) await close();  // the very text
    });
    const cancel = button("Cancel", "cancel", close);
    actions.replaceChildren(save, cancel);
    row.replaceChildren(cell, actions);
    editor.focus();
  });
  const remove = button("Delete", "delete", async () => {
    if (await change(path, undefined, "DELETE", actions)) await refreshFake();
  });
  actions.append(edit, remove);
  row.appendChild(actions);
  return row;
}

function showRecords(groups) {
  const parts = [];
  for (const group of groups) {
    const title = document.createElement("h4");
    title.textContent = visible(group.module + " / " + group.table + " · project " + group.project_id);
    const columns = ["id", ...new Set(group.rows.flatMap((record) => Object.keys(record)).filter((key) => key !== "id"))];
    parts.push(title, group.rows.length
      ? table([...columns, ""], group.rows.map((record, index) => recordRow(group, columns, record, group.row_ids[index])))
      : none("no records"));
  }
  $("fake-records").replaceChildren(...(parts.length ? parts : [none("no records (seed some below)")]));
}

function showSecrets(secrets) {
  const rows = [];
  for (const [extension, values] of Object.entries(secrets)) {
    for (const [name, value] of Object.entries(values)) {
      const row = document.createElement("tr");
      row.dataset.secret = extension + "/" + name;
      const path = "fake/secrets/" + segments(extension, name);
      valueCell(row, extension);
      valueCell(row, name);
      const cell = document.createElement("td");
      const input = document.createElement("input");
      input.className = "secret-value";
      input.value = value;
      input.setAttribute("aria-label", "value of " + name);
      input.addEventListener("focus", () => { openEditors += 1; });
      input.addEventListener("blur", () => { openEditors -= 1; });
      cell.appendChild(input);
      if (visible(value) !== value) {  // the input shows the raw text: show it escaped too
        const escaped = document.createElement("code");
        escaped.className = "escaped";
        escaped.textContent = visible(value);
        cell.appendChild(escaped);
      }
      row.appendChild(cell);
      const actions = document.createElement("td");
      actions.append(
        button("Save", "save", () => change(path, {value: input.value}, "PUT", actions)),
        button("Delete", "delete", async () => {
          if (await change(path, undefined, "DELETE", actions)) await refreshFake();
        }),
      );
      row.appendChild(actions);
      rows.push(row);
    }
  }
  $("fake-secrets").replaceChildren(rows.length ? table(["extension", "name", "value", ""], rows) : none("no secrets"));
}

// ``ids``: each event's id as the server's exact text (sla_event_ids), never a JS number.
function showSlaEvents(events, ids) {
  const columns = ["id", ...new Set(events.flatMap((event) => Object.keys(event)).filter((key) => key !== "id"))];
  const rows = events.map((event, index) => {
    const row = document.createElement("tr");
    const id = ids[index];
    row.dataset.slaEvent = id;
    for (const column of columns) valueCell(row, event[column]);
    const actions = document.createElement("td");
    actions.appendChild(button("Delete", "delete", async () => {
      if (await change("fake/sla_events/" + segments(id), undefined, "DELETE", actions)) await refreshFake();
    }));
    row.appendChild(actions);
    return row;
  });
  $("fake-sla").replaceChildren(rows.length ? table([...columns, ""], rows) : none("no SLA events"));
}

function showLoggedEvents(events) {
  const rows = events.map((event) => {
    const row = document.createElement("tr");
    const {event: name, ...rest} = event;
    valueCell(row, name);
    valueCell(row, rest);
    return row;
  });
  $("fake-events").replaceChildren(rows.length ? table(["event", "data"], rows) : none("nothing logged yet"));
}

async function refreshFake() {
  if (openEditors > 0) return;
  const result = await call("fake");
  if (openEditors > 0) return;
  if (!result.ok) {
    showResult($("fake-state-error"), result);
    return;
  }
  $("fake-state-error").textContent = "";
  const state = result.data;
  showRecords(state.records ?? []);
  showSecrets(state.secrets ?? {});
  showSlaEvents(state.sla_events ?? [], state.sla_event_ids ?? []);
  showLoggedEvents(state.logged_events ?? []);
}

async function seed() {
  const text = $("fake-seed").value;
  try { JSON.parse(text); } catch (error) {
    showResult($("fake-result"), {ok: false, data: {detail: "not JSON (the box takes JSON; --seed FILE reads YAML too): " + error.message}});
    return;
  }
  showResult($("fake-result"), await call("fake/seed", text));  // the very text: no number rounded
  await refreshFake();
}

// -- theme, stream, start -------------------------------------------------------------------------

function applyTheme(theme) {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  $("theme").value = theme === "light" || theme === "dark" ? theme : "auto";
}

function chooseTheme() {
  const theme = $("theme").value;
  try { localStorage.setItem("kiket-inspector-theme", theme); } catch (error) { /* private mode */ }
  applyTheme(theme);
}

function savedTheme() {
  try { return localStorage.getItem("kiket-inspector-theme") ?? "auto"; } catch (error) { return "auto"; }
}

// Entries streamed while the journal is being reloaded (shown again over the reloaded list).
let streamedDuringReload = null;

// The journal as the server has it now, replacing every row shown: after a reconnect the
// server may have restarted, with a new journal whose serials start at 1 again. A selected
// delivery the server no longer has is unselected, its detail pane hidden.
async function reloadJournal() {
  streamedDuringReload = new Map();
  const listed = await call("deliveries");
  const streamed = streamedDuringReload;
  streamedDuringReload = null;
  if (!listed.ok) { showResult($("send-result"), listed); return; }
  rows.clear();
  $("deliveries").replaceChildren();
  for (const entry of listed.data.deliveries.reverse()) showRow(entry);
  for (const entry of streamed.values()) showRow(entry);
  if (selected !== null && !rows.has(selected)) {
    selected = null;
    $("detail").hidden = true;
    $("resend-result").textContent = "";
  }
}

// Everything the page shows from the server, loaded again (after the stream reconnected).
async function reloadAll() {
  await loadCatalogue();
  await reloadJournal();
  await refreshFake();
}

function listen() {
  const stream = new EventSource(api + "stream");
  let opened = false;
  stream.onopen = async () => {
    $("stream-state").textContent = "live";
    if (opened) await reloadAll();  // the first time, start() loads everything
    opened = true;
  };
  stream.onerror = () => { $("stream-state").textContent = "reconnecting…"; };
  stream.addEventListener("delivery", (message) => {
    try {
      const entry = parseExact(message.data);
      streamedDuringReload?.set(entry.serial, entry);
      showRow(entry);
    } catch (error) { $("stream-state").textContent = "bad event: " + error.message; }
  });
}

function option(item, index) {
  const element = document.createElement("option");
  element.value = index;
  element.textContent = (item.registered ? "★ " : "") + item.event + "@" + item.version
    + (item.model ? "" : " (not in the spec)");
  return element;
}

// The catalogue, (re)loaded: the event chosen stays chosen (its payload as typed) when the
// server still has it; otherwise the first event's example is shown.
async function loadCatalogue() {
  const before = catalogue.length ? chosen() : null;
  const events = await call("events");
  if (!events.ok) { showResult($("send-result"), events); return; }
  catalogue = events.data.events;
  const mine = document.createElement("optgroup");
  mine.label = "handled by this extension";
  const spec = document.createElement("optgroup");
  spec.label = "the rest of the spec's catalogue";
  catalogue.forEach((item, index) => (item.registered ? mine : spec).appendChild(option(item, index)));
  $("send-event").replaceChildren(...[mine, spec].filter((group) => group.children.length));
  const kept = before === null ? -1
    : catalogue.findIndex((item) => item.event === before.event && item.version === before.version);
  if (kept >= 0) $("send-event").value = kept;
  else if (catalogue.length) showExample();
}

async function start() {
  applyTheme(savedTheme());
  $("theme").addEventListener("change", chooseTheme);
  await loadCatalogue();
  $("send-event").addEventListener("change", showExample);
  $("send-payload").addEventListener("input", payloadChanged);
  $("send-button").addEventListener("click", send);
  $("resend-same").addEventListener("click", () => resend("same"));
  $("resend-new").addEventListener("click", () => resend("new"));
  $("fake-refresh").addEventListener("click", refreshFake);
  $("fake-seed-button").addEventListener("click", seed);
  listen();
  await reloadJournal();
  await refreshFake();
  document.body.dataset.ready = "true";
}

start();
