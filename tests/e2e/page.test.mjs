// The whole journey on the page, in a real Chromium: sign in, upload a WAV,
// see the analysis and the pitch plot, change the preset and a parameter,
// save, reload and find it saved, refuse an invalid value, clone into two
// languages, play both, see and record a similarity score, switch profile
// versions.  A screenshot of each step goes to $VX_E2E_OUT (tests/e2e/out).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, openPage, screenshot, screenshotBase, signIn, api } from './helpers.mjs';

let browser, ctx, page, errors, tolerated;

before(async () => {
  screenshotBase(0);
  browser = await launch();
  ({ context: ctx, page, errors, tolerated } = await openPage(browser, { name: 'journey' }));
});

after(async () => {
  await browser?.close();
});

test('sign in with a token', async () => {
  await page.goto(env.url);
  await page.locator('#signin').waitFor({ state: 'visible' });
  await screenshot(page, 'signin');
  // a wrong token is refused with a message
  page.expect401 = true;
  await page.locator('#token').fill('not-a-token');
  await page.locator('#signin-button').click();
  await page.locator('#signin-error').filter({ hasText: 'not valid' }).waitFor();
  page.expect401 = false;
  await signIn(page, env.token);
  assert.equal(await page.locator('#who-name').textContent(), 'alice');
  await page.locator('#analysis-empty').waitFor({ state: 'visible' });
  await screenshot(page, 'signed-in');
});

test('upload a WAV and see the analysis and the pitch plot', async () => {
  await page.locator('#upload-file').setInputFiles(env.sample);
  await page.locator('#upload-button').click();
  await page.locator('#analysis-body').waitFor({ state: 'visible' });
  await page.locator('#sample-status').filter({ hasText: 'Analysed: version 1' }).waitFor();
  const points = Number(await page.locator('#pitch-plot path.contour').getAttribute('data-points'));
  assert.ok(points > 20, `pitch contour has ${points} voiced points`);
  const stats = await page.locator('#stats').innerText();
  assert.match(stats, /Voice type/i);
  assert.match(stats, /High \(female\/child\)|Medium|Low \(male\)/);
  assert.match(stats, /Mean pitch\s+\d+ Hz/i);
  assert.match(stats, /Brightness\s+\d+ Hz/i);
  assert.equal(await page.locator('#mfcc-plot rect.bar').count(), 12);
  assert.match(await page.locator('#metrics-table').innerText(), /Jitter.*\d+\.\d+ %/s);
  // the original is playable (kept by the browser)
  await page.locator('#original-player audio').waitFor();
  await screenshot(page.locator('#analysis'), 'analysis');
});

test('choose a preset, change a parameter, save, reload and find it saved', async () => {
  await page.locator('label[for="preset-high_quality"]').click();
  assert.equal(await page.locator('#param-sample_rate').inputValue(), '48000');
  assert.equal(await page.locator('#param-verify_quality').isChecked(), true);
  await page.locator('#param-exaggeration').fill('0.8');
  await page.locator('#param-exaggeration-mark').filter({ hasText: 'changed' }).waitFor();
  await page.locator('#param-audio_format').selectOption({ label: 'mp3' });
  await page.locator('#save-settings').click();
  await page.locator('#settings-status').filter({ hasText: 'Saved: preset high_quality with 2 overrides' }).waitFor();
  await screenshot(page.locator('#settings'), 'settings-saved');
  const stored = await api(env.token, 'GET', '/api/voice-settings/alice');
  assert.equal(stored.json.preset, 'high_quality');
  assert.deepEqual(stored.json.overrides, { exaggeration: 0.8, audio_format: 'mp3' });

  await page.reload();
  await page.locator('#app').waitFor({ state: 'visible' }); // the token survived in the session
  await page.waitForFunction(() => document.querySelector('#preset-high_quality')?.checked);
  assert.equal(await page.locator('#param-exaggeration').inputValue(), '0.8');
  assert.equal(await page.locator('#param-audio_format').inputValue(), '"mp3"');
  assert.equal(await page.locator('#param-sample_rate').inputValue(), '48000');
  await page.locator('#analysis-body').waitFor({ state: 'visible' });
  await screenshot(page.locator('#settings'), 'settings-after-reload');
  // back to WAV for the clone test
  await page.locator('#param-audio_format').selectOption({ label: 'wav' });
  await page.locator('#save-settings').click();
  await page.locator('#settings-status').filter({ hasText: 'with 1 override (exaggeration)' }).waitFor();
});

