// cellscape serve: the run on a MapLibre GL JS map. Every request goes to this server (no CDN,
// no remote background tiles): the background is the run's own buildings.
"use strict";

const RASTER_OPACITY = 0.75;
const state = { map: null, meta: null, ready: false, linkBudget: null };
window.cellscape = state;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function fmt(v, digits = 1) {
  return v === null || v === undefined || Number.isNaN(v) ? "n/a" : Number(v).toFixed(digits);
}

function setStatus(text, isError = false) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = isError ? "error" : "muted";
}

// ---- layers ---------------------------------------------------------------------------------

function groupsOf(meta) {
  // toggle groups: [id, label, maplibre layer ids, opacity property or null]
  const groups = [];
  for (const r of meta.rasters) {
    groups.push({ id: r.name, label: r.title, layers: [`raster-${r.name}`],
                  opacity: "raster-opacity", initial: RASTER_OPACITY, visible: r === meta.rasters[0], raster: r });
  }
  const vec = new Set(meta.vectors.map((v) => v.name));
  if (vec.has("buildings")) {
    groups.push({ id: "buildings", label: "Buildings (height)", layers: ["buildings-fill", "buildings-line"],
                  opacity: "fill-opacity", initial: 0.9, visible: true });
  }
  if (vec.has("streets")) {
    groups.push({ id: "streets", label: "Streets (OSM)", layers: ["streets-line"], opacity: "line-opacity",
                  initial: 0.8, visible: true });
  }
  if (vec.has("sites")) {
    groups.push({ id: "sites", label: "Sites and sector wedges", layers: ["sites-sector", "sites-sector-line", "sites-site"],
                  visible: true });
  }
  if (vec.has("plan")) {
    groups.push({ id: "plan", label: "Plan: sites and sectors", layers: ["plan-sector", "plan-site", "plan-dc"], visible: true });
    groups.push({ id: "fiber", label: "Plan: fibre routes", layers: ["plan-fiber"], visible: true });
  }
  return groups;
}

function addLayers(map, meta) {
  const origin = window.location.origin;
  const vec = new Set(meta.vectors.map((v) => v.name));
  if (vec.has("buildings")) {
    map.addSource("buildings", { type: "geojson", data: `${origin}/api/vector/buildings` });
    map.addLayer({ id: "buildings-fill", type: "fill", source: "buildings",
                   paint: { "fill-color": ["interpolate", ["linear"], ["get", "height_m"], 0, "#dedbd3", 60, "#8c867a"],
                            "fill-opacity": 0.9 } });
  }
  for (const r of meta.rasters) {
    const src = { type: "raster", tiles: [origin + r.tiles], tileSize: 256, maxzoom: 19 };
    if (meta.bounds) src.bounds = meta.bounds;
    map.addSource(`raster-${r.name}`, src);
    map.addLayer({ id: `raster-${r.name}`, type: "raster", source: `raster-${r.name}`,
                   layout: { visibility: r === meta.rasters[0] ? "visible" : "none" },
                   paint: { "raster-opacity": RASTER_OPACITY, "raster-resampling": "nearest", "raster-fade-duration": 0 } });
  }
  if (vec.has("buildings")) {
    map.addLayer({ id: "buildings-line", type: "line", source: "buildings",
                   paint: { "line-color": "#4a463f", "line-width": 0.6, "line-opacity": 0.7 } });
  }
  if (vec.has("streets")) {
    map.addSource("streets", { type: "geojson", data: `${origin}/api/vector/streets` });
    map.addLayer({ id: "streets-line", type: "line", source: "streets",
                   paint: { "line-color": "#ffffff", "line-width": 1.2, "line-opacity": 0.8 } });
  }
  if (vec.has("plan")) {
    map.addSource("plan", { type: "geojson", data: `${origin}/api/vector/plan` });
    map.addLayer({ id: "plan-fiber", type: "line", source: "plan", filter: ["==", ["get", "layer"], "fiber"],
                   paint: { "line-color": "#e4572e", "line-width": 2.5 } });
    map.addLayer({ id: "plan-sector", type: "fill", source: "plan", filter: ["==", ["get", "layer"], "sector"],
                   paint: { "fill-color": "#6a3d9a", "fill-opacity": 0.35, "fill-outline-color": "#3d1f5e" } });
    map.addLayer({ id: "plan-site", type: "circle", source: "plan", filter: ["==", ["get", "layer"], "site"],
                   paint: { "circle-radius": 5, "circle-stroke-width": 1.5, "circle-stroke-color": "#fff",
                            "circle-color": ["match", ["get", "status"], "existing", "#1f78b4", "#6a3d9a"] } });
    map.addLayer({ id: "plan-dc", type: "circle", source: "plan", filter: ["==", ["get", "layer"], "data_center"],
                   paint: { "circle-radius": 8, "circle-color": "#e4572e", "circle-stroke-width": 2, "circle-stroke-color": "#fff" } });
  }
  if (vec.has("sites")) {
    map.addSource("sites", { type: "geojson", data: `${origin}/api/vector/sites` });
    map.addLayer({ id: "sites-sector", type: "fill", source: "sites", filter: ["==", ["get", "layer"], "sector"],
                   paint: { "fill-color": "#1b2a49", "fill-opacity": 0.3 } });
    map.addLayer({ id: "sites-sector-line", type: "line", source: "sites", filter: ["==", ["get", "layer"], "sector"],
                   paint: { "line-color": "#1b2a49", "line-width": 1 } });
    map.addLayer({ id: "sites-site", type: "circle", source: "sites", filter: ["==", ["get", "layer"], "site"],
                   paint: { "circle-radius": 4.5, "circle-color": "#d7191c", "circle-stroke-width": 1.5, "circle-stroke-color": "#fff" } });
  }
  map.addSource("clicked", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "clicked", type: "circle", source: "clicked",
                 paint: { "circle-radius": 6, "circle-color": "rgba(0,0,0,0)", "circle-stroke-width": 2.5, "circle-stroke-color": "#000" } });
}

