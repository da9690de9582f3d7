// web/params.js carries its own table of the 14 parameters (ranges,
// defaults, meanings) and of the presets: this test compares it with what
// the server says -- `voxclone presets --markdown` (the tables of
// docs/settings.md, generated from include/voxclone/settings.h) and
// GET /api/voice-presets -- so the page and the server cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { env, api } from './helpers.mjs';
import { PARAMS, PRESETS, LANGUAGES, checkValue } from '../../web/params.js';

function markdownTables() {
  const md = execFileSync(env.binary, ['presets', '--markdown'], { encoding: 'utf8' });
  const rows = (header) => {
    const lines = md.split('\n');
    const i = lines.findIndex((l) => l.startsWith(header));
    assert.ok(i >= 0, `table "${header}" in voxclone presets --markdown`);
    const out = [];
    for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j++) {
      out.push(lines[j].replace(/^\|/, '').replace(/\|\s*$/, '').split(' | ').map((c) => c.trim()));
    }
    return out;
  };
  return { params: rows('| # | name |'), presets: rows('| parameter |') };
}

const unquote = (s) => s.replace(/^`|`$/g, '');

test('web/params.js has the 14 parameters of `voxclone presets --markdown`, field by field', () => {
  const { params } = markdownTables();
  assert.equal(params.length, 14);
  assert.equal(PARAMS.length, 14);
  params.forEach((row, i) => {
    const [num, name, group, type, allowed, def, meaning, engines] = row;
    const p = PARAMS[i];
    const where = `parameter ${num} (${unquote(name)})`;
    assert.equal(p.name, unquote(name), where);
    assert.equal(p.group, group, `${where}: group`);
    assert.equal(p.type, type, `${where}: type`);
    assert.equal(p.allowed, allowed, `${where}: allowed`);
    assert.deepEqual(p.default, JSON.parse(unquote(def)), `${where}: default`);
    assert.equal(p.meaning, meaning, `${where}: meaning`);
    assert.equal(p.engines, engines, `${where}: built-in engines`);
    const range = allowed.match(/^(-?[\d.]+)\.\.(-?[\d.]+)/);
    if (range) {
      assert.equal(p.min, Number(range[1]), `${where}: min`);
      assert.equal(p.max, Number(range[2]), `${where}: max`);
      assert.ok(['number', 'integer'].includes(p.kind), `${where}: a range needs a numeric control`);
      assert.equal(p.kind === 'integer', type === 'integer', `${where}: integer control`);
    } else {
      assert.ok(['boolean', 'choice'].includes(p.kind), `${where}: kind`);
    }
    assert.equal(checkValue(p, p.default), null, `${where}: the default passes the page's check`);
  });
});

test('web/params.js presets match the markdown purposes and GET /api/voice-presets', async () => {
  const { presets } = markdownTables();
  const purpose = presets.find((r) => r[0] === 'purpose');
  assert.deepEqual(PRESETS.map((p) => p.purpose), purpose.slice(1));
  const r = await api(env.token, 'GET', '/api/voice-presets');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.map((p) => p.name), PRESETS.map((p) => p.name));
  for (const sp of r.json) {
    assert.deepEqual(Object.keys(sp.parameters), PARAMS.map((p) => p.name), `${sp.name}: the 14 names in order`);
    for (const p of PARAMS) assert.equal(checkValue(p, sp.parameters[p.name]), null, `${sp.name}.${p.name} is valid for the page`);
    assert.match(sp.description, /\.$/, `${sp.name} has a one-sentence description`);
  }
  const balanced = r.json.find((p) => p.default);
  assert.equal(balanced.name, 'balanced');
  for (const p of PARAMS) assert.deepEqual(balanced.parameters[p.name], p.default, `default of ${p.name}`);
});

test("the page's range checks refuse what the server refuses and accept what it accepts", async () => {
  // Edge values: each must get the same verdict from the page and the server.
  const cases = [];
  for (const p of PARAMS) {
    if (p.kind === 'number' || p.kind === 'integer') {
      const d = p.kind === 'integer' ? 1 : 0.01;
      cases.push([p, p.min], [p, p.max], [p, +(p.min - d).toFixed(2)], [p, +(p.max + d).toFixed(2)]);
      if (p.kind === 'integer') cases.push([p, p.min + 0.5]);
    } else if (p.kind === 'boolean') cases.push([p, true], [p, false], [p, 'yes']);
    else cases.push(...p.choices.map((c) => [p, c]), [p, 'other']);
  }
  for (const [p, v] of cases) {
    const r = await api(env.token3, 'PUT', '/api/voice-settings/carol', { preset: 'balanced', overrides: { [p.name]: v } });
    const pageOk = checkValue(p, v) === null;
    assert.equal(r.status === 200, pageOk, `${p.name} = ${JSON.stringify(v)}: server ${r.status} ${r.text.slice(0, 120)}, page ${pageOk ? 'accepts' : 'refuses'}`);
    if (!pageOk) assert.equal(r.json.error.field, p.name, `the server names the field of ${p.name}`);
  }
  await api(env.token3, 'PUT', '/api/voice-settings/carol', { preset: 'balanced', overrides: {} });
});

test('the 12 languages of the page are the languages the service clones', () => {
  const help = execFileSync(env.binary, ['clone', '--help'], { encoding: 'utf8' });
  const codes = LANGUAGES.map((l) => l.code);
  assert.deepEqual(codes, ['en', 'fr', 'es', 'de', 'it', 'pt', 'ru', 'ar', 'hi', 'ja', 'ko', 'zh']);
  const line = help.match(/Languages: ([a-z ]+)/);
  assert.ok(line, 'voxclone clone --help lists its languages');
  assert.deepEqual(line[1].trim().split(/\s+/), codes);
});
