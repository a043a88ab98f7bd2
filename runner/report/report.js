/* report.js — the page `exprun report` writes: learning curves, a sortable table of the runs, a
 * parallel-coordinates view of a sweep's keys against its metric, and a panel per run. The data is
 * the JSON in <script id="report-data"> (runner/report.c writes it); charts are uPlot's. When all is
 * drawn, <body> gets data-ready="yes" and data-load-ms (the time this script took), which the
 * suite's headless-browser test reads. A link can open the page sorted and with its panels open:
 * report.html#sort=-best_val&open=all (sort: a column, "-" for descending; open: all). */
(function () {
  'use strict';
  const started = performance.now();
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const runs = data.runs;
  /* Tableau 10, as exprun plot draws: run i has colour i mod 10 */
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
                   '#bcbd22', '#17becf'];
  const colour = (i) => PALETTE[i % PALETTE.length];
  /* the y axis: "loss: squared error per example", or "loss (differs between runs)" */
  const lossAxis = data.loss_label[0] === '(' ? 'loss ' + data.loss_label : 'loss: ' + data.loss_label;
  const LEGEND_MAX = 20;   /* past this many runs a chart's legend would be a wall: the table names them */
  const GRID = 1000;       /* points of the training curves' shared x grid */

  /* report.html#sort=-best_val&open=all: the options a link gives the page */
  function hashOption(name) {
    const m = new RegExp('(?:^|&)' + name + '=([^&]*)').exec(location.hash.replace(/^#/, ''));
    return m ? decodeURIComponent(m[1]) : null;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function chartWidth() {
    return Math.max(480, Math.min(1200, document.documentElement.clientWidth - 48));
  }

  /* TensorBoard's debiased exponential moving average (exprun plot --smooth: plot_smooth). */
  function smooth(y, w) {
    const out = new Array(y.length);
    let m = 0, decay = 1;
    for (let i = 0; i < y.length; i++) {
      if (y[i] === null || !isFinite(y[i]) || w <= 0) { out[i] = y[i]; continue; }
      m = w * m + (1 - w) * y[i];
      decay *= w;
      out[i] = m / (1 - decay);
    }
    return out;
  }

  /* y at x by linear interpolation between a run's points (xs ascending); null outside them. */
  function resample(xs, ys, grid) {
    const out = new Array(grid.length).fill(null);
    let j = 0;
    for (let g = 0; g < grid.length; g++) {
      const x = grid[g];
      if (!xs.length || x < xs[0] || x > xs[xs.length - 1]) continue;
      while (j + 1 < xs.length && xs[j + 1] < x) j++;
      const x0 = xs[j], y0 = ys[j];
      const x1 = j + 1 < xs.length ? xs[j + 1] : x0, y1 = j + 1 < xs.length ? ys[j + 1] : y0;
      if (y0 === null || y1 === null) { out[g] = x === x0 ? y0 : x === x1 ? y1 : null; continue; }
      out[g] = x1 === x0 ? y0 : y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
    return out;
  }

  /* A run's training loss as drawn: per step where it logged more steps than epochs, else per epoch. */
  function trainSeries(r) {
    if (r.steps && r.steps.x.length > Math.max(1, r.epochs.length)) return {x: r.steps.x, y: r.steps.y};
    return {x: r.epochs, y: r.train};
  }

  function logScale(columns) {
    let lo = Infinity, hi = -Infinity;
    for (const ys of columns)
      for (const y of ys) if (y !== null && y > 0) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    return lo > 0 && isFinite(lo) && hi / lo > 100;
  }

  /* few points: markers on them, as exprun plot draws */
  function seriesOpts(dashed, columns) {
    return runs.map((r, i) => ({label: r.label, stroke: colour(i), fill: undefined, width: 1.5,
                                dash: dashed ? [6, 4] : undefined, spanGaps: true,
                                points: {show: columns[i].filter((v) => v !== null).length <= 40, size: 5}}));
  }

  const charts = [];

  function makeChart(target, title, xLabel, yLabel, xs, columns, dashed, logY) {
    const opts = {
      title: title, width: chartWidth(), height: 340,
      scales: {x: {time: false}, y: logY ? {distr: 3} : {}},
      axes: [{label: xLabel}, {label: yLabel, size: 70}],
      series: [{label: xLabel}].concat(seriesOpts(dashed, columns)),
      legend: {show: runs.length <= LEGEND_MAX},
      cursor: {focus: {prox: 16}},
      focus: {alpha: 0.3},
    };
    const chart = new uPlot(opts, [xs].concat(columns), target);
    target.dataset.yLabel = yLabel;     /* uPlot draws its labels on the canvas: the DOM keeps them here */
    target.dataset.series = String(columns.length);
    target.dataset.points = String(columns.reduce((n, c) => n + c.filter((v) => v !== null).length, 0));
    charts.push(chart);
    return chart;
  }

  /* ---- curves ---------------------------------------------------------------------------------- */

  /* Each run's (smoothed) training loss on the shared x: where the runs' x values are few, their
   * union (every point exact, gaps spanned); else a grid of GRID points, linearly interpolated. */
  function trainingColumns(grid, exact, w) {
    return runs.map((r) => {
      const s = trainSeries(r), y = smooth(s.y, w);
      if (!exact) return resample(s.x, y, grid);
      const at = new Map(s.x.map((x, i) => [x, y[i]]));
      return grid.map((x) => (at.has(x) ? at.get(x) : null));
    });
  }

  function drawCurves() {
    let maxX = 1;
    const xs = new Set();
    for (const r of runs) {
      const s = trainSeries(r);
      if (s.x.length) maxX = Math.max(maxX, s.x[s.x.length - 1]);
      if (xs.size <= 2 * GRID) s.x.forEach((x) => xs.add(x));
    }
    const exact = xs.size <= 2 * GRID;
    const grid = exact ? Array.from(xs).sort((a, b) => a - b) : Array.from({length: GRID}, (_, i) => maxX * i / (GRID - 1));
    const slider = document.getElementById('smooth'), shown = document.getElementById('smooth-value');
    const w = () => Number(slider.value);
    const trainCols = trainingColumns(grid, exact, w());
    const train = makeChart(document.getElementById('train-chart'), 'Training loss (per step where logged)', 'epoch',
                            lossAxis, grid, trainCols, false, logScale(trainCols));
    shown.textContent = w().toFixed(2);
    slider.addEventListener('input', () => {
      shown.textContent = w().toFixed(2);
      train.setData([grid].concat(trainingColumns(grid, exact, w())));
    });
    /* validation and accuracy per epoch, on the union of the runs' epochs */
    const epochs = Array.from(new Set([].concat(...runs.map((r) => r.epochs)))).sort((a, b) => a - b);
    const at = (r, ys) => { const m = new Map(r.epochs.map((e, i) => [e, ys ? ys[i] : null])); return epochs.map((e) => m.has(e) ? m.get(e) : null); };
    const valCols = runs.map((r) => at(r, r.val));
    makeChart(document.getElementById('val-chart'), 'Validation loss (per epoch)', 'epoch', lossAxis,
              epochs, valCols, true, logScale(valCols));
    if (runs.some((r) => r.val_acc && r.val_acc.some((v) => v !== null))) {
      const target = document.getElementById('acc-chart');
      target.hidden = false;
      makeChart(target, 'Validation accuracy (per epoch)', 'epoch', 'accuracy', epochs,
                runs.map((r) => at(r, r.val_acc)), true, false);
    }
    window.addEventListener('resize', () => charts.forEach((c) => c.setSize({width: chartWidth(), height: 340})));
  }

  /* ---- the table ------------------------------------------------------------------------------- */

  function formatCell(col, v) {
    if (v === null || v === undefined || v === '') return '-';
    if (col.format === 'text') return v;
    if (col.format === 'integer') return String(Math.round(v));
    if (col.format === 'seconds') {
      if (v < 60) return v.toFixed(1) + 's';
      const s = Math.round(v);
      return Math.floor(s / 3600) + ':' + String(Math.floor(s / 60) % 60).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
    }
    if (col.format === 'key') return String(v);
    return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e9 ? v.toPrecision(5) : v.toExponential(4);
  }

  function drawTable() {
    const table = document.getElementById('runs');
    const cols = data.table.columns;
    const head = el('tr');
    head.appendChild(el('th', {}, ''));
    cols.forEach((c, j) => {
      const th = el('th', {'data-col': String(j), class: c.format === 'text' ? 'text' : 'num', title: 'sort'}, c.name);
      head.appendChild(th);
    });
    const thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    const body = el('tbody');
    table.appendChild(body);
    const rows = data.table.rows.map((cells, i) => {
      const tr = el('tr', {class: 'run' + (i === data.table.best ? ' best' : ''), 'data-run': String(i)});
      const mark = el('td', {class: 'swatch'});
      mark.style.background = colour(i);
      tr.appendChild(mark);
      cells.forEach((v, j) => tr.appendChild(el('td', {class: cols[j].format === 'text' ? 'text' : 'num'},
                                                  (j === 0 && i === data.table.best ? '★ ' : '') + formatCell(cols[j], v))));
      tr.addEventListener('click', () => openPanel(i));
      return {tr: tr, cells: cells};
    });
    rows.forEach((r) => body.appendChild(r.tr));
    let sortCol = -1, descending = false;
    function sortBy(th, j, down) {
      descending = down;
      sortCol = j;
      const missing = (v) => v === null || v === '' || v === undefined;
      rows.sort((a, b) => {
        const x = a.cells[j], y = b.cells[j];
        if (missing(x) || missing(y)) return missing(x) - missing(y);   /* none last, either way */
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return descending ? -c : c;
      });
      rows.forEach((r) => body.appendChild(r.tr));
      head.querySelectorAll('th').forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    }
    head.addEventListener('click', (ev) => {
      const th = ev.target.closest('th');
      if (!th || th.dataset.col === undefined) return;
      const j = Number(th.dataset.col);
      sortBy(th, j, sortCol === j ? !descending : false);
    });
    const wanted = hashOption('sort');
    if (wanted) {
      const name = wanted.replace(/^-/, ''), j = cols.findIndex((c) => c.name === name);
      if (j >= 0) sortBy(head.querySelector('th[data-col="' + j + '"]'), j, wanted[0] === '-');
    }
    if (data.table.best >= 0)
      document.getElementById('best').textContent = 'Best (' + data.table.criterion + '): ' + runs[data.table.best].label;
  }

  /* ---- parallel coordinates ------------------------------------------------------------------- */

  function drawParallel() {
    const svg = document.getElementById('parallel');
    const cols = data.table.columns;
    const keys = cols.map((c, j) => j).filter((j) => cols[j].key);
    const metricName = data.table.criterion || 'best_val';
    const m = cols.findIndex((c) => c.name === metricName);
    if (!keys.length || m < 0 || runs.length < 2) {
      svg.replaceWith(el('p', {class: 'note', id: 'parallel'}, 'No keys differ between these runs: nothing to set against '
                                                              + metricName + '.'));
      return;
    }
    const axes = keys.concat([m]);
    const W = chartWidth(), H = 360, top = 30, bottom = 40, left = 60, right = 60;
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const NS = 'http://www.w3.org/2000/svg';
    const mk = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; svg.appendChild(e); return e; };
    const xs = axes.map((_, a) => left + (W - left - right) * (axes.length === 1 ? 0.5 : a / (axes.length - 1)));
    /* each axis: numbers linear (log when they span over 50x and are positive), texts evenly spaced */
    const scales = axes.map((j) => {
      const vals = data.table.rows.map((r) => r[j]).filter((v) => v !== null && v !== '');
      if (vals.every((v) => typeof v === 'number')) {
        let lo = Math.min(...vals), hi = Math.max(...vals);
        const log = lo > 0 && hi / lo > 50;
        const f = log ? Math.log10 : (v) => v;
        if (log) { lo = f(lo); hi = f(hi); }
        if (hi === lo) { hi += 1; lo -= 1; }
        return {pos: (v) => (v === null ? null : top + (H - top - bottom) * (1 - (f(v) - lo) / (hi - lo))),
                ticks: [[Math.min(...vals), null], [Math.max(...vals), null]]};
      }
      const cats = Array.from(new Set(vals.map(String)));
      return {pos: (v) => (v === null || v === '' ? null : top + (H - top - bottom) * (cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1))),
              ticks: cats.map((c) => [c, null])};
    });
    const metric = data.table.rows.map((r) => r[m]).filter((v) => v !== null);
    const mlo = Math.min(...metric), mhi = Math.max(...metric);
    const higher = cols[m].higher_is_better;
    data.table.rows.forEach((r, i) => {
      const pts = axes.map((j, a) => [xs[a], scales[a].pos(r[j])]).filter((p) => p[1] !== null);
      if (pts.length < 2) return;
      /* better runs darker and on top: the colour goes from light (worse) to dark blue (better) */
      const v = r[m], good = v === null ? 0 : (mhi === mlo ? 1 : (higher ? v - mlo : mhi - v) / (mhi - mlo));
      const shade = Math.round(210 - 180 * good);
      mk('polyline', {points: pts.map((p) => p.join(',')).join(' '), fill: 'none', class: 'pc-line',
                      stroke: 'rgb(' + Math.round(shade * 0.6) + ',' + Math.round(shade * 0.8) + ',' + Math.min(255, shade + 60) + ')',
                      'stroke-width': i === data.table.best ? 3 : 1.2, 'data-run': String(i)});
    });
    axes.forEach((j, a) => {
      mk('line', {x1: xs[a], x2: xs[a], y1: top, y2: H - bottom, stroke: '#333'});
      mk('text', {x: xs[a], y: H - bottom + 18, 'text-anchor': 'middle', class: 'pc-axis'}, cols[j].name);
      const vals = data.table.rows.map((r) => r[j]).filter((v) => v !== null && v !== '');
      const shown = Array.from(new Set(vals.map((v) => (typeof v === 'number' ? v : String(v)))));
      (shown.length <= 8 ? shown : [Math.min(...vals), Math.max(...vals)]).forEach((v) => {
        const y = scales[a].pos(v);
        if (y !== null) mk('text', {x: xs[a] + 5, y: y + 4, class: 'pc-tick'}, typeof v === 'number' ? formatCell(cols[j], v) : v);
      });
    });
  }

  /* ---- a panel per run -------------------------------------------------------------------------- */

  function drawImages(target, im) {
    const d = im.rows * im.cols, cell = Math.max(1, Math.floor(56 / Math.max(im.rows, im.cols)));
    let lo = Infinity, hi = -Infinity;
    for (const v of im.in) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!(hi > lo)) hi = lo + 1;
    const canvas = el('canvas', {width: im.n * (im.cols * cell + 6), height: 2 * (im.rows * cell) + 4, class: 'recon'});
    const ctx = canvas.getContext('2d');
    [im.in, im.out].forEach((arr, row) => {
      for (let k = 0; k < im.n; k++)
        for (let i = 0; i < im.rows; i++)
          for (let j = 0; j < im.cols; j++) {
            const t = Math.max(0, Math.min(1, (arr[k * d + i * im.cols + j] - lo) / (hi - lo)));
            const g = Math.round(t * 255);
            ctx.fillStyle = 'rgb(' + g + ',' + g + ',' + g + ')';
            ctx.fillRect(k * (im.cols * cell + 6) + j * cell, row * (im.rows * cell + 4) + i * cell, cell, cell);
          }
    });
    target.appendChild(el('p', {}, 'Validation inputs (upper row) and their reconstructions (lower row)'));
    target.appendChild(canvas);
  }

  /* ‖∂L/∂h_t‖ over t (columns) for each epoch (rows), log colour scale: dark = small, yellow = large. */
  function drawHeatmap(target, g) {
    const cw = Math.max(2, Math.min(24, Math.floor(900 / g.T))), ch = Math.max(4, Math.min(24, Math.floor(240 / g.rows)));
    const canvas = el('canvas', {width: g.T * cw, height: g.rows * ch, class: 'heatmap'});
    const ctx = canvas.getContext('2d');
    const logs = g.data.map((v) => (v !== null && v > 0 ? Math.log10(v) : null)).filter((v) => v !== null);
    const lo = Math.min(...logs), hi = Math.max(...logs);
    for (let e = 0; e < g.rows; e++)
      for (let t = 0; t < g.T; t++) {
        const v = g.data[e * g.T + t];
        const u = v !== null && v > 0 ? (hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 0.5) : null;
        ctx.fillStyle = u === null ? '#fff' : 'rgb(' + Math.round(68 + 185 * u) + ',' + Math.round(1 + 230 * u) + ',' + Math.round(84 + 50 * (1 - u)) + ')';
        ctx.fillRect(t * cw, e * ch, cw, ch);
      }
    target.appendChild(el('p', {}, 'Gradient norm ‖∂L/∂h_t‖ over time t (columns) for each epoch (rows, first at the top); ' +
                                   'log colour scale from ' + Math.pow(10, lo).toPrecision(2) + ' (dark) to ' +
                                   Math.pow(10, hi).toPrecision(2) + ' (yellow)'));
    target.appendChild(canvas);
  }

  function fillPanel(details, r) {
    const body = el('div', {class: 'panel-body'});
    body.appendChild(el('p', {class: 'dir'}, r.dir + ' — ' + r.status));
    if (r.samples && r.samples.length) {
      body.appendChild(el('p', {}, 'Text samples (' + r.samples.length + ', the last below)'));
      body.appendChild(el('pre', {class: 'sample'}, r.samples[r.samples.length - 1]));
    }
    if (r.images) drawImages(body, r.images);
    if (r.grad) drawHeatmap(body, r.grad);
    if (body.children.length === 1) body.appendChild(el('p', {class: 'note'}, 'No samples, reconstructions or gradient norms recorded.'));
    details.appendChild(body);
  }

  const panels = [];

  function openPanel(i) {
    panels[i].open = true;
    panels[i].scrollIntoView({behavior: 'smooth', block: 'start'});
  }

  function drawPanels() {
    const box = document.getElementById('run-panels');
    runs.forEach((r, i) => {
      const details = el('details', {class: 'run-panel', id: 'run-' + i});
      const summary = el('summary');
      const swatch = el('span', {class: 'swatch'});
      swatch.style.background = colour(i);
      summary.appendChild(swatch);
      summary.appendChild(document.createTextNode(' ' + r.label));
      details.appendChild(summary);
      /* filled when first opened: 500 runs' canvases up front would slow the page */
      details.addEventListener('toggle', () => { if (details.open && details.children.length === 1) fillPanel(details, r); });
      box.appendChild(details);
      panels.push(details);
    });
    if (runs.length <= 2 || hashOption('open') === 'all')
      panels.forEach((p, i) => { p.open = true; if (p.children.length === 1) fillPanel(p, runs[i]); });
  }

  drawCurves();
  drawTable();
  drawParallel();
  drawPanels();
  document.body.dataset.loadMs = (performance.now() - started).toFixed(1);
  document.body.dataset.ready = 'yes';
})();
