// DalyGate status page: the bank's packs (issue 16). A card per pack (name, online, SOC, voltage, current, cell
// spread); choosing a card shows that pack's cells in the cell chart. Hidden for a bank of one pack.
"use strict";

let selectedPack = null;

function packCard(pack) {
  const card = document.createElement("button");
  card.type = "button";
  card.className = "pack-card";
  card.dataset.pack = pack.id;
  card.innerHTML = '<span class="pack-name"></span><span class="pack-state pill"></span>' +
    '<span class="pack-soc"></span><span class="pack-line"></span><span class="pack-spread"></span>';
  card.addEventListener("click", () => {
    selectedPack = pack.id;
    if (lastState) render(lastState);
  });
  return card;
}

// Updates the pack cards and returns the reading the cell chart shows: the selected pack's, or the bank's.
function renderPacks(state) {
  const section = document.getElementById("packs-section");
  const packs = state.packs || [];
  if (packs.length <= 1) {
    section.hidden = true;
    document.getElementById("cells-title").textContent = "Cells";
    return state.bms;
  }
  section.hidden = false;
  if (!packs.some((p) => p.id === selectedPack)) selectedPack = packs[0].id;
  const list = document.getElementById("packs");
  if (list.dataset.ids !== packs.map((p) => p.id).join(",")) {
    list.replaceChildren(...packs.map(packCard));
    list.dataset.ids = packs.map((p) => p.id).join(",");
  }
  const offline = packs.filter((p) => !p.online);
  const summary = document.getElementById("packs-summary");
  summary.textContent = `${state.packs_online} of ${state.packs_total} packs online` +
    (offline.length ? ` · offline: ${offline.map((p) => p.name).join(", ")}` : "");
  summary.className = offline.length ? "bad-text" : "muted";
  packs.forEach((pack) => {
    const card = list.querySelector(`[data-pack="${CSS.escape(pack.id)}"]`);
    const reading = pack.reading;
    const measured = reading && reading.pack;
    const cells = reading && reading.cells;
    card.classList.toggle("offline", !pack.online);
    card.setAttribute("aria-pressed", String(pack.id === selectedPack));
    card.querySelector(".pack-name").textContent = pack.name;
    const badge = card.querySelector(".pack-state");
    badge.textContent = pack.online ? "online" : `OFFLINE${pack.age_s !== null ? " · " + fixed(pack.age_s, 0) + " s" : ""}`;
    badge.className = "pack-state pill " + (pack.online ? "ok" : "bad");
    card.querySelector(".pack-soc").textContent = measured ? `${fixed(measured.soc_pct, 1)} %` : "–";
    card.querySelector(".pack-line").textContent = measured ? `${fixed(measured.voltage_v, 1)} V · ${fixed(measured.current_a, 1)} A` : "–";
    card.querySelector(".pack-spread").textContent = cells ? `cell spread ${cells.max_mv - cells.min_mv} mV` : "no cell data";
    card.title = pack.online ? `${pack.name} (${pack.id})` : `${pack.name} (${pack.id}) does not answer: ${pack.error || "no reply"}`;
  });
  // Packs in parallel: the bank is as many cells in series as one pack.
  const series = packs.map((p) => p.reading && p.reading.cells && p.reading.cells.count).find((n) => n);
  if (series) {
    document.getElementById("subtitle").textContent =
      `${packs.length} × ${series}S LiFePO4 in parallel · ${state.load_policy}${state.simulated ? " · simulation" : ""}`;
  }
  const selected = packs.find((p) => p.id === selectedPack);
  document.getElementById("cells-title").textContent = `Cells · ${selected.name}${selected.online ? "" : " (offline, last reading)"}`;
  return selected.reading;
}
