// DalyGate status page: live state over Server-Sent Events, controls over the REST API, history with Chart.js.
"use strict";

const OUTPUTS = [
  { key: "load", label: "Load relay (SSR1)", path: "/api/v1/relays/load" },
  { key: "balancer", label: "Balancer relay (SSR2)", path: "/api/v1/relays/balancer" },
  { key: "charge_mos", label: "Charge MOSFET", path: "/api/v1/bms/mosfets/charge" },
  { key: "discharge_mos", label: "Discharge MOSFET", path: "/api/v1/bms/mosfets/discharge" },
];
const BALANCER_ON_MV = 3400;
const BALANCER_OFF_MV = 3300;
const TOKEN_KEY = "dalygate-token";

const $ = (id) => document.getElementById(id);
const fixed = (value, digits) => (value === null || value === undefined || Number.isNaN(value)) ? "–" : Number(value).toFixed(digits);
let lastState = null;
let lastMessage = 0;
let historyHours = 24;
const charts = {};

// ---------- Live state ----------

function render(state) {
  lastState = state;
  const bms = state.bms;
  const pack = bms && bms.pack;
  $("pack-voltage").textContent = pack ? `${fixed(pack.voltage_v, 1)} V` : (state.shunt ? `${fixed(state.shunt.voltage_v, 2)} V` : "–");
  $("pack-current").textContent = state.shunt ? `${fixed(state.shunt.current_a, 2)} A` : (pack ? `${fixed(pack.current_a, 1)} A` : "–");
  $("pack-power").textContent = `${fixed(state.energy.power_w, 1)} W`;
  $("daly-soc").textContent = pack ? `${fixed(pack.soc_pct, 1)} %` : "–";
  $("calc-soc").textContent = `${fixed(state.energy.soc_pct, 1)} %`;
  $("energy-wh").textContent = `${fixed(state.energy.wh, 1)} / ${fixed(state.energy.max_wh, 1)} Wh`;
  $("avg-power").textContent = `${fixed(state.energy.avg_power_1h_w, 1)} W`;
  const temps = bms && bms.temperatures && bms.temperatures.sensors_c;
  $("temps").textContent = temps && temps.length ? `${temps.join(" · ")} °C` : "–";

  const bmsStatus = $("bms-status");
  bmsStatus.textContent = state.bms_ok ? `BMS online · data ${fixed(state.bms_age_s, 0)} s old` : `BMS offline${state.bms_error ? ": " + state.bms_error : ""}`;
  bmsStatus.className = "pill " + (state.bms_ok ? "ok" : "bad");
  const shuntStatus = $("shunt-status");
  shuntStatus.textContent = state.shunt_ok ? "Shunt online" : "Shunt offline";
  shuntStatus.className = "pill " + (state.shunt_ok ? "ok" : "bad");
  $("clock").textContent = `${state.simulated ? "simulated " : ""}${new Date(state.time).toLocaleString()}`;
  $("subtitle").textContent = `${bms && bms.cells ? bms.cells.count + "S " : ""}LiFePO4 · ${state.load_policy}${state.simulated ? " · simulation" : ""}`;

  renderCells(typeof renderPacks === "function" ? renderPacks(state) : bms);
  renderOutputs(state);
  renderAlarms(state);
  $("oled-text").textContent = state.display.enabled ? state.display.lines.join(" / ") : "Display off";
}

