// cellscape serve: the run on a MapLibre GL JS map. Every request goes to this server (no CDN,
// no remote background tiles): the background is the run's own buildings.
"use strict";

const RASTER_OPACITY = 0.75;
const HIT_PX = 5;               // a click this close to a user or event opens its popup
const state = { map: null, meta: null, ready: false, linkBudget: null, popup: null, usersProperty: null };
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

function vectorLegend(meta, name) {
  const v = meta.vectors.find((x) => x.name === name);
  return v ? v.legend : undefined;
}

function firstRaster(meta) {
  // the raster shown at start: the first one, unless the folder has users (then they are the subject)
  return vectorLegend(meta, "users") ? null : meta.rasters[0];
}

function usersColour(legend, prop) {
  // the users' circle colour by property prop: the legend's stops, linear in log10 of the value (values
  // below the scale take its bottom colour); a user without a value in the no-value colour
  const sc = legend.properties[prop];
  const ramp = ["interpolate", ["linear"], ["log10", ["max", ["get", prop], sc.vmin]]];
  for (const s of sc.stops) ramp.push(Math.log10(s.value), s.colour);
  return ["case", ["==", ["typeof", ["get", prop]], "number"], ramp, legend.no_value_colour];
}

function drawSymbol(ctx, symbol, colour, size) {
  // an event symbol in a size x size box: triangle (handover), diamond (ping-pong), cross (RLF), circle
  const c = size / 2, r = size * 0.4;
  ctx.clearRect(0, 0, size, size);
  ctx.lineJoin = "round";
  ctx.beginPath();
  if (symbol === "triangle") {
    ctx.moveTo(c, c - r); ctx.lineTo(c + r, c + r * 0.8); ctx.lineTo(c - r, c + r * 0.8); ctx.closePath();
  } else if (symbol === "diamond") {
    ctx.moveTo(c, c - r); ctx.lineTo(c + r, c); ctx.lineTo(c, c + r); ctx.lineTo(c - r, c); ctx.closePath();
  } else if (symbol === "cross") {
    const a = r * 0.75;
    ctx.moveTo(c - a, c - a); ctx.lineTo(c + a, c + a); ctx.moveTo(c + a, c - a); ctx.lineTo(c - a, c + a);
    ctx.lineCap = "round";
    ctx.strokeStyle = "#ffffff"; ctx.lineWidth = size * 0.32; ctx.stroke();
    ctx.strokeStyle = colour; ctx.lineWidth = size * 0.18; ctx.stroke();
    return;
  } else {
    ctx.arc(c, c, r * 0.8, 0, 2 * Math.PI);
  }
  ctx.fillStyle = colour; ctx.fill();
  ctx.strokeStyle = "#ffffff"; ctx.lineWidth = size * 0.08; ctx.stroke();
}

function symbolCanvas(symbol, colour, size) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  drawSymbol(canvas.getContext("2d"), symbol, colour, size);
  return canvas;
}