test('an invalid value is refused with a visible message', async () => {
  await page.locator('#param-temperature').fill('2.5');
  const msg = page.locator('#param-temperature-error');
  await msg.filter({ hasText: 'temperature = 2.5 is out of range 0.1..2.0' }).waitFor();
  assert.equal(await page.locator('#param-temperature').getAttribute('aria-invalid'), 'true');
  await page.locator('#save-settings').click();
  await page.locator('#settings-error').filter({ hasText: 'Not saved' }).waitFor();
  assert.ok(await page.locator('#settings-error').isVisible());
  await screenshot(page.locator('#settings'), 'invalid-value');
  const stored = await api(env.token, 'GET', '/api/voice-settings/alice');
  assert.equal(stored.json.settings.temperature, 0.8, 'the invalid value was not stored');
  // an integer out of range too, then put both right
  await page.locator('#param-max_workers').fill('9');
  await page.locator('#param-max_workers-error').filter({ hasText: 'max_workers = 9 is out of range 1..4' }).waitFor();
  await page.locator('#param-max_workers').fill('2');
  await page.locator('#param-temperature').fill('0.8');
  await page.locator('#param-temperature-error').waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#param-temperature').getAttribute('aria-invalid'), null);
});

test('clone into two languages: two playable audios, per-language status, a similarity score', async () => {
  for (const code of ['en', 'fr']) await page.locator(`#lang-${code}`).check();
  await page.locator('#fill-samples').click();
  await page.locator('#text-fr').waitFor();
  await page.locator('#clone-button').click();
  await page.locator('#job').waitFor({ state: 'visible' });
  for (const code of ['en', 'fr']) {
    await page.locator(`#result-${code}[data-status="done"] audio`).waitFor({ timeout: env.timeout * 2 });
  }
  await page.locator('#job-status').filter({ hasText: 'Done: 2 languages' }).waitFor();
  // both audios load and play
  for (const code of ['en', 'fr']) {
    const info = await page.locator(`#result-${code} audio`).evaluate(async (a) => {
      a.muted = true;
      if (a.readyState < 1) await new Promise((res, rej) => { a.onloadedmetadata = res; a.onerror = () => rej(new Error('audio error')); });
      await a.play();
      await new Promise((res) => { if (a.currentTime > 0) res(); else a.ontimeupdate = () => a.currentTime > 0 && res(); });
      a.pause();
      return { duration: a.duration, error: a.error && a.error.code };
    });
    assert.ok(info.duration > 0.3, `${code} audio lasts ${info.duration} s`);
    assert.equal(info.error, null);
    assert.equal(await page.locator(`#result-${code}-status`).textContent(), 'done');
  }
  assert.equal(await page.locator('#before-player audio').count(), 1, 'the original recording is next to the clones');
  await screenshot(page.locator('#clone'), 'clone-two-languages');
  // a similarity score, from verify_quality
  const score = Number(await page.locator('#result-en .sim-score').textContent());
  assert.ok(score > 0 && score <= 1, `score ${score}`);
  await page.locator('#sim-body').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#gauge svg .alert-line').count(), 1, 'the gauge has the 0.7 alert line');
  assert.equal(await page.locator('#sim-bars .bar-row').count(), 3);
  assert.match(await page.locator('#sim-bars').innerText(), /Pitch.*Brightness.*Timbre/s);
  await screenshot(page.locator('#similarity'), 'similarity');
});

test('compare a clone with my voice: the score joins the history chart', async () => {
  // the two verified clones of the job are already in the history (the server
  // records every verified clone); each compare adds one more point
  const before = (await api(env.token, 'GET', '/api/voice-similarity/history/alice')).json.entries.length;
  assert.equal(before, 2, 'the two verified clones are in the history');
  await page.locator('#result-en button[data-compare="en"]').click();
  await page.locator('#compare-status').filter({ hasText: 'added to your history' }).waitFor();
  await page.locator(`#history-chart[data-count="${before + 1}"] circle.history-point`).first().waitFor();
  await page.locator('#result-fr button[data-compare="fr"]').click();
  await page.locator(`#history-chart[data-count="${before + 2}"]`).waitFor();
  assert.equal(await page.locator('#history-chart circle.history-point').count(), before + 2);
  assert.equal(await page.locator('#history-chart path.history-line').count(), 1);
  const h = await api(env.token, 'GET', '/api/voice-similarity/history/alice');
  assert.equal(h.json.entries.length, before + 2);
  await screenshot(page.locator('#similarity'), 'similarity-history');
});

test('a second sample makes version 2; switching versions shows each analysis', async () => {
  await page.locator('#upload-file').setInputFiles(env.sample2);
  await page.locator('#upload-button').click();
  await page.locator('#sample-status').filter({ hasText: 'Analysed: version 2' }).waitFor();
  assert.equal(await page.locator('#version-select option').count(), 2);
  const v2 = await page.locator('#stats').innerText();
  await page.locator('#version-select').selectOption('1');
  await page.locator('#analysis-status').filter({ hasText: 'Showing version 1 of 2' }).waitFor();
  const v1 = await page.locator('#stats').innerText();
  assert.notEqual(v1, v2, 'the two versions show different analyses');
  await screenshot(page.locator('#analysis'), 'versions');
});

test('no console errors during the journey', () => {
  assert.deepEqual(errors, []);
  // only the 401 of the wrong token tried on purpose and the one "no profile
  // yet" probe of the fresh user before the first upload
  assert.ok(tolerated.length <= 2, tolerated.join('\n'));
});
