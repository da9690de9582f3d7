// The voxclone page: sign in, record or upload a sample, see it analysed,
// tune the preset and the 14 parameters, clone a text into several languages
// and see how similar each clone is to the original voice.

import { api, uploadSample, setToken, getToken, ApiError } from './api.js';
import { PARAMS, GROUPS, PRESETS, LANGUAGES, ALERT_THRESHOLD, checkValue, formatValue } from './params.js';
import { pitchPlot, mfccPlot, gauge, historyChart } from './charts.js';
import { Recorder } from './wav.js';
import { putSample, getSample } from './samples.js';

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const state = {
  user: null,
  presets: [],          // from the server: [{name, description, default, parameters}]
  preset: 'balanced',   // chosen in the form
  values: {},           // the form's 14 values (valid or not)
  invalid: new Map(),   // name -> message
  stored: null,         // last GET/PUT settings answer
  profile: null,        // current analysis answer (with frames)
  latestProfileId: null,
  jobTimer: null,
  objectUrls: [],
};

function say(id, text) { const e = $(id); if (e) e.textContent = text || ''; }

function errText(e) {
  if (e instanceof ApiError) return e.field ? `${e.message} (field: ${e.field})` : e.message;
  return e && e.message ? e.message : String(e);
}

function fmtNum(v, d = 1) { return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—'; }

/** Width to draw a chart at: its box's width, 320..1000 px. */
function chartWidth(id) { return Math.round(Math.max(320, Math.min(1000, $(id).clientWidth || 640))); }

function track(url) { state.objectUrls.push(url); return url; }

// ---------------------------------------------------------------- sign in
async function signIn(token, { quiet = false } = {}) {
  say('signin-error', '');
  setToken(token);
  let me;
  try {
    me = await api.whoami();
  } catch (e) {
    setToken('');
    if (!quiet) say('signin-error', e.status === 401 ? 'This token is not valid (or was revoked). Check it and try again.' : `Cannot sign in: ${errText(e)}`);
    $('token').focus();
    return;
  }
  state.user = me.user;
  $('who-name').textContent = me.user + (me.admin ? ' (admin)' : '');
  $('signin').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('nav').hidden = false;
  document.body.classList.add('signed-in');
  await Promise.all([
    loadPresetsAndSettings(),
    loadAnalysis(null, me),
    loadHistory(),
  ]);
  $('main').focus({ preventScroll: true });
}

function signOut() {
  setToken('');
  stopJobPolling();
  state.objectUrls.forEach((u) => URL.revokeObjectURL(u));
  location.reload();
}

// ---------------------------------------------------------------- sample
let recorder = null;
let recTimer = null;

async function startRecording() {
  say('sample-error', '');
  if (!Recorder.supported()) {
    say('sample-error', 'This browser cannot record audio here (the microphone needs HTTPS or localhost). Upload a file instead.');
    return;
  }
  recorder = new Recorder({ onLevel: (v) => { $('rec-level').style.width = `${Math.round(v * 100)}%`; } });
  try {
    await recorder.start();
  } catch (e) {
    recorder = null;
    say('sample-error', `The microphone is not available: ${e.message}. Allow it in the browser, or upload a file.`);
    return;
  }
  $('rec-start').disabled = true;
  $('rec-stop').disabled = false;
  $('rec-stop').focus();
  say('sample-status', 'Recording… speak naturally, then press Stop.');
  recTimer = setInterval(() => {
    const s = Math.floor(recorder.elapsed());
    $('rec-time').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }, 250);
}

async function stopRecording() {
  if (!recorder) return;
  clearInterval(recTimer);
  $('rec-stop').disabled = true;
  $('rec-level').style.width = '0';
  say('sample-status', 'Converting the recording to WAV…');
  let out;
  try {
    out = await recorder.stop();
  } catch (e) {
    say('sample-error', `Cannot convert the recording: ${e.message}`);
    $('rec-start').disabled = false;
    return;
  } finally {
    recorder = null;
  }
  $('rec-start').disabled = false;
  if (out.duration < 0.5) {
    say('sample-status', '');
    say('sample-error', `The recording is ${out.duration.toFixed(1)} s long: record at least 0.5 s (10–30 s is best).`);
    return;
  }
  await sendSample(out.wav, `recording (${out.duration.toFixed(1)} s)`);
}

async function sendSample(blob, what) {
  say('sample-error', '');
  const wrap = $('upload-progress-wrap');
  const bar = $('upload-progress');
  wrap.hidden = false;
  bar.value = 0;
  say('upload-stage', `Uploading ${what}…`);
  say('sample-status', `Uploading ${what}…`);
  $('upload-button').disabled = true;
  $('rec-start').disabled = true;
  $('analysis').setAttribute('aria-busy', 'true');
  let analysing = false;
  try {
    const prof = await uploadSample(state.user, blob, (f) => {
      bar.value = f;
      if (f >= 1 && !analysing) {
        analysing = true;
        bar.removeAttribute('value'); // indeterminate while the server analyses
        say('upload-stage', 'Analysing: pitch (pYIN), MFCC, brightness, voice metrics…');
        say('sample-status', 'Uploaded. Analysing…');
      }
    });
    await putSample(prof.audio_sha256, blob);
    say('upload-stage', 'Computing the pitch track…');
    await loadAnalysis(prof.version);
    say('sample-status', `Analysed: version ${prof.version} of your voice profile.`);
  } catch (e) {
    say('sample-status', '');
    say('sample-error', `The sample was refused: ${errText(e)}`);
  } finally {
    wrap.hidden = true;
    $('upload-button').disabled = !$('upload-file').files.length;
    $('rec-start').disabled = false;
    $('analysis').setAttribute('aria-busy', 'false');
  }
}

// ---------------------------------------------------------------- analysis
async function loadAnalysis(version, me) {
  // whoami may one day say whether a profile exists (see the report in
  // tests/e2e/README.md): then a user without one is not asked for it.
  if (me && Object.prototype.hasOwnProperty.call(me, 'profile_version') && !me.profile_version) {
    showNoProfile();
    return;
  }
  say('analysis-status', version ? `Loading version ${version}…` : 'Loading your voice profile…');
  $('analysis').setAttribute('aria-busy', 'true');
  try {
    const a = await api.analysis(state.user, { version, frames: true });
    state.profile = a;
    if (!version || a.version === a.latest_version) state.latestProfileId = a.versions?.find((v) => v.version === a.latest_version)?.id || a.id;
    else if (!state.latestProfileId) state.latestProfileId = a.versions?.find((v) => v.version === a.latest_version)?.id;
    renderAnalysis(a);
    say('analysis-status', `Showing version ${a.version} of ${a.latest_version}.`);
  } catch (e) {
    if (e.status === 404 && !version) showNoProfile();
    else say('analysis-status', `Cannot load the analysis: ${errText(e)}`);
  } finally {
    $('analysis').setAttribute('aria-busy', 'false');
    updateCompareButton();
  }
}

function showNoProfile() {
  state.profile = null;
  $('analysis-empty').hidden = false;
  $('analysis-body').hidden = true;
  $('version-select').disabled = true;
  say('analysis-status', '');
}

function stat(label, value, note) {
  return [h('div', { class: 'stat' }, h('dt', { text: label }), h('dd', {}, h('span', { class: 'stat-value', text: value }), note ? h('span', { class: 'stat-note', text: note }) : null))];
}

async function renderAnalysis(a) {
  const an = a.analysis || {};
  $('analysis-empty').hidden = true;
  $('analysis-body').hidden = false;
  // versions
  const sel = $('version-select');
  sel.replaceChildren(...(a.versions || []).map((v) =>
    h('option', { value: v.version, selected: v.version === a.version, text: `v${v.version} · ${new Date(v.created_at).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })}${v.version === a.latest_version ? ' (latest)' : ''}` })));
  sel.disabled = (a.versions || []).length < 2;
  // headline numbers
  const p = an.pitch || {};
  const brightness = an.spectral?.centroid_mean_hz ?? an.brightness;
  const brightWord = brightness > 2500 ? 'bright' : brightness > 1500 ? 'balanced' : brightness > 0 ? 'dark / warm' : '';
  $('stats').replaceChildren(
    ...stat('Voice type', an.voice_type || 'unknown'),
    ...stat('Mean pitch', `${fmtNum(p.mean_hz, 0)} Hz`, p.mean_hz ? `± ${fmtNum(p.std_hz, 0)} Hz` : null),
    ...stat('Pitch range', p.mean_hz ? `${fmtNum(p.min_hz, 0)}–${fmtNum(p.max_hz, 0)} Hz` : '—'),
    ...stat('Brightness', `${fmtNum(brightness, 0)} Hz`, brightWord ? `spectral centroid, ${brightWord}` : 'spectral centroid'),
    ...stat('Duration', `${fmtNum(an.duration_seconds ?? an.duration, 1)} s`, p.n_voiced ? `${p.n_voiced} voiced frames` : null),
  );
  // pitch plot
  const frames = a.frames;
  $('pitch-plot').replaceChildren(frames ? pitchPlot(frames, p.mean_hz, chartWidth('pitch-plot')) : h('p', { class: 'muted', text: 'No frame data.' }));
  // MFCC
  const c = an.mfcc?.coefficients;
  if (Array.isArray(c) && c.length) {
    $('mfcc-plot').replaceChildren(mfccPlot(c, chartWidth('mfcc-plot')));
    say('mfcc-c0', `c0 (overall loudness level): ${fmtNum(c[0], 1)}. All 13 means: ${c.map((x) => fmtNum(x, 1)).join(', ')}.`);
  } else {
    $('mfcc-plot').replaceChildren(h('p', { class: 'muted', text: 'MFCC not computed for this profile.' }));
    say('mfcc-c0', '');
  }
  // detailed metrics
  const m = an.metrics || {};
  const rows = [
    ['Jitter (local)', m.jitter_local_pct, '%', 2, 'cycle-to-cycle pitch variation; under ~1 % is typical of a steady voice'],
    ['Shimmer (local)', m.shimmer_local_pct, '%', 2, 'cycle-to-cycle loudness variation; under ~4 % is typical'],
    ['Harmonics-to-noise', m.hnr_db, 'dB', 1, 'higher = clearer, less breathy (≈ 20 dB for a clean voice)'],
    ['Formant F1', m.formants_hz?.[0], 'Hz', 0, 'median over voiced frames'],
    ['Formant F2', m.formants_hz?.[1], 'Hz', 0, ''],
    ['Formant F3', m.formants_hz?.[2], 'Hz', 0, ''],
    ['Voiced ratio', m.voiced_ratio != null ? m.voiced_ratio * 100 : undefined, '%', 0, 'share of frames with voice'],
    ['Speaking rate', m.speaking_rate_syl_per_s, 'syllables/s', 1, 'estimated'],
    ['Loudness', m.loudness_lufs, m.loudness_unit || 'LUFS', 1, 'integrated loudness'],
  ];
  $('metrics-table').tBodies[0].replaceChildren(...rows.map(([k, v, u, d, note]) =>
    h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: v == null ? '—' : `${fmtNum(v, d)} ${u}` }), h('td', { class: 'muted small', text: note }))));
  // original recording: this browser's copy when it uploaded it, else the server's
  let blob = await getSample(a.audio_sha256);
  if (!blob) {
    try {
      blob = await api.profileAudio(state.user, a.version);
      await putSample(a.audio_sha256, blob);
    } catch { blob = null; }
  }
  const box = $('original-player');
  if (blob) {
    box.replaceChildren(h('audio', { controls: true, preload: 'metadata', src: track(URL.createObjectURL(blob)), 'aria-label': `Original recording, version ${a.version}` }));
  } else {
    box.replaceChildren(h('p', { class: 'muted small', text: 'The original recording of this version could not be loaded from the server.' }));
  }
  renderBefore();
}

