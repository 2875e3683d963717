// Drawing for the graphgrad Playground: heat maps, the data, the loss curve and the network
// diagram.  Plain DOM and canvas; no libraries.
"use strict";

const Draw = (() => {
  // The TensorFlow Playground's scale: orange (-1), near-white (0), blue (+1).
  const NEG = [245, 147, 34], MID = [232, 234, 235], POS = [8, 119, 189];
  const FEATURE_LABELS = {x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂",
                          sinx1: "sin x₁", sinx2: "sin x₂"};

  function colour(v, discretize) {
    if (v === null || Number.isNaN(v)) return [128, 128, 128];
    if (discretize) v = v >= 0 ? 1 : -1;
    v = Math.max(-1, Math.min(1, v));
    const [a, b, t] = v < 0 ? [MID, NEG, -v] : [MID, POS, v];
    return [0, 1, 2].map(i => Math.round(a[i] + (b[i] - a[i]) * t));
  }
  const css = rgb => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

  // values: cells*cells numbers, row by row from the top.
  function heat(canvas, values, cells, discretize) {
    const off = document.createElement("canvas");
    off.width = off.height = cells;
    const octx = off.getContext("2d"), img = octx.createImageData(cells, cells);
    for (let i = 0; i < cells * cells; i++) {
      const c = colour(values[i], discretize);
      img.data.set([c[0], c[1], c[2], 255], i * 4);
    }
    octx.putImageData(img, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = !discretize;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  }

  function boundary(canvas, state, data, showTest, discretize) {
    if (state.boundary) heat(canvas, state.boundary, state.boundary_cells, discretize);
    else { const c = canvas.getContext("2d"); c.fillStyle = "#ddd"; c.fillRect(0, 0, canvas.width, canvas.height); }
    if (!data) return;
    const ctx = canvas.getContext("2d"), e = state.extent, w = canvas.width, h = canvas.height;
    data.points.forEach((p, i) => {
      const test = i >= data.n_train;
      if (test && !showTest) return;
      const x = (p[0] + e) / (2 * e) * w, y = (e - p[1]) / (2 * e) * h;
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fillStyle = css(colour(data.labels[i], false));
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = test ? "black" : "white";
      ctx.stroke();
    });
  }

  function curve(canvas, history) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const vals = history.flatMap(r => [r[1], r[2]]).filter(v => v !== null);
    if (history.length < 2 || !vals.length) return;
    const top = Math.max(...vals) || 1, last = history[history.length - 1][0] || 1;
    [[2, "#222"], [1, "#999"]].forEach(([k, col]) => {   // test loss dark, training loss grey
      ctx.beginPath();
      ctx.strokeStyle = col;
      ctx.lineWidth = 1.5;
      history.forEach((r, i) => {
        if (r[k] === null) return;
        const x = r[0] / last * (w - 2) + 1, y = h - 2 - r[k] / top * (h - 4);
        i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      });
      ctx.stroke();
    });
  }

  // The network: features (all seven, the chosen ones wired), hidden layers, the output.  The
  // elements are rebuilt only when the shape changes (so buttons stay put while training); each
  // refresh repaints the heat maps and re-styles the weights.
  const COL = 110, ROW = 50, NODE = 36, TOP = 34, LEFT = 70;
  function network(el, state, handlers) {
    const s = state.settings, layers = s.layers;
    const key = JSON.stringify([layers, s.features]);
    if (el._key !== key) build(el, state, handlers);
    el._key = key;
    const maps = state.neurons, chosen = el._chosen;
    el._nodes.forEach(({c, j, canvas, box, feature}) => {
      let values = null;
      if (maps) values = c === 0 ? (chosen.includes(j) ? maps[0][chosen.indexOf(j)] : null) : maps[c][j];
      if (values) heat(canvas, c === 0 ? scaleFeature(values) : values, state.neuron_cells, false);
      if (!feature && state.weights && state.weights[c - 1]) box.title = `bias ${state.weights[c - 1].b[j].toFixed(4)}`;
    });
    el._paths.forEach(({k, o, i, path, title}) => {
      const lw = state.weights && state.weights[k];
      if (!lw) return;
      const v = lw.w[o][i];
      path.setAttribute("stroke", css(colour(Math.sign(v), false)));
      path.setAttribute("stroke-width", Math.min(0.5 + Math.abs(v) * 2, 8).toFixed(2));
      title.textContent = `weight ${v.toFixed(4)}`;
    });
  }

  function build(el, state, handlers) {
    const s = state.settings, layers = s.layers, schema = handlers.schema;
    const cols = [schema.features.map(f => ({feature: f, on: s.features.includes(f)}))];
    layers.forEach(n => cols.push(Array.from({length: n}, () => ({}))));
    cols.push([{}]);
    const height = TOP + Math.max(...cols.map(c => c.length)) * ROW + 10;
    const width = LEFT + (cols.length - 1) * COL + NODE + 10;
    el.innerHTML = "";
    el.style.height = height + "px";
    el.style.width = width + "px";
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.classList.add("links");
    el.appendChild(svg);
    const pos = (c, j) => [LEFT + c * COL + NODE / 2, TOP + j * ROW + NODE / 2];
    // layer k's weights are (out, in); the inputs of layer 0 are the chosen features
    const chosen = cols[0].map((f, j) => f.on ? j : -1).filter(j => j >= 0);
    el._chosen = chosen;
    el._paths = [];
    el._nodes = [];
    for (let k = 0; k < cols.length - 1; k++) {
      const from = k === 0 ? chosen : cols[k].map((_, j) => j);
      cols[k + 1].forEach((_, o) => from.forEach((jj, i) => {
        const [x1, y1] = pos(k, jj), [x2, y2] = pos(k + 1, o);
        const path = document.createElementNS(svg.namespaceURI, "path");
        const mx = (x1 + x2) / 2;
        path.setAttribute("d", `M${x1 + NODE / 2},${y1} C${mx},${y1} ${mx},${y2} ${x2 - NODE / 2},${y2}`);
        path.setAttribute("fill", "none");
        path.classList.add("weight");
        const title = document.createElementNS(svg.namespaceURI, "title");
        path.appendChild(title);
        svg.appendChild(path);
        el._paths.push({k, o, i, path, title});
      }));
    }
    cols.forEach((col, c) => {
      if (c > 0 && c <= layers.length) {     // the layer's own +/- buttons
        const head = document.createElement("div");
        head.className = "layer-head";
        head.style.left = (LEFT + c * COL - 22) + "px";
        const add = button("+", `neurons-add-${c}`, () => handlers.action("neurons-add", c));
        const rem = button("−", `neurons-remove-${c}`, () => handlers.action("neurons-remove", c));
        const n = document.createElement("span");
        n.textContent = `${layers[c - 1]} neuron${layers[c - 1] > 1 ? "s" : ""}`;
        head.append(add, rem, n);
        el.appendChild(head);
      }
      col.forEach((node, j) => {
        const [x, y] = pos(c, j);
        const box = document.createElement("div");
        box.className = "node" + (node.feature && !node.on ? " off" : "") + (c === cols.length - 1 ? " out" : "");
        box.style.left = (x - NODE / 2) + "px";
        box.style.top = (y - NODE / 2) + "px";
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = NODE;
        box.appendChild(canvas);
        el.appendChild(box);
        el._nodes.push({c, j, canvas, box, feature: node.feature});
        if (!node.feature) return;
        const label = document.createElement("label");
        label.className = "feature";
        const check = document.createElement("input");
        check.type = "checkbox";
        check.checked = node.on;
        check.setAttribute("data-testid", `feature-${node.feature}`);
        check.addEventListener("change", () => handlers.feature(node.feature, check.checked, check));
        label.append(check, document.createTextNode(FEATURE_LABELS[node.feature] || node.feature));
        label.style.left = "0px";
        label.style.top = (y - 9) + "px";
        el.appendChild(label);
      });
    });
  }

  // Features such as x1² reach 36: shown on the scale of their largest value.
  function scaleFeature(values) {
    const top = Math.max(...values.map(Math.abs)) || 1;
    return values.map(v => v / top);
  }

  function button(text, testid, onclick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small";
    b.textContent = text;
    b.setAttribute("data-testid", testid);
    b.addEventListener("click", onclick);
    return b;
  }

  return {heat, boundary, curve, network, colour};
})();