function renderCells(bms) {
  const svg = $("cells");
  const cells = bms && bms.cells && bms.cells.voltages_mv;
  if (!cells || !cells.length) {
    svg.innerHTML = "";
    $("cell-stats").textContent = "No cell data yet";
    return;
  }
  const min = Math.min(...cells), max = Math.max(...cells);
  const low = Math.min(min, BALANCER_OFF_MV) - 60, high = Math.max(max, BALANCER_ON_MV) + 40;
  const width = 400, height = 160, top = 6, bottom = 18;
  const y = (mv) => top + (height - top - bottom) * (1 - (mv - low) / (high - low));
  const slot = width / cells.length;
  const balancing = new Set((bms.cells.balancing || []));
  let out = "";
  cells.forEach((mv, i) => {
    const kind = mv === max ? " max" : (mv === min ? " min" : "");
    const x = i * slot + slot * 0.15, w = slot * 0.7;
    out += `<rect class="bar${kind}" x="${x}" y="${y(mv)}" width="${w}" height="${height - bottom - y(mv)}"><title>Cell ${i + 1}: ${mv} mV${balancing.has(i + 1) ? ", balancing" : ""}</title></rect>`;
    if (balancing.has(i + 1)) out += `<circle class="balancing" cx="${x + w / 2}" cy="${y(mv) - 5}" r="4"></circle>`;
    if (cells.length <= 24) out += `<text x="${x + w / 2}" y="${height - 4}" text-anchor="middle">${i + 1}</text>`;
  });
  out += `<line class="threshold-on" x1="0" x2="${width}" y1="${y(BALANCER_ON_MV)}" y2="${y(BALANCER_ON_MV)}"><title>Balancer on above ${BALANCER_ON_MV} mV</title></line>`;
  out += `<line class="threshold-off" x1="0" x2="${width}" y1="${y(BALANCER_OFF_MV)}" y2="${y(BALANCER_OFF_MV)}"><title>Balancer off below ${BALANCER_OFF_MV} mV</title></line>`;
  svg.innerHTML = out;
  const balanceText = balancing.size ? `balancing cell ${[...balancing].join(", ")}` : "not balancing";
  $("cell-stats").textContent = `max ${max} mV (cell ${cells.indexOf(max) + 1}) · min ${min} mV (cell ${cells.indexOf(min) + 1}) · spread ${max - min} mV · ${balanceText}`;
}