// ---------------------------------------------------------------- settings
function presetByName(n) { return state.presets.find((p) => p.name === n); }
function presetValues(n) { return presetByName(n)?.parameters || Object.fromEntries(PARAMS.map((p) => [p.name, p.default])); }

async function loadPresetsAndSettings() {
  try {
    const [presets, settings] = await Promise.all([api.presets(), api.getSettings(state.user)]);
    state.presets = presets;
    state.stored = settings;
    buildSettingsForm();
    applyStored(settings);
  } catch (e) {
    say('settings-error', `Cannot load the presets or your settings: ${errText(e)}`);
  }
}

function buildSettingsForm() {
  const list = $('preset-list');
  list.replaceChildren(...PRESETS.map((pp) => {
    const sp = presetByName(pp.name);
    const id = `preset-${pp.name}`;
    return h('div', { class: 'preset' },
      h('input', { type: 'radio', name: 'preset', id, value: pp.name, 'aria-describedby': `${id}-desc` }),
      h('label', { for: id }, h('span', { class: 'preset-name', text: pp.name }), sp?.default ? h('span', { class: 'badge', text: 'default' }) : null,
        h('span', { class: 'preset-desc', id: `${id}-desc`, text: sp?.description || pp.purpose })));
  }));
  list.addEventListener('change', (e) => {
    if (e.target.name !== 'preset') return;
    state.preset = e.target.value;
    setValues(presetValues(state.preset));
    say('settings-status', `Preset ${state.preset}: all 14 values set from it (not saved yet).`);
  });

  const groups = $('param-groups');
  groups.replaceChildren(...GROUPS.map((g) => h('fieldset', { class: 'param-group', id: `param-group-${g.id}` },
    h('legend', {}, g.title, h('span', { class: 'muted small', text: ` — ${g.blurb}` })),
    ...PARAMS.filter((p) => p.group === g.id).map(paramControl))));
}

