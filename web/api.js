// Thin client of the voxclone HTTP API: bearer token, JSON, errors.
//
// Every /api route needs `Authorization: Bearer <token>`; the token is kept
// in sessionStorage (gone when the tab closes).  Errors come back as
// {"error": {"code", "message", "field"}} and are thrown as ApiError.

const TOKEN_KEY = 'voxclone.token';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field ?? null;
  }
}

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lives for this page only */ }
  memoryToken = t || '';
}

let memoryToken = '';
function token() { return getToken() || memoryToken; }

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${token()}`, ...extra };
}

async function errorOf(res) {
  let code = `http_${res.status}`, message = `${res.status} ${res.statusText}`, field = null;
  try {
    const j = await res.json();
    if (j && j.error) {
      code = j.error.code || code;
      message = j.error.message || message;
      field = j.error.field ?? null;
    }
  } catch { /* not JSON */ }
  return new ApiError(res.status, code, message, field);
}

async function request(method, path, { json, body, headers, signal } = {}) {
  const h = authHeaders(headers);
  let payload = body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: payload, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `cannot reach the server (${e.message})`);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

async function getJSON(path, opts) { return (await request('GET', path, opts)).json(); }

const enc = encodeURIComponent;

export const api = {
  whoami: () => getJSON('/api/whoami'),
  presets: () => getJSON('/api/voice-presets'),
  analysis: (user, { version, frames } = {}) => {
    const q = new URLSearchParams();
    if (frames) q.set('frames', '1');
    if (version) q.set('version', String(version));
    const s = q.toString();
    return getJSON(`/api/voice-analysis/${enc(user)}${s ? `?${s}` : ''}`);
  },
  getSettings: (user) => getJSON(`/api/voice-settings/${enc(user)}`),
  putSettings: async (user, preset, overrides) =>
    (await request('PUT', `/api/voice-settings/${enc(user)}`, { json: { preset, overrides } })).json(),
  submitJob: async (targets, settings) =>
    (await request('POST', '/api/audio-messages', { json: { targets, settings } })).json(),
  job: (id) => getJSON(`/api/audio-messages/${enc(id)}`),
  /** Fetches an audio URL of the API (it needs the bearer header, so an
   *  <audio src> cannot load it directly) and returns the Blob. */
  audioBlob: async (url) => (await request('GET', url)).blob(),
  /** The recording of a profile version, as uploaded. */
  profileAudio: async (user, version) =>
    (await request('GET', `/api/voice-profiles/${enc(user)}/audio${version ? `?version=${version}` : ''}`)).blob(),
  history: (user, limit = 200) =>
    getJSON(`/api/voice-similarity/history/${enc(user)}?limit=${limit}`),
  /** Compares a recording (Blob) with one of the user's profiles; the
   *  server records the score in the similarity history. */
  compareWithProfile: async (profileId, blob, filename = 'cloned.wav') => {
    const fd = new FormData();
    fd.append('original_profile_id', profileId);
    fd.append('cloned', blob, filename);
    return (await request('POST', '/api/voice-analysis/compare', { body: fd })).json();
  },
};

/** Uploads a voice sample with upload progress (fetch has none, so XHR).
 *  onProgress(fraction 0..1 of the bytes sent).  Resolves to the new
 *  profile {id, version, created_at, analysis}. */
export function uploadSample(user, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/voice-profiles/${enc(user)}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token()}`);
    const type = blob.type && blob.type.startsWith('audio/') ? blob.type : 'application/octet-stream';
    xhr.setRequestHeader('Content-Type', type);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.upload.onload = () => onProgress && onProgress(1);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed: cannot reach the server'));
    xhr.onload = () => {
      let j = null;
      try { j = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && j) return resolve(j);
      const e = j && j.error ? j.error : {};
      reject(new ApiError(xhr.status, e.code || `http_${xhr.status}`,
        e.message || `upload refused (${xhr.status})`, e.field));
    };
    xhr.send(blob);
  });
}