function renderOutputs(state) {
  const container = $("outputs");
  if (!container.children.length) {
    for (const output of OUTPUTS) {
      const div = document.createElement("div");
      div.className = "output";
      div.dataset.output = output.key;
      div.innerHTML = `<div class="head"><span class="name">${output.label}</span><span class="state" aria-live="polite">–</span></div>
        <div class="reason">–</div>
        <div class="row">
          <button type="button" data-action="on">On</button>
          <button type="button" data-action="off" class="secondary">Off</button>
          <label>Mode <select data-action="mode"><option value="auto">auto</option><option value="on">on</option><option value="off">off</option></select></label>
        </div>`;
      div.querySelector('[data-action="on"]').addEventListener("click", () => command(output, { on: true }, `Switch the ${output.label} on?`));
      div.querySelector('[data-action="off"]').addEventListener("click", () => command(output, { on: false }, `Switch the ${output.label} off?`));
      div.querySelector('[data-action="mode"]').addEventListener("change", (event) => {
        const mode = event.target.value;
        command(output, { mode }, `Set the ${output.label} to mode ${mode}?`);
      });
      container.appendChild(div);
    }
  }
  for (const output of OUTPUTS) {
    const info = (state.outputs || {})[output.key] || {};
    const div = container.querySelector(`[data-output="${output.key}"]`);
    const on = output.key === "load" || output.key === "balancer" ? state.relays[output.key] : info.on;
    const stateEl = div.querySelector(".state");
    stateEl.textContent = on === true ? "ON" : on === false ? "OFF" : "unknown";
    stateEl.className = "state " + (on ? "on" : "off");
    const select = div.querySelector("select");
    if (document.activeElement !== select) select.value = info.mode || "auto";
    const hold = info.hold_remaining_s ? ` for ${Math.round(info.hold_remaining_s)} s more` : "";
    const why = info.reason ? `${info.reason} (${info.source}, ${ago(info.changed_s_ago)})` : "no change since start";
    div.querySelector(".reason").textContent = `Mode ${info.mode || "auto"}${hold} · last change: ${why}`;
  }
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${(seconds / 3600).toFixed(1)} h ago`;
}

function renderAlarms(state) {
  const list = $("alarms");
  const details = (state.alarms && state.alarms.details) || [];
  list.innerHTML = "";
  if (!details.length) {
    list.innerHTML = '<li class="muted">No alarms</li>';
    return;
  }
  for (const alarm of details) {
    const li = document.createElement("li");
    li.className = "active";
    li.textContent = alarm.text;
    if (alarm.since) {
      const time = document.createElement("time");
      time.dateTime = alarm.since;
      time.textContent = `raised ${new Date(alarm.since).toLocaleString()}${alarm.origin === "gateway" ? " by the gateway" : " by the BMS"}`;
      li.appendChild(time);
    }
    list.appendChild(li);
  }
}

// ---------- Controls ----------

function token() {
  let value = localStorage.getItem(TOKEN_KEY);
  if (value === null) {
    value = window.prompt("API token for changes (leave empty if the gateway has none):", "") || "";
    localStorage.setItem(TOKEN_KEY, value);
  }
  return value;
}

async function send(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  const value = token();
  if (value) headers.Authorization = `Bearer ${value}`;
  const response = await fetch(path, { method, headers, body: JSON.stringify(body) });
  const payload = await response.json().catch(() => ({}));
  if (response.status === 401) localStorage.removeItem(TOKEN_KEY);
  return { ok: response.ok, status: response.status, payload };
}

async function command(output, body, question) {
  const result = $("control-result");
  if (!window.confirm(question)) {
    if (lastState) renderOutputs(lastState);
    return;
  }
  result.textContent = "Sending…";
  try {
    const { ok, status, payload } = await send("PUT", output.path, body);
    if (ok) {
      render(payload);
      result.textContent = `Done: ${output.label} is ${(output.key === "load" || output.key === "balancer" ? payload.relays[output.key] : payload.outputs[output.key].on) ? "on" : "off"} (mode ${payload.outputs[output.key].mode}).`;
    } else {
      result.textContent = `Refused (${status}): ${payload.detail || payload.title || "error"}`;
      if (lastState) renderOutputs(lastState);
    }
  } catch (error) {
    result.textContent = `Failed: ${error.message}`;
  }
}

$("soc-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = Number($("soc-input").value);
  if (!window.confirm(`Set the BMS's SOC to ${value} %?`)) return;
  const { ok, status, payload } = await send("PUT", "/api/v1/bms/soc", { soc_pct: value });
  $("control-result").textContent = ok ? `Done: BMS SOC set to ${value} %.` : `Refused (${status}): ${payload.detail || "error"}`;
  if (ok) render(payload);
});

$("token-button").addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  token();
});

// ---------- Event log ----------

function logLine(kind, data, time) {
  const text = {
    relay: () => `${data.output.replace("_", " ")} ${data.on ? "on" : "off"}: ${data.reason}`,
    alarm: () => `${data.active ? "Alarm" : "Cleared"}: ${data.text}`,
    command: () => `Command ${data.status}: ${data.command}${data.reason ? " (" + data.reason + ")" : ""}`,
    status: () => `${data.subject} ${data.online ? "online" : "offline"}: ${data.reason}`,
  }[kind];
  if (!text) return;
  const li = document.createElement("li");
  const stamp = document.createElement("time");
  stamp.dateTime = time;
  stamp.textContent = new Date(time).toLocaleString();
  li.appendChild(stamp);
  li.appendChild(document.createTextNode(text()));
  return li;
}

async function loadEventLog() {
  const response = await fetch("/api/v1/events/log?limit=30&kind=relay,alarm,command,status");
  if (!response.ok) return;
  const { events } = await response.json();
  const list = $("event-log");
  list.innerHTML = "";
  for (const event of events) {
    const li = logLine(event.kind, event.data, event.time);
    if (li) list.appendChild(li);
  }
}

