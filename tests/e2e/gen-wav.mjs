// Writes a synthetic "voice" WAV for the browser tests when ../shared/evaldata
// is not there: 3 s at 22 050 Hz of a glottal-like harmonic tone whose pitch
// glides around F0 (Hz), shaped into syllables, with formant-like harmonic
// weights, so pYIN finds voiced frames and every analysis figure is defined.
//   usage: node gen-wav.mjs OUT.wav F0
import fs from 'node:fs';

const [out, f0Arg] = process.argv.slice(2);
if (!out) { console.error('usage: node gen-wav.mjs OUT.wav [F0]'); process.exit(2); }
const f0 = Number(f0Arg || 180);
const rate = 22050, secs = 3, n = rate * secs;
const pcm = new Int16Array(n);
let phase = 0;
let seed = 12345;
const noise = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff - 0.5; };
for (let i = 0; i < n; i++) {
  const t = i / rate;
  const f = f0 * (1 + 0.12 * Math.sin(2 * Math.PI * 0.7 * t) + 0.03 * Math.sin(2 * Math.PI * 5 * t));
  phase += (2 * Math.PI * f) / rate;
  let s = 0;
  for (let k = 1; k <= 20; k++) {
    const hz = k * f;
    const formant = Math.exp(-(((hz - 600) / 250) ** 2)) + 0.6 * Math.exp(-(((hz - 1700) / 300) ** 2)) + 0.3 * Math.exp(-(((hz - 2600) / 400) ** 2));
    s += ((0.4 / k) + formant) * Math.sin(k * phase);
  }
  const syll = Math.max(0, Math.sin(Math.PI * ((t * 3) % 1))) ** 0.6; // 3 syllables a second
  pcm[i] = Math.round(Math.max(-1, Math.min(1, 0.18 * s * syll + 0.01 * noise())) * 32767);
}
const buf = Buffer.alloc(44 + n * 2);
buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8);
buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
Buffer.from(pcm.buffer).copy(buf, 44);
fs.writeFileSync(out, buf);