function groupsOf(meta) {
  // toggle groups: [id, label, maplibre layer ids, opacity property or null]
  const groups = [];
  const shown = firstRaster(meta);
  for (const r of meta.rasters) {
    groups.push({ id: r.name, label: r.title, layers: [`raster-${r.name}`],
                  opacity: "raster-opacity", initial: RASTER_OPACITY, visible: r === shown, raster: r });
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
  const users = vectorLegend(meta, "users");
  if (users) {
    groups.push({ id: "users", label: `Users (${users.count})`, layers: ["users-circle"],
                  opacity: "circle-opacity", initial: 0.9, visible: true, users });
  }
  const events = vectorLegend(meta, "events");
  if (events) {
    for (const k of events.kinds) {
      const label = `${k.label[0].toUpperCase()}${k.label.slice(1)}s (${k.count})`;
      groups.push({ id: `events-${k.kind}`, label, layers: [`events-${k.kind}`],
                    visible: true, event: k });
    }
  }
  return groups;
}

function interactiveLayers() {
  // the layers whose features open a popup, topmost first
  const ids = [];
  const events = state.meta ? vectorLegend(state.meta, "events") : undefined;
  if (events) for (const k of events.kinds) ids.push(`events-${k.kind}`);
  if (state.meta && vectorLegend(state.meta, "users")) ids.push("users-circle");
  return ids;
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
  const shown = firstRaster(meta);
  for (const r of meta.rasters) {
    const src = { type: "raster", tiles: [origin + r.tiles], tileSize: 256, maxzoom: 19 };
    if (meta.bounds) src.bounds = meta.bounds;
    map.addSource(`raster-${r.name}`, src);
    map.addLayer({ id: `raster-${r.name}`, type: "raster", source: `raster-${r.name}`,
                   layout: { visibility: r === shown ? "visible" : "none" },
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
  const users = vectorLegend(meta, "users");
  if (users) {
    state.usersProperty = users.default;
    map.addSource("users", { type: "geojson", data: `${origin}/api/vector/users` });
    map.addLayer({ id: "users-circle", type: "circle", source: "users",
                   paint: { "circle-color": usersColour(users, state.usersProperty), "circle-opacity": 0.9,
                            "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2.5, 15, 4, 18, 7],
                            "circle-stroke-color": "#222222", "circle-stroke-width": 0.7 } });
  }
  const events = vectorLegend(meta, "events");
  if (events) {
    map.addSource("events", { type: "geojson", data: `${origin}/api/vector/events` });
    const px = 2 * 22;                                   // drawn at 2x for sharp icons (pixelRatio 2)
    for (const k of [...events.kinds].reverse()) {       // the first kind (handover) on top
      const ctx = symbolCanvas(k.symbol, k.colour, px).getContext("2d");
      map.addImage(`event-${k.kind}`, ctx.getImageData(0, 0, px, px), { pixelRatio: 2 });
      map.addLayer({ id: `events-${k.kind}`, type: "symbol", source: "events", filter: ["==", ["get", "kind"], k.kind],
                     layout: { "icon-image": `event-${k.kind}`, "icon-allow-overlap": true, "icon-ignore-placement": true,
                               "icon-size": ["interpolate", ["linear"], ["zoom"], 12, 0.7, 16, 1.0, 19, 1.3] } });
    }
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
  for (const g of state.groups || []) {
    if (!g.visible || !g.users) continue;
    const u = g.users;
    const prop = state.usersProperty || u.default;
    const sc = u.properties[prop];
    const select = el("select", { id: "users-colour", title: "colour the users by" });
    for (const [p, v] of Object.entries(u.properties)) {
      const opt = el("option", { value: p, text: v.title.replace(/^Users: /, "") });
      if (p === prop) opt.selected = true;
      select.append(opt);
    }
    select.addEventListener("change", () => {
      state.usersProperty = select.value;
      state.map.setPaintProperty("users-circle", "circle-color", usersColour(u, select.value));
      renderLegend();
    });
    const bar = el("div", { class: "legend-bar" });
    bar.style.background = `linear-gradient(to right, ${sc.stops.map((s) => s.colour).join(", ")})`;
    const ticks = el("div", { class: "legend-ticks log" });
    const decades = Math.round(Math.log10(sc.vmax / sc.vmin));
    for (let k = 0; k <= decades; k++) {           // one tick per decade, where it lies on the bar
      const v = sc.vmin * 10 ** k;
      const tick = el("span", { text: v < 1 ? v.toFixed(1) : fmt(v, 0) });
      tick.style.left = `${(100 * k) / decades}%`;
      tick.style.transform = k === 0 ? "none" : k === decades ? "translateX(-100%)" : "translateX(-50%)";
      ticks.append(tick);
    }
    const none = el("span", { class: "swatch" });
    none.style.background = u.no_value_colour;
    box.append(el("div", { class: "legend-item", id: "legend-users" },
      el("div", { text: `${sc.title} [${u.units}]` }), el("div", {}, "colour by ", select), bar, ticks,
      el("div", { class: "muted" }, `${u.count} users at their last position; colour map ${u.colormap}, `
         + `logarithmic, ${sc.vmin} Mbit/s and below in its first colour; `, none, ` no value (${sc.no_value})`)));
  }
  const shownEvents = (state.groups || []).filter((g) => g.visible && g.event);
  if (shownEvents.length) {
    const item = el("div", { class: "legend-item", id: "legend-events" }, el("div", { text: "Mobility events (where they happened)" }));
    for (const g of shownEvents) {
      const icon = symbolCanvas(g.event.symbol, g.event.colour, 28);
      icon.className = "legend-symbol";
      item.append(el("div", { class: "legend-event" }, icon, `${g.event.label}: ${g.event.count}`));
    }
    box.append(item);
  }
  const vec = new Set((state.meta?.vectors || []).map((v) => v.name));
  if (vec.has("buildings")) box.append(el("div", { class: "muted", text: "Buildings: grey by height, 0 to 60 m" }));
  if (vec.has("streets")) box.append(el("div", { class: "muted", text: "Streets: white lines (OSM driving network)" }));
  if (vec.has("sites")) box.append(el("div", { class: "muted", text: "Sites: red dots; sector wedges point along the azimuth" }));
  if (vec.has("plan")) box.append(el("div", { class: "muted", text: "Plan: blue existing / purple new sites, red fibre, red data centres" }));
}

// ---- users and events: popups ---------------------------------------------------------------

function popupRows(layer, p) {
  const yesNo = (v) => (v === null || v === undefined ? "n/a" : v ? "yes" : "no");
  if (layer === "users-circle") {
    return [`user ${p.ue_id}`, [
      ["group", p.group], ["device", p.device], ["slice", p.slice], ["indoor", yesNo(p.indoor)],
      ["DL throughput [Mbit/s]", fmt(p.dl_throughput_mbps, 2)], ["UL throughput [Mbit/s]", fmt(p.ul_throughput_mbps, 2)],
      ["user throughput [Mbit/s]", fmt(p.user_throughput_mbps, 2)], ["mean SINR [dB]", fmt(p.mean_sinr_db, 1)],
      ["serving sector", p.serving_sector_id], ["handovers", p.handovers], ["ping-pongs", p.ping_pongs],
      ["radio-link failures", p.rlfs]]];
  }
  const ev = (vectorLegend(state.meta, "events")?.kinds || []).find((k) => k.kind === p.kind);
  return [ev ? ev.label : String(p.kind), [
    ["time [s]", fmt(p.time_s, 3)], ["user", p.user], ["from sector", p.from_sector], ["to sector", p.to_sector]]];
}

function showPopup(feature, lngLat) {
  const [title, rows] = popupRows(feature.layer.id, feature.properties);
  const table = el("table", { class: "kv", id: "feature-popup" });
  for (const [k, v] of rows) {
    table.append(el("tr", {}, el("td", { text: k }), el("td", { text: v === null || v === undefined ? "n/a" : String(v) })));
  }
  const box = el("div", { class: "popup" }, el("h3", { text: title }), table);
  if (state.popupHandle) state.popupHandle.remove();
  state.popupHandle = new maplibregl.Popup({ closeButton: true, maxWidth: "320px" })
    .setLngLat(feature.geometry.type === "Point" ? feature.geometry.coordinates : lngLat)
    .setDOMContent(box).addTo(state.map);
  state.popup = { layer: feature.layer.id, properties: feature.properties };
}

function featureAt(point) {
  const ids = interactiveLayers().filter((id) => state.map.getLayer(id));
  if (!ids.length) return null;
  const box = [[point.x - HIT_PX, point.y - HIT_PX], [point.x + HIT_PX, point.y + HIT_PX]];
  const hits = state.map.queryRenderedFeatures(box, { layers: ids });
  if (!hits.length) return null;
  // the nearest feature of the topmost layer under the click
  const rank = (f) => ids.indexOf(f.layer.id);
  const dist = (f) => {
    const q = state.map.project(f.geometry.coordinates);
    return (q.x - point.x) ** 2 + (q.y - point.y) ** 2;
  };
  hits.sort((a, b) => rank(a) - rank(b) || dist(a) - dist(b));
  return hits[0];
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
    const baseCursor = meta.link_budget ? "crosshair" : "";
    map.on("click", (e) => {
      const hit = featureAt(e.point);
      if (hit) { showPopup(hit, e.lngLat); return; }
      if (meta.link_budget) linkBudgetAt(e.lngLat);
    });
    map.on("mousemove", (e) => { map.getCanvas().style.cursor = featureAt(e.point) ? "pointer" : baseCursor; });
    map.getCanvas().style.cursor = baseCursor;
    const pick = interactiveLayers().length ? "Click a user or an event for its details" : "";
    setStatus(meta.link_budget ? (pick ? `${pick}, elsewhere for a link budget.` : "Click the map for a link budget.")
                               : (pick ? `${pick}. No scenario.json: no link budgets.` : "No scenario.json in this folder: no link budgets."));
    map.once("idle", () => { state.ready = true; document.body.dataset.ready = "1"; });
  });
  map.on("error", (e) => { console.error(e.error || e); });
}

main();