function prependEvent(kind, data) {
  const li = logLine(kind, data, (lastState && lastState.time) || new Date().toISOString());
  if (!li) return;
  const list = $("event-log");
  list.insertBefore(li, list.firstChild);
  while (list.children.length > 50) list.removeChild(list.lastChild);
}

// ---------- History ----------

async function loadHistory() {
  if (typeof Chart === "undefined" || !lastState) return;
  const to = Date.parse(lastState.time) / 1000;
  const from = to - historyHours * 3600;
  const step = Math.max(60, Math.ceil((to - from) / 288));
  const response = await fetch(`/api/v1/history?from=${Math.floor(from)}&to=${Math.ceil(to)}&step=${step}`);
  if (!response.ok) return;
  const { samples } = await response.json();
  const labels = samples.map((s) => new Date(s.time).toLocaleString([], historyHours > 24 ? { weekday: "short", hour: "2-digit" } : { hour: "2-digit", minute: "2-digit" }));
  const series = {
    "chart-voltage": [["BMS", samples.map((s) => s.pack_voltage_v)], ["Shunt", samples.map((s) => s.shunt_voltage_v)]],
    "chart-current": [["Shunt", samples.map((s) => s.shunt_current_a)], ["BMS", samples.map((s) => s.pack_current_a)]],
    "chart-soc": [["Daly", samples.map((s) => s.daly_soc_pct)], ["Calculated", samples.map((s) => s.calc_soc_pct)]],
    "chart-power": [["Power", samples.map((s) => s.power_w)]],
    "chart-spread": [["Spread", samples.map((s) => s.cell_spread_mv)]],
  };
  const style = getComputedStyle(document.documentElement);
  const colors = [style.getPropertyValue("--accent").trim(), style.getPropertyValue("--balancing").trim()];
  for (const [id, sets] of Object.entries(series)) {
    const datasets = sets.map(([label, data], i) => ({ label, data, borderColor: colors[i], backgroundColor: colors[i], pointRadius: 0, borderWidth: 2, spanGaps: true }));
    if (charts[id]) {
      charts[id].data.labels = labels;
      charts[id].data.datasets = datasets;
      charts[id].update("none");
    } else {
      charts[id] = new Chart($(id), {
        type: "line",
        data: { labels, datasets },
        options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: sets.length > 1, labels: { color: style.getPropertyValue("--text").trim() } } },
          scales: { x: { ticks: { maxTicksLimit: 6, color: style.getPropertyValue("--muted").trim() } }, y: { ticks: { color: style.getPropertyValue("--muted").trim() } } } },
      });
    }
  }
}

for (const button of document.querySelectorAll("button.range")) {
  button.addEventListener("click", () => {
    historyHours = Number(button.dataset.hours);
    for (const other of document.querySelectorAll("button.range")) other.setAttribute("aria-pressed", String(other === button));
    loadHistory();
  });
}

// ---------- Connection ----------

function setOnline(online) {
  $("offline-banner").hidden = online;
  document.body.classList.toggle("offline", !online);
}

function connect() {
  const source = new EventSource("/api/v1/events");
  source.addEventListener("open", () => setOnline(true));
  source.addEventListener("error", () => setOnline(false));
  source.addEventListener("state", (event) => {
    lastMessage = Date.now();
    setOnline(true);
    render(JSON.parse(event.data));
  });
  for (const kind of ["relay", "alarm", "command", "status"]) {
    source.addEventListener(kind, (event) => {
      lastMessage = Date.now();
      prependEvent(kind, JSON.parse(event.data));
    });
  }
}

setInterval(() => {
  if (lastMessage && Date.now() - lastMessage > 20000) setOnline(false);
}, 2000);
setInterval(() => { $("oled").src = `/api/v1/display.png?scale=3&t=${Date.now()}`; }, 2000);
setInterval(loadHistory, 60000);

(async function start() {
  try {
    const response = await fetch("/api/v1/state");
    if (response.ok) render(await response.json());
  } catch (error) {
    setOnline(false);
  }
  connect();
  loadEventLog();
  loadHistory();
})();
