// The graphgrad Playground page: one session per tab on the Python server, which trains; this
// script sends the controls' changes, polls while playing and draws what comes back.
"use strict";

(() => {
  const $ = id => document.getElementById(id);
  const controls = [...document.querySelectorAll("[data-key]")];
  let schema = null, sid = null, state = null, version = -1, points = null;
  let clientError = "", looping = false, lastGraph = 0, graphBusy = false, bp = null, bpIndex = 0;

  // ---- talking to the server -------------------------------------------------------------
  async function request(method, path, body, raw) {
    const opts = {method, headers: {}};
    if (body !== undefined) {
      opts.body = raw ? body : JSON.stringify(body);
      opts.headers["Content-Type"] = raw ? "text/csv" : "application/json";
    }
    const r = await fetch(path, opts);
    const type = r.headers.get("Content-Type") || "";
    const data = type.startsWith("application/json") ? await r.json() : await r.text();
    return {status: r.status, data};
  }

  // A call on this tab's session; an expired session is replaced (from the URL's settings) once.
  async function call(method, what, body, raw) {
    let r = await request(method, `/api/session/${sid}/${what}`, body, raw);
    if (r.status === 404 && r.data && r.data.expired) {
      await start(location.hash);
      r = await request(method, `/api/session/${sid}/${what}`, body, raw);
    }
    return r;
  }

  async function start(fragment) {
    const r = await request("POST", "/api/session", {fragment: fragment || ""});
    sid = r.data.id;
    version = -1;
    points = null;
    $("export-model").href = `/api/session/${sid}/model.npz`;
    $("export-code").href = `/api/session/${sid}/script.py`;
    apply(r.data.state, !r.data.state.error);
  }

  // A reply to a change: a refusal shows its message and puts the controls back.
  async function change(what, body, raw) {
    const r = await call("POST", what, body, raw);
    if (r.status === 200) {
      clientError = "";
      apply(r.data, true);
      refreshGraph(true);
      if (bp) openBackprop(false);
    } else {
      if (r.data && r.data.state) apply(r.data.state, false);
      showError(r.data && r.data.error ? r.data.error : `the server answered ${r.status}`);
    }
    loop();
  }

  // ---- state -> page ---------------------------------------------------------------------
  function apply(st, updateUrl) {
    if (st.version !== undefined && st.version < version) return;   // an older reply
    version = st.version;
    state = st;
    const s = st.settings;
    controls.forEach(el => {
      if (document.activeElement === el && el.tagName === "INPUT" && el.type === "number") return;
      const v = s[el.dataset.key];
      if (el.type === "checkbox") el.checked = !!v;
      else el.value = String(v);
    });
    $("epoch").textContent = String(st.epoch);
    $("loss-train").textContent = st.loss_train;
    $("loss-test").textContent = st.loss_test;
    $("play").textContent = st.playing ? "❚❚" : "▶";
    $("play").classList.toggle("playing", st.playing);
    $("layer-count").textContent = s.layers.length;
    $("error").textContent = st.error || clientError;
    $("error-reset").hidden = !st.diverged;
    $("custom").hidden = !st.custom;
    if (st.custom) $("custom").textContent = `Using your file ${st.custom.name} (${st.custom.rows} rows); pick a dataset to leave it.`;
    $("regenerate").disabled = !!st.custom;
    if (updateUrl && ("#" + st.fragment) !== location.hash) history.replaceState(null, "", "#" + st.fragment);
    if (!points || points.data_version !== st.data_version) loadPoints(st.data_version);
    draw();
  }

  async function loadPoints(v) {
    const r = await call("GET", "points");
    if (r.status === 200 && r.data.data_version === v) { points = r.data; draw(); }
  }

  function draw() {
    const s = state.settings;
    Draw.boundary($("boundary"), state, points, s["show-test"], s.discretize);
    Draw.curve($("curve"), state.history);
    Draw.network($("network"), state, {schema, action: (a, layer) => change("action", {action: a, layer}),
      feature: toggleFeature});
  }

  // Messages of the page's own checks stay until the next accepted change, as the server's do.
  function showError(message) { clientError = message; $("error").textContent = message; }

  // ---- controls --------------------------------------------------------------------------
  // The page checks what it can before asking; the server checks everything again.
  function check(key, raw) {
    const num = schema.numbers[key], choices = schema.choices[key];
    if (num) {
      const what = num.integer ? "an integer" : "a number";
      const v = Number(raw);
      if (String(raw).trim() === "" || !Number.isFinite(v)) return [null, `${key} must be ${what} from ${num.min} to ${num.max}, got '${raw}'`];
      if (v < num.min || v > num.max) return [null, `${key} must be from ${num.min} to ${num.max}, got ${v}`];
      if (num.integer && !Number.isInteger(v)) return [null, `${key} must be a whole number, got ${v}`];
      return [v, null];
    }
    if (choices && !choices.includes(raw)) return [null, `${key} must be one of ${choices.join(", ")}; got '${raw}'`];
    return [raw, null];
  }

  controls.forEach(el => el.addEventListener("change", () => {
    const key = el.dataset.key;
    if (el.type === "checkbox") return change("settings", {[key]: el.checked});
    const [value, problem] = check(key, el.value);
    if (problem) { showError(problem); el.value = String(state.settings[key]); return; }
    change("settings", {[key]: value});
  }));

  function toggleFeature(name, on, box) {
    const chosen = state.settings.features.filter(f => f !== name).concat(on ? [name] : []);
    if (!chosen.length) {
      box.checked = true;
      return showError("features: pick at least one input feature");
    }
    change("settings", {features: chosen});
  }

  const act = name => () => change("action", {action: name});
  $("play").addEventListener("click", act("play"));
  $("step").addEventListener("click", act("step"));
  $("reset").addEventListener("click", act("reset"));
  $("error-reset").addEventListener("click", act("reset"));
  $("regenerate").addEventListener("click", act("regenerate"));
  $("layers-add").addEventListener("click", act("layers-add"));
  $("layers-remove").addEventListener("click", act("layers-remove"));

  $("upload").addEventListener("change", async () => {
    const input = $("upload"), file = input.files[0];
    if (!file) return;
    input.value = "";
    if (file.size > 1048576) return showError(`${file.name}: the file has ${file.size.toLocaleString("en")} bytes; at most 1,048,576 (1 MB) are accepted`);
    const body = await file.arrayBuffer();
    change(`upload?name=${encodeURIComponent(file.name)}`, body, true);
  });

  window.addEventListener("hashchange", () => {
    if (location.hash.slice(1) !== state.fragment) change("fragment", {fragment: location.hash});
  });

  // ---- training loop and the views -------------------------------------------------------
  async function loop() {
    if (looping || !state || !state.playing) return;
    looping = true;
    try {
      while (state.playing) {
        const r = await call("POST", "advance", {});
        if (r.status !== 200) { if (r.data && r.data.error) showError(r.data.error); break; }
        apply(r.data, false);
        if (Date.now() - lastGraph > 2000) refreshGraph(false);
        await new Promise(ok => setTimeout(ok, 15));
      }
    } finally {
      looping = false;
    }
    refreshGraph(true);
  }

  async function refreshGraph(now) {
    if (graphBusy || (!now && Date.now() - lastGraph < 2000) || !state || state.diverged) return;
    graphBusy = true;
    lastGraph = Date.now();
    try {
      const r = await call("GET", "graph.svg");
      if (r.status === 200) $("graph").innerHTML = r.data;
      else $("graph").textContent = (r.data && r.data.error) || `no graph (${r.status})`;
    } finally {
      graphBusy = false;
    }
  }

  async function openBackprop(reset) {
    const r = await call("GET", "backprop");
    if (r.status !== 200) return showError((r.data && r.data.error) || "backprop view failed");
    bp = r.data;
    if (reset) bpIndex = 0;
    bpIndex = Math.min(bpIndex, bp.steps.length - 1);
    $("backprop-view").hidden = false;
    showStep();
  }

  function showStep() {
    const step = bp.steps[bpIndex], panel = $("backprop-panel");
    const ex = bp.example;
    $("backprop-where").textContent = `node ${bpIndex + 1} of ${bp.steps.length}`;
    $("backprop-prev").disabled = bpIndex === 0;
    $("backprop-next").disabled = bpIndex === bp.steps.length - 1;
    panel.innerHTML = "";
    const h = document.createElement("h3");
    h.textContent = `${step.title} — node ${step.node}`;
    const intro = document.createElement("p");
    intro.className = "note";
    intro.textContent = `One training example: point (${ex.point.join(", ")}), target ${ex.target}, loss E = ${bp.loss}.`;
    const f = document.createElement("p");
    f.className = "formula";
    f.textContent = step.formula;
    const table = document.createElement("table");
    step.rows.forEach(([k, v]) => {
      const tr = table.insertRow();
      tr.insertCell().textContent = k;
      tr.insertCell().textContent = v;
    });
    const c = document.createElement("p");
    c.className = "check";
    c.textContent = step.check;
    panel.append(h, intro, f, table, c);
  }

  $("backprop").addEventListener("click", () => openBackprop(true));
  $("backprop-next").addEventListener("click", () => { if (bp && bpIndex < bp.steps.length - 1) { bpIndex++; showStep(); } });
  $("backprop-prev").addEventListener("click", () => { if (bp && bpIndex > 0) { bpIndex--; showStep(); } });

  // Keep the session alive while the tab is open but paused; say goodbye when it closes.
  setInterval(() => { if (sid && state && !state.playing) call("GET", "state").then(r => r.status === 200 && apply(r.data, false)); }, 20000);
  window.addEventListener("pagehide", () => { if (sid) navigator.sendBeacon(`/api/session/${sid}/close`, "{}"); });

  (async () => {
    schema = (await request("GET", "/api/schema")).data;
    await start(location.hash);
    refreshGraph(true);
  })();
})();
