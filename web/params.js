// The 14 cloning parameters, the 5 presets' one-line purposes and the 12
// languages, as the page shows them.
//
// This table mirrors include/voxclone/settings.h (through `voxclone presets
// --markdown`, i.e. the tables of docs/settings.md).  tests/e2e/params.test.mjs
// compares it field by field with that output and with GET /api/voice-presets,
// so the two cannot drift: change them together.

/** kind: 'number' (slider + box), 'integer' (slider + box, step 1),
 *  'boolean' (checkbox), 'choice' (select of `choices`). */
export const PARAMS = [
  {
    name: 'exaggeration', group: 'voice', type: 'number', kind: 'number',
    min: 0.0, max: 1.0, step: 0.05, default: 0.5, allowed: '0.0..1.0',
    meaning: 'Emotional intensity / expressiveness of the cloned speech.',
    engines: "Scales the prosody range: how far pitch and emphasis swing around the voice's mean (higher = more expressive).",
  },
  {
    name: 'cfg_weight', group: 'voice', type: 'number', kind: 'number',
    min: 0.0, max: 1.0, step: 0.05, default: 0.5, allowed: '0.0..1.0',
    meaning: 'How strongly generation follows the reference voice (its pace and accent); 0 for cross-language cloning.',
    engines: "How closely the reference's speaking rate is followed: 0 = the synthesizer's normal rate for the language, 1 = the rate measured in the reference.",
  },
  {
    name: 'temperature', group: 'voice', type: 'number', kind: 'number',
    min: 0.1, max: 2.0, step: 0.05, default: 1.0, allowed: '0.1..2.0',
    meaning: 'Randomness of generation.',
    engines: 'Amount of seeded natural variation: small pitch and timing fluctuations drawn from a fixed seed, so the same request gives the same audio.',
  },
  {
    name: 'top_p', group: 'voice', type: 'number', kind: 'number',
    min: 0.0, max: 1.0, step: 0.01, default: 0.9, allowed: '0.0..1.0',
    meaning: 'Nucleus sampling: tokens are drawn only from the smallest set whose total probability reaches top_p.',
    engines: 'Unused: it only steers token sampling, which the built-in engines do not do; results list it as unused.',
    unused: true,
  },
  {
    name: 'min_p', group: 'voice', type: 'number', kind: 'number',
    min: 0.0, max: 1.0, step: 0.01, default: 0.0, allowed: '0.0..1.0',
    meaning: 'Minimum probability, relative to the most likely token, for a token to be sampled.',
    engines: 'Unused: it only steers token sampling, which the built-in engines do not do; results list it as unused.',
    unused: true,
  },
  {
    name: 'repetition_penalty', group: 'voice', type: 'number', kind: 'number',
    min: 1.0, max: 3.0, step: 0.05, default: 1.2, allowed: '1.0..3.0',
    meaning: 'Penalty on generating already generated tokens again.',
    engines: 'Unused: it only steers token sampling, which the built-in engines do not do; results list it as unused.',
    unused: true,
  },
  {
    name: 'auto_optimize', group: 'voice', type: 'boolean', kind: 'boolean',
    default: true, allowed: 'true or false',
    meaning: 'Adapt parameters per target language and per voice.',
    engines: 'Applied before synthesis: for a non-English target language cfg_weight is set to 0, and the result lists the adjusted parameters.',
  },
  {
    name: 'use_gpu', group: 'performance', type: 'string or boolean', kind: 'choice',
    choices: ['auto', true, false], default: 'auto', allowed: '"auto", true or false',
    meaning: 'Device choice: "auto" uses a GPU when one is usable, true asks for one, false forbids it.',
    engines: 'The built-in engines run on the CPU whatever the value; results report the device actually used ("cpu").',
  },
  {
    name: 'batch_size', group: 'performance', type: 'integer', kind: 'integer',
    min: 1, max: 10, step: 1, default: 1, allowed: '1..10',
    meaning: 'Number of items synthesized per batch.',
    engines: 'Number of texts synthesized per batch: changes throughput and memory, never the audio.',
  },
  {
    name: 'max_workers', group: 'performance', type: 'integer', kind: 'integer',
    min: 1, max: 4, step: 1, default: 2, allowed: '1..4',
    meaning: 'Number of target languages processed in parallel.',
    engines: 'Number of target languages synthesized in parallel: changes speed and memory, never the audio.',
  },
  {
    name: 'enable_caching', group: 'performance', type: 'boolean', kind: 'boolean',
    default: true, allowed: 'true or false',
    meaning: 'Reuse analyses and voice conditionings across requests.',
    engines: 'Reuses the analysis of a reference voice for later requests with the same reference: saves time, never changes the audio.',
  },
  {
    name: 'audio_format', group: 'quality', type: 'string', kind: 'choice',
    choices: ['wav', 'mp3'], default: 'wav', allowed: '"wav" or "mp3"',
    meaning: 'Output encoding.',
    engines: 'Encoding of the output file: WAV or MP3.',
  },
  {
    name: 'sample_rate', group: 'quality', type: 'integer', kind: 'integer',
    min: 16000, max: 48000, step: 1, default: 24000, allowed: '16000..48000 Hz', unit: 'Hz',
    meaning: 'Output sample rate in Hz.',
    engines: 'The synthesized audio is resampled to this rate (espeak-ng speaks at 22050 Hz, flite at 16000 Hz).',
  },
  {
    name: 'verify_quality', group: 'quality', type: 'boolean', kind: 'boolean',
    default: false, allowed: 'true or false',
    meaning: 'Score each output against the reference voice.',
    engines: 'Analyses each output and reports its similarity to the reference voice (seed formula and voiceprint).',
  },
];

