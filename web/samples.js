// Keeps the original recordings this browser uploaded or fetched, so the page
// can play "before" next to each clone ("after") without fetching it again:
// a copy in IndexedDB keyed by the SHA-256 of the bytes (the profile's
// audio_sha256).  Without a local copy the page fetches it from
// GET /api/voice-profiles/:user/audio?version=N.

const DB = 'voxclone';
const STORE = 'samples';
const memory = new Map(); // fallback when IndexedDB is unavailable

function open() {
  return new Promise((resolve, reject) => {
    if (!window.indexedDB) return reject(new Error('no IndexedDB'));
    const rq = indexedDB.open(DB, 1);
    rq.onupgradeneeded = () => rq.result.createObjectStore(STORE);
    rq.onsuccess = () => resolve(rq.result);
    rq.onerror = () => reject(rq.error);
  });
}

export async function sha256Hex(blob) {
  const d = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function putSample(sha, blob) {
  memory.set(sha, blob);
  try {
    const db = await open();
    await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(blob, sha);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  } catch { /* kept in memory only */ }
}

export async function getSample(sha) {
  if (!sha) return null;
  if (memory.has(sha)) return memory.get(sha);
  try {
    const db = await open();
    const blob = await new Promise((resolve, reject) => {
      const rq = db.transaction(STORE).objectStore(STORE).get(sha);
      rq.onsuccess = () => resolve(rq.result || null);
      rq.onerror = () => reject(rq.error);
    });
    db.close();
    if (blob) memory.set(sha, blob);
    return blob;
  } catch {
    return null;
  }
}