function setGroupVisible(map, group, visible) {
  group.visible = visible;
  for (const id of group.layers) {
    if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  }
  renderLegend();
}

function renderLayerControls(map, groups) {
  const box = document.getElementById("layers");
  box.replaceChildren();
  for (const g of groups) {
    const cb = el("input", { type: "checkbox", id: `toggle-${g.id}` });
    cb.checked = g.visible;
    cb.addEventListener("change", () => setGroupVisible(map, g, cb.checked));
    const row = el("div", { class: "layer" }, el("label", { for: `toggle-${g.id}` }, cb, ` ${g.label}`));
    if (g.opacity) {
      const slider = el("input", { type: "range", min: "0", max: "1", step: "0.05", id: `opacity-${g.id}`,
                                   title: "opacity" });
      slider.value = String(g.initial);
      slider.addEventListener("input", () => map.setPaintProperty(g.layers[0], g.opacity, Number(slider.value)));
      row.append(slider);
    } else {
      row.append(el("span"));
    }
    box.append(row);
  }
}

function renderLegend() {
  const box = document.getElementById("legend");
  box.replaceChildren();
  for (const g of state.groups || []) {
    if (!g.visible || !g.raster) continue;
    const r = g.raster;
    const item = el("div", { class: "legend-item" }, el("div", { text: `${r.title}: ${r.units}` }));
    if (r.categorical) {
      const sw = el("div", { class: "swatches" });
      for (const c of r.classes) {
        const s = el("span", { class: "swatch" });
        s.style.background = c.colour;
        sw.append(el("span", {}, s, c.label));
      }
      item.append(sw);
    } else {
      const bar = el("div", { class: "legend-bar" });
      bar.style.background = `linear-gradient(to right, ${r.stops.map((s) => s.colour).join(", ")})`;
      const mid = (r.vmin + r.vmax) / 2;
      item.append(bar, el("div", { class: "legend-ticks" },
        el("span", { text: `${fmt(r.vmin, 0)} (and below)` }), el("span", { text: fmt(mid, 0) }),
        el("span", { text: `${fmt(r.vmax, 0)} (and above)` })));
      item.append(el("div", { class: "muted", text: `colour map ${r.colormap}, fixed range` }));
    }
    box.append(item);
  }
  const vec = new Set((state.meta?.vectors || []).map((v) => v.name));
  if (vec.has("buildings")) box.append(el("div", { class: "muted", text: "Buildings: grey by height, 0 to 60 m" }));
  if (vec.has("streets")) box.append(el("div", { class: "muted", text: "Streets: white lines (OSM driving network)" }));
  if (vec.has("sites")) box.append(el("div", { class: "muted", text: "Sites: red dots; sector wedges point along the azimuth" }));
  if (vec.has("plan")) box.append(el("div", { class: "muted", text: "Plan: blue existing / purple new sites, red fibre, red data centres" }));
}

// ---- link budget ----------------------------------------------------------------------------