export const GROUPS = [
  { id: 'voice', title: 'Voice', blurb: 'How the cloned speech sounds.' },
  { id: 'performance', title: 'Performance', blurb: 'Speed and resources; never changes the audio.' },
  { id: 'quality', title: 'Output and quality', blurb: 'What file you get and whether it is scored.' },
];

/** Preset purposes (the server's own one-sentence descriptions are shown
 *  when it sends them; these are the fallback and the short titles). */
export const PRESETS = [
  { name: 'fast', purpose: 'lowest latency' },
  { name: 'balanced', purpose: 'quality/speed compromise (default)' },
  { name: 'high_quality', purpose: 'best quality' },
  { name: 'conversational', purpose: 'natural dialogue' },
  { name: 'low_resource', purpose: 'small machines' },
];

export const LANGUAGES = [
  { code: 'en', name: 'English', sample: 'Hello! This is my voice, speaking English.' },
  { code: 'fr', name: 'French', sample: 'Bonjour ! Voici ma voix, qui parle français.' },
  { code: 'es', name: 'Spanish', sample: '¡Hola! Esta es mi voz, hablando español.' },
  { code: 'de', name: 'German', sample: 'Hallo! Das ist meine Stimme, sie spricht Deutsch.' },
  { code: 'it', name: 'Italian', sample: 'Ciao! Questa è la mia voce, che parla italiano.' },
  { code: 'pt', name: 'Portuguese', sample: 'Olá! Esta é a minha voz, falando português.' },
  { code: 'ru', name: 'Russian', sample: 'Привет! Это мой голос, он говорит по-русски.' },
  { code: 'ar', name: 'Arabic', sample: 'مرحبا! هذا صوتي يتحدث العربية.' },
  { code: 'hi', name: 'Hindi', sample: 'नमस्ते! यह मेरी आवाज़ है, जो हिंदी बोल रही है।' },
  { code: 'ja', name: 'Japanese', sample: 'こんにちは！これは日本語を話す私の声です。' },
  { code: 'ko', name: 'Korean', sample: '안녕하세요! 이것은 한국어로 말하는 제 목소리입니다.' },
  { code: 'zh', name: 'Chinese', sample: '你好！这是我的声音，在说中文。' },
];

export const ALERT_THRESHOLD = 0.7;

/** Checks one value against a parameter; returns null when valid, else a
 *  message that names the field, the value and what is allowed (the same
 *  wording as the server's). */
export function checkValue(p, v) {
  switch (p.kind) {
    case 'number':
    case 'integer': {
      if (typeof v !== 'number' || !Number.isFinite(v))
        return `${p.name}: enter a number in ${p.allowed}`;
      if (p.kind === 'integer' && !Number.isInteger(v))
        return `${p.name} = ${v} must be a whole number in ${p.allowed}`;
      if (v < p.min || v > p.max)
        return `${p.name} = ${v} is out of range ${p.allowed}`;
      return null;
    }
    case 'boolean':
      return typeof v === 'boolean' ? null : `${p.name} must be true or false`;
    case 'choice':
      return p.choices.includes(v) ? null : `${p.name} must be one of ${p.allowed}`;
    default:
      return `${p.name}: unknown kind`;
  }
}

export function formatValue(p, v) {
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'number' && p.kind === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  return String(v);
}