function paramControl(p) {
  const id = `param-${p.name}`;
  const help = `${id}-help`, err = `${id}-error`;
  const meta = h('p', { class: 'param-meta', id: `${id}-meta` },
    h('span', { text: `${p.kind === 'number' || p.kind === 'integer' ? 'range' : 'values'} ${p.allowed}` }), ' · ',
    h('span', { text: `default ${formatValue(p, p.default)}` }), ' · ',
    h('span', { class: 'preset-value', id: `${id}-preset`, text: '' }));
  const desc = h('p', { class: 'param-help', id: help }, p.meaning, ' ', h('span', { class: p.unused ? 'engine-note unused' : 'engine-note', text: `Built-in engines: ${p.engines}` }));
  const errP = h('p', { class: 'field-error', id: err, role: 'alert' });
  const describedBy = `${id}-meta ${help} ${err}`;
  let control;
  if (p.kind === 'number' || p.kind === 'integer') {
    const range = h('input', { type: 'range', id: `${id}-range`, min: p.min, max: p.max, step: p.step, 'aria-label': `${p.name} slider`, 'aria-describedby': describedBy, tabindex: '-1' });
    const num = h('input', { type: 'number', id, name: p.name, min: p.min, max: p.max, step: p.kind === 'integer' ? 1 : 'any', inputmode: p.kind === 'integer' ? 'numeric' : 'decimal', 'aria-describedby': describedBy, class: 'num' });
    range.addEventListener('input', () => { num.value = range.value; onParamInput(p, Number(range.value)); });
    num.addEventListener('input', () => {
      const v = num.value.trim() === '' ? NaN : Number(num.value);
      onParamInput(p, v);
      if (!state.invalid.has(p.name)) range.value = String(v);
    });
    control = h('div', { class: 'slider-row' }, range, num, p.unit ? h('span', { class: 'unit', text: p.unit }) : null);
  } else if (p.kind === 'boolean') {
    const cb = h('input', { type: 'checkbox', id, name: p.name, 'aria-describedby': describedBy });
    cb.addEventListener('change', () => onParamInput(p, cb.checked));
    control = h('div', { class: 'check-row' }, cb, h('label', { for: id, class: 'check-label', text: 'on' }));
  } else {
    const sel = h('select', { id, name: p.name, 'aria-describedby': describedBy },
      ...p.choices.map((c) => h('option', { value: JSON.stringify(c), text: typeof c === 'string' ? c : String(c) })));
    sel.addEventListener('change', () => onParamInput(p, JSON.parse(sel.value)));
    control = sel;
  }
  return h('div', { class: `param${p.unused ? ' is-unused' : ''}`, id: `${id}-box`, 'data-param': p.name },
    h('div', { class: 'param-head' },
      h('label', { for: id, class: 'param-name', text: p.name }),
      h('span', { class: 'override-mark', id: `${id}-mark`, text: '' })),
    control, meta, desc, errP);
}