function renderLinkBudget(lb) {
  const box = document.getElementById("linkbudget");
  box.className = "";
  const summary = el("table", { class: "kv" });
  const rows = [
    ["point", `${fmt(lb.lon, 6)}, ${fmt(lb.lat, 6)} (${lb.indoor ? "indoor" : "outdoor"})`],
    ["serving sector", lb.serving_sector ?? "none"],
    ["RSRP [dBm]", fmt(lb.rsrp_dbm, 1)],
    ["SINR [dB]", fmt(lb.sinr_db, 1)],
    ["throughput [Mbit/s]", fmt(lb.throughput_mbps, 1)],
    ["noise per RE [dBm]", fmt(lb.noise_per_re_dbm, 1)],
    ["LOS mode", lb.los_mode],
  ];
  for (const [k, v] of rows) summary.append(el("tr", {}, el("td", { text: k }), el("td", { text: String(v) })));
  const head = el("tr", {}, ...["sector", "d [m]", "LOS", "PL [dB]", "G [dBi]", "SF [dB]", "O2I [dB]", "RSRP [dBm]"]
    .map((h) => el("th", { text: h })));
  const table = el("table", { id: "linkbudget-sectors" }, head);
  for (const s of lb.sectors) {
    const tr = el("tr", { class: s.sector_id === lb.serving_sector ? "serving" : "" },
      el("td", { text: s.sector_id }), el("td", { text: fmt(s.distance_2d_m, 0) }),
      el("td", { text: s.los ? "LOS" : "NLOS" }), el("td", { text: fmt(s.path_loss_db, 1) }),
      el("td", { text: fmt(s.antenna_gain_dbi, 1) }), el("td", { text: fmt(s.shadow_fading_db, 1) }),
      el("td", { text: fmt(s.o2i_loss_db, 1) }), el("td", { text: fmt(s.rsrp_dbm, 1) }));
    table.append(tr);
  }
  const note = el("p", { class: "muted",
    text: `Strongest ${lb.sectors.length} of ${lb.n_sectors} sectors at the centre of pixel ` +
          `(${lb.pixel.row}, ${lb.pixel.col}), ${fmt(lb.pixel.resolution_m, 0)} m. RSRP = Tx/RE + G - PL - SF - O2I.` });
  box.replaceChildren(summary, table, note);
  box.dataset.state = "done";
}

async function linkBudgetAt(lngLat) {
  const map = state.map;
  map.getSource("clicked").setData({ type: "FeatureCollection", features: [
    { type: "Feature", geometry: { type: "Point", coordinates: [lngLat.lng, lngLat.lat] }, properties: {} }] });
  const box = document.getElementById("linkbudget");
  box.dataset.state = "loading";
  box.className = "muted";
  box.textContent = "computing...";
  try {
    const resp = await fetch(`/api/linkbudget?lon=${lngLat.lng}&lat=${lngLat.lat}`);
    const body = await resp.json();
    if (!resp.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
    state.linkBudget = body;
    renderLinkBudget(body);
  } catch (err) {
    box.className = "error";
    box.textContent = String(err.message || err);
    box.dataset.state = "error";
  }
}

// ---- start ----------------------------------------------------------------------------------

async function main() {
  let meta;
  try {
    const resp = await fetch("/api/run");
    meta = await resp.json();
  } catch (err) {
    setStatus(`cannot read the run: ${err}`, true);
    return;
  }
  state.meta = meta;
  document.getElementById("title").textContent = meta.name;
  document.title = `cellscape: ${meta.name}`;
  const files = document.getElementById("files");
  for (const f of meta.files) files.append(el("li", {}, el("a", { href: `/files/${encodeURI(f)}`, target: "_blank", text: f })));
  if (typeof maplibregl === "undefined") {
    setStatus(`MapLibre GL JS is missing from the installed package (${meta.vendor_missing.join(", ")}): ` +
              "run `make venv` (it fetches maplibre-gl from the npm registry).", true);
    return;
  }
  const map = new maplibregl.Map({
    container: "map",
    style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#ecebe6" } }] },
    bounds: meta.bounds || undefined,
    fitBoundsOptions: { padding: 20 },
    maxZoom: 21,
    attributionControl: false,
  });
  state.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }));
  map.addControl(new maplibregl.AttributionControl({ compact: false, customAttribution: ["cellscape"].concat(meta.attribution) }));
  map.on("load", () => {
    addLayers(map, meta);
    state.groups = groupsOf(meta);
    renderLayerControls(map, state.groups);
    renderLegend();
    map.on("click", (e) => { if (meta.link_budget) linkBudgetAt(e.lngLat); });
    map.getCanvas().style.cursor = meta.link_budget ? "crosshair" : "";
    setStatus(meta.link_budget ? "Click the map for a link budget." : "No scenario.json in this folder: no link budgets.");
    map.once("idle", () => { state.ready = true; document.body.dataset.ready = "1"; });
  });
  map.on("error", (e) => { console.error(e.error || e); });
}

main();
