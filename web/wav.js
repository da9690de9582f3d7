// Microphone recording, converted to WAV in the browser.
//
// The browser records with MediaRecorder (webm/opus or ogg, depending on the
// browser), then the recording is decoded with Web Audio, mixed to mono,
// resampled to 22 050 Hz (the rate the analysis runs at) and written as a
// 16-bit PCM WAV, which the server accepts everywhere.

export const WAV_RATE = 22050;

/** Encodes mono float samples (-1..1) as a 16-bit PCM WAV Blob. */
export function encodeWav(samples, rate) {
  const n = samples.length;
  const buf = new ArrayBuffer(44 + n * 2);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + n * 2, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); str(36, 'data'); v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + i * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
  }
  return new Blob([buf], { type: 'audio/wav' });
}

/** Decodes any audio Blob the browser can play and returns a mono 22 050 Hz
 *  WAV Blob plus its duration in seconds. */
export async function toWav(blob) {
  const data = await blob.arrayBuffer();
  const AC = window.AudioContext || window.webkitAudioContext;
  const ctx = new AC();
  let decoded;
  try {
    decoded = await ctx.decodeAudioData(data);
  } finally {
    ctx.close();
  }
  const frames = Math.max(1, Math.ceil(decoded.duration * WAV_RATE));
  // OfflineAudioContext resamples and down-mixes (speakers -> mono) for us.
  const off = new OfflineAudioContext(1, frames, WAV_RATE);
  const src = off.createBufferSource();
  src.buffer = decoded;
  src.connect(off.destination);
  src.start();
  const out = await off.startRendering();
  return { wav: encodeWav(out.getChannelData(0), WAV_RATE), duration: decoded.duration };
}

/** A microphone recorder.  start() asks for the microphone; onLevel(0..1) is
 *  called about 20 times a second while recording; stop() resolves to
 *  {wav, duration}. */
export class Recorder {
  constructor({ onLevel } = {}) {
    this.onLevel = onLevel;
    this.chunks = [];
  }

  static supported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: true },
    });
    this.chunks = [];
    this.rec = new MediaRecorder(this.stream);
    this.rec.ondataavailable = (e) => { if (e.data && e.data.size) this.chunks.push(e.data); };
    this.rec.start(250);
    this.t0 = performance.now();
    // level meter
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      this.ctx = new AC();
      const src = this.ctx.createMediaStreamSource(this.stream);
      const an = this.ctx.createAnalyser();
      an.fftSize = 1024;
      src.connect(an);
      const buf = new Float32Array(an.fftSize);
      this.timer = setInterval(() => {
        an.getFloatTimeDomainData(buf);
        let s = 0;
        for (const x of buf) s += x * x;
        if (this.onLevel) this.onLevel(Math.min(1, Math.sqrt(s / buf.length) * 4));
      }, 50);
    } catch { /* no meter: recording still works */ }
  }

  elapsed() { return this.t0 ? (performance.now() - this.t0) / 1000 : 0; }

  async stop() {
    clearInterval(this.timer);
    const done = new Promise((resolve) => { this.rec.onstop = resolve; });
    this.rec.stop();
    await done;
    this.stream.getTracks().forEach((t) => t.stop());
    if (this.ctx) this.ctx.close();
    const blob = new Blob(this.chunks, { type: this.rec.mimeType || 'audio/webm' });
    return toWav(blob);
  }

  cancel() {
    clearInterval(this.timer);
    try { this.rec && this.rec.state !== 'inactive' && this.rec.stop(); } catch { /* already stopped */ }
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    if (this.ctx) this.ctx.close();
  }
}