function onParamInput(p, v) {
  state.values[p.name] = v;
  const msg = checkValue(p, v);
  const input = $(`param-${p.name}`);
  if (msg) {
    state.invalid.set(p.name, msg);
    input.setAttribute('aria-invalid', 'true');
    say(`param-${p.name}-error`, `${msg}. This value cannot be saved or used.`);
  } else {
    state.invalid.delete(p.name);
    input.removeAttribute('aria-invalid');
    say(`param-${p.name}-error`, '');
  }
  say('settings-error', '');
  refreshMarks();
}

function setControl(p, v) {
  const input = $(`param-${p.name}`);
  if (p.kind === 'number' || p.kind === 'integer') {
    input.value = String(v);
    $(`param-${p.name}-range`).value = String(v);
  } else if (p.kind === 'boolean') input.checked = !!v;
  else input.value = JSON.stringify(v);
  input.removeAttribute('aria-invalid');
  say(`param-${p.name}-error`, '');
}

function setValues(vals) {
  state.invalid.clear();
  for (const p of PARAMS) {
    const v = vals[p.name] ?? p.default;
    state.values[p.name] = v;
    setControl(p, v);
  }
  const r = document.querySelector(`input[name="preset"][value="${state.preset}"]`);
  if (r) r.checked = true;
  refreshMarks();
}

