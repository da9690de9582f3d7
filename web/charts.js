// Small SVG charts: pitch contour, MFCC profile, similarity gauge, component
// bars and the similarity history.  No library: each function returns an
// <svg> element sized by its viewBox (it scales to its container); `width`
// is the container's width in CSS pixels, so the text stays readable on a
// phone.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(w, h, label, cls) {
  const s = el('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': label, class: cls, preserveAspectRatio: 'xMidYMid meet' });
  s.appendChild(el('title', {}, label));
  return s;
}

/** "nice" tick values covering lo..hi, about n of them. */
function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

function fmt(v, d = 0) { return Number(v).toFixed(d); }

/** Pitch contour over time from the analysis frames (f0 null = unvoiced).
 *  Unvoiced stretches are gaps; the mean pitch is a dashed line. */
export function pitchPlot(frames, meanHz, width = 640) {
  const W = width, H = 240, L = 48, R = 12, T = 14, B = 34;
  const times = frames.times || [];
  const f0 = frames.f0 || [];
  const voiced = f0.filter((x) => typeof x === 'number' && x > 0);
  const label = voiced.length
    ? `Pitch contour: ${voiced.length} voiced frames of ${f0.length}, from ${fmt(Math.min(...voiced))} to ${fmt(Math.max(...voiced))} Hz over ${fmt(times[times.length - 1] || 0, 1)} s`
    : 'Pitch contour: no voiced frames';
  const s = svg(W, H, label, 'chart pitch-plot');
  const tMax = Math.max(times[times.length - 1] || 1, 0.1);
  let lo = voiced.length ? Math.min(...voiced) : 50;
  let hi = voiced.length ? Math.max(...voiced) : 500;
  const pad = Math.max(10, (hi - lo) * 0.1);
  lo = Math.max(0, lo - pad); hi += pad;
  const x = (t) => L + (t / tMax) * (W - L - R);
  const y = (f) => T + (1 - (f - lo) / (hi - lo)) * (H - T - B);
  const g = el('g', { class: 'axes' });
  for (const v of ticks(lo, hi, 5)) {
    g.appendChild(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    g.appendChild(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  for (const v of ticks(0, tMax, 6)) {
    g.appendChild(el('line', { x1: x(v), x2: x(v), y1: H - B, y2: H - B + 4, class: 'tick' }));
    g.appendChild(el('text', { x: x(v), y: H - B + 16, 'text-anchor': 'middle' }, `${fmt(v, v < 10 && tMax < 10 ? 1 : 0)}`));
  }
  g.appendChild(el('text', { x: W - R, y: H - 4, 'text-anchor': 'end', class: 'axis-label' }, 'time (s)'));
  g.appendChild(el('text', { x: 4, y: T - 2, class: 'axis-label' }, 'Hz'));
  g.appendChild(el('line', { x1: L, x2: L, y1: T, y2: H - B, class: 'axis' }));
  g.appendChild(el('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis' }));
  s.appendChild(g);
  // voicing probability as a faint band along the bottom
  const vp = frames.voiced_prob || [];
  if (vp.length) {
    let d = `M${x(times[0] || 0)},${H - B}`;
    vp.forEach((p, i) => { d += ` L${x(times[i])},${H - B - (p || 0) * 18}`; });
    d += ` L${x(times[times.length - 1])},${H - B} Z`;
    s.appendChild(el('path', { d, class: 'vprob' }));
  }
  if (meanHz > 0) {
    s.appendChild(el('line', { x1: L, x2: W - R, y1: y(meanHz), y2: y(meanHz), class: 'mean-line' }));
    s.appendChild(el('text', { x: W - R - 4, y: y(meanHz) - 4, 'text-anchor': 'end', class: 'mean-label' }, `mean ${fmt(meanHz)} Hz`));
  }
  // contour: one path, a new sub-path after each unvoiced gap
  let d = '';
  let pen = false;
  f0.forEach((f, i) => {
    if (typeof f === 'number' && f > 0) {
      d += `${pen ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(f).toFixed(1)} `;
      pen = true;
    } else pen = false;
  });
  s.appendChild(el('path', { d: d.trim() || 'M0,0', class: 'contour', 'data-points': voiced.length }));
  return s;
}

/** Bar chart of the mean MFCCs c1..c12 (c0, the overall level, is given in
 *  the caption because it dwarfs the others). */
export function mfccPlot(coeffs, width = 640) {
  const W = width, H = 200, L = 40, R = 10, T = 12, B = 28;
  const s = svg(W, H, `MFCC profile: mean of coefficients 1 to 12 (${coeffs.slice(1).map((c) => fmt(c, 1)).join(', ')})`, 'chart mfcc-plot');
  const vals = coeffs.slice(1);
  const m = Math.max(10, ...vals.map(Math.abs));
  const lim = ticks(0, m, 2).pop() < m ? m : ticks(0, m, 2).pop();
  const y = (v) => T + (1 - (v + lim) / (2 * lim)) * (H - T - B);
  const bw = (W - L - R) / vals.length;
  for (const v of [-lim, 0, lim]) {
    s.appendChild(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'grid' }));
    s.appendChild(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick-label' }, fmt(v)));
  }
  vals.forEach((v, i) => {
    const x0 = L + i * bw + bw * 0.18;
    const top = Math.min(y(v), y(0));
    s.appendChild(el('rect', { x: x0, y: top, width: bw * 0.64, height: Math.max(1, Math.abs(y(v) - y(0))), class: v >= 0 ? 'bar pos' : 'bar neg' }));
    s.appendChild(el('text', { x: x0 + bw * 0.32, y: H - 8, 'text-anchor': 'middle', class: 'tick-label' }, `c${i + 1}`));
  });
  return s;
}

/** Half-circle gauge of a 0..1 score, with the alert line at `alert`. */
export function gauge(score, alert = 0.7) {
  const W = 240, H = 150, cx = 120, cy = 124, r = 96;
  const v = Math.max(0, Math.min(1, Number(score) || 0));
  const bad = v < alert;
  const s = svg(W, H, `Overall similarity ${fmt(v, 2)} out of 1; the alert line is at ${alert}${bad ? ': below it, quality alert' : ''}`, 'gauge');
  const pt = (f, rr = r) => [cx - rr * Math.cos(Math.PI * f), cy - rr * Math.sin(Math.PI * f)];
  const arc = (a, b, cls) => {
    const [x1, y1] = pt(a), [x2, y2] = pt(b);
    return el('path', { d: `M${x1},${y1} A${r},${r} 0 0 1 ${x2},${y2}`, class: cls });
  };
  s.appendChild(arc(0, 1, 'gauge-track'));
  s.appendChild(arc(0, alert, 'gauge-zone-bad'));
  if (v > 0.001) s.appendChild(arc(0, v, bad ? 'gauge-value bad' : 'gauge-value good'));
  const [a1x, a1y] = pt(alert, r - 18), [a2x, a2y] = pt(alert, r + 14);
  s.appendChild(el('line', { x1: a1x, y1: a1y, x2: a2x, y2: a2y, class: 'alert-line' }));
  const [lx, ly] = pt(alert, r + 24);
  s.appendChild(el('text', { x: lx, y: ly, 'text-anchor': 'middle', class: 'alert-label' }, `${alert}`));
  s.appendChild(el('text', { x: cx, y: cy - 18, 'text-anchor': 'middle', class: 'gauge-number' }, fmt(v, 2)));
  s.appendChild(el('text', { x: cx, y: cy + 4, 'text-anchor': 'middle', class: 'gauge-caption' }, bad ? 'below 0.7: alert' : 'at or above 0.7'));
  s.appendChild(el('text', { x: cx - r, y: cy + 18, 'text-anchor': 'middle', class: 'tick-label' }, '0'));
  s.appendChild(el('text', { x: cx + r, y: cy + 18, 'text-anchor': 'middle', class: 'tick-label' }, '1'));
  return s;
}

/** Similarity over time: overall score per comparison, alert line at 0.7. */
export function historyChart(entries, alert = 0.7, width = 640) {
  const W = width, H = 220, L = 40, R = 14, T = 12, B = 34;
  const pts = entries
    .map((e) => ({ t: Date.parse(e.created_at), v: Number(e.overall ?? e.similarity?.overall_similarity) }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v))
    .sort((a, b) => a.t - b.t);
  const below = pts.filter((p) => p.v < alert).length;
  const s = svg(W, H, pts.length
    ? `Similarity history: ${pts.length} comparisons, latest ${fmt(pts[pts.length - 1].v, 2)}, ${below} below ${alert}`
    : 'Similarity history: no comparisons yet', 'chart history-chart');
  const t0 = pts.length ? pts[0].t : 0, t1 = pts.length ? pts[pts.length - 1].t : 1;
  const span = Math.max(1, t1 - t0);
  // one point: centre it; several: spread them by time
  const x = (t) => (pts.length < 2 ? (L + W - R) / 2 : L + ((t - t0) / span) * (W - L - R));
  const y = (v) => T + (1 - Math.max(0, Math.min(1, v))) * (H - T - B);
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    s.appendChild(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    s.appendChild(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick-label' }, fmt(v, 2)));
  }
  s.appendChild(el('line', { x1: L, x2: W - R, y1: y(alert), y2: y(alert), class: 'alert-line' }));
  s.appendChild(el('text', { x: W - R, y: y(alert) - 4, 'text-anchor': 'end', class: 'alert-label' }, `alert ${alert}`));
  if (pts.length) {
    const fmtT = (t) => new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    s.appendChild(el('text', { x: L, y: H - 10, class: 'tick-label' }, fmtT(t0)));
    if (pts.length > 1) s.appendChild(el('text', { x: W - R, y: H - 10, 'text-anchor': 'end', class: 'tick-label' }, fmtT(t1)));
    if (pts.length > 1) s.appendChild(el('path', { d: pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '), class: 'history-line' }));
    for (const p of pts) {
      const c = el('circle', { cx: x(p.t), cy: y(p.v), r: 4.5, class: p.v < alert ? 'history-point bad' : 'history-point' });
      c.appendChild(el('title', {}, `${new Date(p.t).toLocaleString()}: ${fmt(p.v, 3)}`));
      s.appendChild(c);
    }
  } else {
    s.appendChild(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty-label' }, 'No comparisons yet'));
  }
  return s;
}