function applyStored(s) {
  state.preset = presetByName(s.preset) ? s.preset : 'balanced';
  setValues({ ...presetValues(state.preset), ...(s.settings || {}), ...(s.overrides || {}) });
}

function overrides() {
  const pv = presetValues(state.preset);
  const o = {};
  for (const p of PARAMS) if (state.values[p.name] !== pv[p.name]) o[p.name] = state.values[p.name];
  return o;
}

function refreshMarks() {
  const pv = presetValues(state.preset);
  let n = 0;
  for (const p of PARAMS) {
    const changed = state.values[p.name] !== pv[p.name];
    n += changed;
    say(`param-${p.name}-mark`, changed ? 'changed' : '');
    $(`param-${p.name}-box`).classList.toggle('changed', changed);
    say(`param-${p.name}-preset`, `${state.preset}: ${formatValue(p, pv[p.name])}`);
  }
  say('override-count', n ? `${n} value${n > 1 ? 's' : ''} differ${n > 1 ? '' : 's'} from ${state.preset}` : `all values as in ${state.preset}`);
}

function firstInvalid() {
  for (const p of PARAMS) if (state.invalid.has(p.name)) return p;
  return null;
}

async function saveSettings(ev) {
  ev.preventDefault();
  say('settings-status', '');
  say('settings-error', '');
  const bad = firstInvalid();
  if (bad) {
    say('settings-error', `Not saved: ${state.invalid.get(bad.name)}.`);
    $(`param-${bad.name}`).focus();
    return;
  }
  const btn = $('save-settings');
  btn.disabled = true;
  try {
    const r = await api.putSettings(state.user, state.preset, overrides());
    state.stored = r;
    applyStored(r);
    const n = Object.keys(r.overrides || {}).length;
    say('settings-status', `Saved: preset ${r.preset}${n ? ` with ${n} override${n > 1 ? 's' : ''} (${Object.keys(r.overrides).join(', ')})` : ''}.`);
  } catch (e) {
    say('settings-error', `Not saved: ${errText(e)}`);
    if (e.field && $(`param-${e.field}`)) {
      say(`param-${e.field}-error`, e.message);
      $(`param-${e.field}`).setAttribute('aria-invalid', 'true');
      $(`param-${e.field}`).focus();
    }
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------- clone
function buildLanguages() {
  $('language-list').replaceChildren(...LANGUAGES.map((l) => h('div', { class: 'lang' },
    h('input', { type: 'checkbox', id: `lang-${l.code}`, value: l.code, checked: l.code === 'en' || l.code === 'fr' }),
    h('label', { for: `lang-${l.code}` }, h('span', { text: l.name }), ' ', h('code', { text: l.code })))));
  $('language-list').addEventListener('change', renderPerLangTexts);
}

let perLang = false;
function selectedLanguages() { return LANGUAGES.filter((l) => $(`lang-${l.code}`).checked); }

function renderPerLangTexts() {
  const box = $('per-lang-texts');
  if (!perLang) { box.replaceChildren(); return; }
  const old = Object.fromEntries([...box.querySelectorAll('textarea')].map((t) => [t.dataset.lang, t.value]));
  box.replaceChildren(...selectedLanguages().map((l) => h('div', { class: 'field' },
    h('label', { for: `text-${l.code}`, text: `Text in ${l.name} (${l.code})` }),
    h('textarea', { id: `text-${l.code}`, rows: 2, maxlength: 5000, 'data-lang': l.code, dir: l.code === 'ar' ? 'rtl' : null }, old[l.code] ?? l.sample))));
  $('clone-text').closest('.field').hidden = true;
}

function stopJobPolling() { clearTimeout(state.jobTimer); state.jobTimer = null; }

function renderBefore() {
  const box = $('before-player');
  const src = $('original-player').querySelector('audio');
  box.replaceChildren(src ? h('audio', { controls: true, preload: 'metadata', src: src.src, 'aria-label': 'Before: your original recording' })
    : h('p', { class: 'muted small', text: 'Your original recording is not available in this browser (it was uploaded elsewhere).' }));
}

async function clone(ev) {
  ev.preventDefault();
  say('clone-error', '');
  if (!state.profile) { say('clone-error', 'Upload or record a voice sample first (section 1).'); return; }
  const langs = selectedLanguages();
  if (!langs.length) { say('clone-error', 'Choose at least one target language.'); return; }
  const bad = firstInvalid();
  if (bad) { say('clone-error', `Fix the settings first: ${state.invalid.get(bad.name)}.`); return; }
  const targets = langs.map((l) => ({ language: l.code, text: (perLang ? $(`text-${l.code}`).value : $('clone-text').value).trim() }));
  const empty = targets.find((t) => !t.text);
  if (empty) { say('clone-error', `The text for ${empty.language} is empty.`); return; }
  const settings = { ...state.values, verify_quality: $('clone-verify').checked || state.values.verify_quality };
  stopJobPolling();
  $('clone-button').disabled = true;
  $('job').hidden = false;
  $('job-progress').value = 0;
  say('job-stage', 'Submitting…');
  renderBefore();
  const list = $('results');
  list.replaceChildren(...langs.map((l) => resultItem(l)));
  try {
    const j = await api.submitJob(targets, settings);
    say('job-status', `Job queued for ${langs.length} language${langs.length > 1 ? 's' : ''}.`);
    pollJob(j.id, langs);
  } catch (e) {
    $('clone-button').disabled = false;
    $('job').hidden = true;
    say('clone-error', `Not started: ${errText(e)}`);
  }
}

function resultItem(l) {
  return h('li', { class: 'result', id: `result-${l.code}`, 'data-status': 'queued' },
    h('div', { class: 'result-head' },
      h('h4', {}, `${l.name} `, h('code', { text: l.code })),
      h('span', { class: 'badge status-badge', id: `result-${l.code}-status`, text: 'queued' })),
    h('progress', { id: `result-${l.code}-progress`, max: 1, value: 0, 'aria-label': `${l.name} progress` }),
    h('div', { class: 'result-body', id: `result-${l.code}-body` }));
}

async function pollJob(id, langs) {
  let j;
  try {
    j = await api.job(id);
  } catch (e) {
    say('job-status', `Lost track of the job: ${errText(e)}. Retrying…`);
    state.jobTimer = setTimeout(() => pollJob(id, langs), 2000);
    return;
  }
  $('job-progress').value = j.progress || 0;
  const done = j.results.filter((r) => r.status === 'done' || r.status === 'failed').length;
  say('job-stage', `${j.status === 'queued' ? 'Queued' : j.status === 'running' ? 'Cloning' : 'Finished'}: ${done} of ${j.results.length} languages, ${Math.round((j.progress || 0) * 100)} %`);
  for (const r of j.results) await updateResult(id, r, j.results.indexOf(r));
  if (['done', 'partial', 'failed'].includes(j.status)) {
    const ok = j.results.filter((r) => r.status === 'done').length;
    say('job-status', j.status === 'done' ? `Done: ${ok} language${ok > 1 ? 's' : ''} ready to play.`
      : j.status === 'partial' ? `Partly done: ${ok} of ${j.results.length} languages succeeded; see the errors below.`
        : 'Failed: no language could be cloned; see the errors below.');
    $('clone-button').disabled = false;
    const first = j.results.find((r) => r.similarity);
    if (first) showSimilarity(first.similarity, `Clone in ${langName(first.language)}`);
    return;
  }
  state.jobTimer = setTimeout(() => pollJob(id, langs), 400);
}

function langName(code) { return LANGUAGES.find((l) => l.code === code.slice(0, 2))?.name || code; }

async function updateResult(jobId, r, idx) {
  const li = $(`result-${r.language}`);
  if (!li || li.dataset.status === r.status && r.status !== 'running') return;
  li.dataset.status = r.status;
  say(`result-${r.language}-status`, r.status);
  li.querySelector('.status-badge').className = `badge status-badge ${r.status}`;
  $(`result-${r.language}-progress`).value = r.progress || 0;
  const body = $(`result-${r.language}-body`);
  if (r.status === 'failed') {
    body.replaceChildren(h('p', { class: 'error', text: r.error || 'failed' }));
  } else if (r.status === 'done' && r.audio_url && !body.querySelector('audio')) {
    body.replaceChildren(h('p', { class: 'muted small', text: 'Loading the audio…' }));
    let blob;
    try {
      blob = await api.audioBlob(r.audio_url);
    } catch (e) {
      body.replaceChildren(h('p', { class: 'error', text: `Cannot fetch the audio: ${errText(e)}` }));
      return;
    }
    const url = track(URL.createObjectURL(blob));
    const ext = blob.type.includes('mpeg') ? 'mp3' : 'wav';
    const kids = [
      h('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': `After: your voice in ${langName(r.language)}` }),
      h('a', { href: url, download: `voxclone-${jobId.slice(0, 8)}-${r.language}.${ext}`, class: 'small', text: `Download .${ext}` }),
    ];
    if (r.similarity) {
      const s = r.similarity;
      const alert = s.overall_similarity < ALERT_THRESHOLD;
      kids.push(h('p', { class: `sim-line${alert ? ' bad' : ''}` },
        h('span', { text: 'Similarity ' }), h('strong', { class: 'sim-score', text: fmtNum(s.overall_similarity, 2) }),
        h('span', { text: alert ? ' — below 0.7: quality alert' : ' — OK' })));
      kids.push(h('button', { type: 'button', class: 'small-button', onclick: () => showSimilarity(s, `Clone in ${langName(r.language)}`) }, 'Show the score'));
    }
    kids.push(h('button', {
      type: 'button', class: 'small-button', 'data-compare': r.language,
      onclick: (e) => compareBlob(blob, `clone-${r.language}.${ext}`, `Clone in ${langName(r.language)}`, e.currentTarget),
    }, 'Compare with my voice and add to history'));
    body.replaceChildren(...kids);
  }
}

// ---------------------------------------------------------------- similarity
function showSimilarity(s, subject) {
  $('sim-empty').hidden = true;
  $('sim-body').hidden = false;
  const overall = s.overall_similarity ?? s.overall;
  say('sim-subject', subject);
  $('gauge').replaceChildren(gauge(overall, ALERT_THRESHOLD));
  say('sim-alert', overall < ALERT_THRESHOLD
    ? `Quality alert: ${fmtNum(overall, 2)} is below ${ALERT_THRESHOLD}. Try a longer, cleaner sample or the high_quality preset.`
    : `${fmtNum(overall, 2)}: at or above ${ALERT_THRESHOLD}, no alert.`);
  const comps = [
    ['Pitch', s.pitch_similarity, 0.3],
    ['Brightness', s.brightness_similarity, 0.3],
    ['Timbre (MFCC)', s.mfcc_similarity, 0.4],
  ];
  $('sim-bars').replaceChildren(...comps.map(([name, v, w]) => {
    const pct = Math.max(0, Math.min(1, v || 0)) * 100;
    return h('div', { class: 'bar-row' },
      h('span', { class: 'bar-label', text: `${name} (weight ${w})` }),
      h('div', { class: 'bar-track', role: 'meter', 'aria-label': `${name} similarity`, 'aria-valuemin': 0, 'aria-valuemax': 1, 'aria-valuenow': (v || 0).toFixed(3) },
        h('div', { class: `bar-fill${(v || 0) < ALERT_THRESHOLD ? ' low' : ''}`, style: `width:${pct.toFixed(1)}%` }),
        h('div', { class: 'bar-mark', style: `left:${ALERT_THRESHOLD * 100}%` })),
      h('span', { class: 'bar-value', text: fmtNum(v, 2) }));
  }));
  say('sim-voiceprint', s.voiceprint_similarity != null
    ? `Voiceprint similarity (not part of the score): ${fmtNum(s.voiceprint_similarity, 2)}.` : '');
}

async function compareBlob(blob, filename, subject, button) {
  say('compare-error', '');
  if (!state.latestProfileId) { say('compare-error', 'Upload a voice sample first.'); return; }
  if (button) button.disabled = true;
  say('compare-status', `Comparing ${subject.toLowerCase()} with your voice…`);
  try {
    const r = await api.compareWithProfile(state.latestProfileId, blob, filename);
    showSimilarity(r, subject);
    say('compare-status', `${subject}: ${fmtNum(r.overall, 2)}, added to your history.`);
    await loadHistory();
    if (button) button.textContent = 'Added to history';
  } catch (e) {
    say('compare-error', `Cannot compare: ${errText(e)}`);
    if (button) button.disabled = false;
  }
}

function updateCompareButton() {
  $('compare-button').disabled = !($('compare-file').files.length && state.latestProfileId);
}

async function loadHistory() {
  try {
    const r = await api.history(state.user);
    $('history-chart').replaceChildren(historyChart(r.entries || [], ALERT_THRESHOLD, chartWidth('history-chart')));
    const n = (r.entries || []).length;
    say('history-note', n ? `${n} comparison${n > 1 ? 's' : ''}. Each comparison you run and each verified clone is added to your history.` : 'Each comparison you run and each verified clone is added to your history.');
    $('history-chart').dataset.count = String(n);
  } catch (e) {
    say('history-note', `Cannot load the history: ${errText(e)}`);
  }
}

// ---------------------------------------------------------------- wiring
function init() {
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    if (!t) { say('signin-error', 'Enter your API token.'); $('token').focus(); return; }
    signIn(t);
  });
  $('signout').addEventListener('click', signOut);
  $('rec-start').addEventListener('click', startRecording);
  $('rec-stop').addEventListener('click', stopRecording);
  $('upload-file').addEventListener('change', () => { $('upload-button').disabled = !$('upload-file').files.length; });
  $('upload-button').addEventListener('click', () => {
    const f = $('upload-file').files[0];
    if (f) sendSample(f, f.name);
  });
  $('version-select').addEventListener('change', (e) => loadAnalysis(Number(e.target.value)));
  $('settings-form').addEventListener('submit', saveSettings);
  $('reset-overrides').addEventListener('click', () => {
    setValues(presetValues(state.preset));
    say('settings-status', `Values reset to the ${state.preset} preset (not saved yet).`);
  });
  buildLanguages();
  $('fill-samples').addEventListener('click', () => {
    perLang = !perLang;
    $('fill-samples').textContent = perLang ? 'Use one text for every language' : 'Fill sample sentences per language';
    if (!perLang) $('clone-text').closest('.field').hidden = false;
    renderPerLangTexts();
  });
  $('clone-form').addEventListener('submit', clone);
  $('compare-file').addEventListener('change', updateCompareButton);
  $('compare-button').addEventListener('click', () => {
    const f = $('compare-file').files[0];
    if (f) compareBlob(f, f.name, `Recording ${f.name}`, null);
  });
  // show, never hide: the error still reaches the console
  window.addEventListener('unhandledrejection', (e) => say('sample-error', `Unexpected error: ${errText(e.reason)}`));
  const t = getToken();
  if (t) signIn(t, { quiet: true });
  else $('token').focus();
}

init();
