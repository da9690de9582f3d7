// The page as rendered by headless Chromium: the 5 presets and the 14
// parameters by name, every control labelled, keyboard use, the user guide,
// the microphone path (Chromium's fake capture device plays a real speech
// WAV into the page, which records it, converts it to WAV and uploads it),
// and the 375 px phone layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, openPage, screenshot, screenshotBase, signIn } from './helpers.mjs';
import { PARAMS, PRESETS } from '../../web/params.js';

let browser;
const allErrors = [];

before(async () => {
  screenshotBase(20);
  browser = await launch([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${env.sample}`,
  ]);
});

after(async () => {
  await browser?.close();
});

test('the page shows the 5 presets and all 14 parameters by name, each control labelled', async () => {
  const { page, errors, context } = await openPage(browser, { name: 'render' });
  await signIn(page, env.token2);
  for (const p of PRESETS) {
    const label = page.locator(`label[for="preset-${p.name}"]`);
    assert.ok(await label.isVisible(), `preset ${p.name} visible`);
    assert.match(await label.innerText(), new RegExp(`^${p.name}`));
    assert.ok((await page.locator(`#preset-${p.name}-desc`).innerText()).length > 20, `${p.name} explained`);
  }
  for (const p of PARAMS) {
    const label = page.locator(`label[for="param-${p.name}"].param-name`);
    assert.ok(await label.isVisible(), `parameter ${p.name} visible`);
    assert.equal(await label.innerText(), p.name);
    const meta = await page.locator(`#param-${p.name}-meta`).innerText();
    assert.match(meta, /(range|values) .* · default .*/, `${p.name} shows its range and default`);
    assert.ok((await page.locator(`#param-${p.name}-help`).innerText()).includes(p.meaning), `${p.name} says what it does`);
  }
  // the page text, as a reader sees it, names all of them
  const text = await page.locator('body').innerText();
  for (const n of [...PRESETS.map((p) => p.name), ...PARAMS.map((p) => p.name)]) assert.ok(text.includes(n), n);
  // every form control has an accessible name
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((e) => e.offsetParent !== null || e.type === 'radio')
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.textContent || '').trim())
    .map((e) => e.id || e.outerHTML.slice(0, 60)));
  assert.deepEqual(unlabelled, []);
  await screenshot(page.locator('#settings'), 'presets-and-parameters');
  allErrors.push(...errors);
  await context.close();
});

test('works with the keyboard: sign in, pick a preset with the arrows, focus is visible', async () => {
  const { page, errors, context } = await openPage(browser, { name: 'keyboard' });
  await page.goto(env.url);
  await page.waitForFunction(() => document.activeElement?.id === 'token'); // the token box has the focus
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Tab');
  await page.keyboard.type(env.token2);
  await page.keyboard.press('Enter');
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('input[name="preset"]:checked'));
  await page.locator('input[name="preset"]:checked').focus();
  const before = await page.locator('input[name="preset"]:checked').getAttribute('value');
  await page.keyboard.press('ArrowRight');
  const afterKey = await page.locator('input[name="preset"]:checked').getAttribute('value');
  assert.notEqual(afterKey, before, 'arrow keys move through the presets');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused preset is outlined');
  // Tab reaches a parameter box, typing changes it
  await page.locator('#param-temperature').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('1.5');
  await page.locator('#param-temperature-mark').filter({ hasText: 'changed' }).waitFor();
  await screenshot(page.locator('#param-group-voice'), 'keyboard-focus');
  allErrors.push(...errors);
  await context.close();
});

test('record with the microphone: converted to WAV in the browser, uploaded and analysed', async () => {
  const { page, errors, context } = await openPage(browser, { name: 'microphone' });
  await context.grantPermissions(['microphone'], { origin: new URL(env.url).origin });
  await signIn(page, env.token2);
  await page.locator('#rec-start').click();
  await page.locator('#rec-stop').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('#rec-stop').disabled);
  // record about 2.5 s of the fake microphone (the sample WAV)
  await page.locator('#rec-time').filter({ hasText: '0:02' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#rec-time').textContent >= '0:02');
  await screenshot(page.locator('#sample'), 'recording');
  await page.locator('#rec-stop').click();
  // analysed, or refused with a message (then fail with that message)
  await page.waitForFunction(() => /Analysed: version \d+/.test(document.querySelector('#sample-status').textContent)
    || document.querySelector('#sample-error').textContent);
  assert.equal(await page.locator('#sample-error').textContent(), '');
  await page.locator('#analysis-body').waitFor({ state: 'visible' });
  const dur = await page.locator('#stats .stat:last-child .stat-value').innerText();
  assert.match(dur, /^[2-4]\.\d s$/, `recorded duration ${dur}`);
  await page.locator('#original-player audio').waitFor();
  await screenshot(page.locator('#analysis'), 'recorded-analysis');
  allErrors.push(...errors);
  await context.close();
});

test('the user guide is linked from the page and renders', async () => {
  const { page, errors, context } = await openPage(browser, { name: 'guide' });
  await page.goto(env.url);
  await page.locator('#signin a[href="guide.html"]').click();
  await page.locator('#doc[aria-busy="false"] h1').waitFor();
  assert.equal(await page.locator('#doc h1').innerText(), 'voxclone user guide');
  for (const id of ['recording-a-good-sample', 'what-the-numbers-mean', 'choosing-a-preset', 'the-14-parameters', 'similarity-faq', 'limits-and-honest-notes-on-quality']) {
    assert.equal(await page.locator(`#doc h2#${id}, #doc h3#${id}`).count(), 1, `section ${id}`);
  }
  assert.ok(await page.locator('#doc table').count() >= 3);
  await screenshot(page, 'user-guide', { fullPage: false });
  await page.goto(new URL('guide.html?doc=settings', env.url).href);
  await page.locator('#doc[aria-busy="false"] h1').waitFor();
  assert.ok(await page.locator('#doc table').count() >= 2, 'the settings reference renders its tables');
  allErrors.push(...errors);
  await context.close();
});

test('works on a 375 px wide phone screen', async () => {
  const { page, errors, context } = await openPage(browser, { name: 'phone', viewport: { width: 375, height: 740 } });
  await signIn(page, env.token3);
  await page.locator('#upload-file').setInputFiles(env.sample);
  await page.locator('#upload-button').click();
  await page.locator('#analysis-body').waitFor({ state: 'visible' });
  await page.locator('#lang-en').check();
  await page.locator('#lang-fr').uncheck();
  await page.locator('#clone-button').click();
  await page.locator('#result-en[data-status="done"] audio').waitFor({ timeout: env.timeout * 2 });
  await page.locator('#sim-body').waitFor({ state: 'visible' });
  const overflow = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('main *')].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && (r.right > w + 1 || r.left < -1) && getComputedStyle(e).position !== 'absolute'
        && !e.closest('.doc table') && !e.closest('.visually-hidden');
    }).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
    return { scroll: document.documentElement.scrollWidth, w, wide: wide.slice(0, 10) };
  });
  assert.ok(overflow.scroll <= 375, `page is ${overflow.scroll} px wide: ${overflow.wide.join(', ')}`);
  assert.deepEqual(overflow.wide, []);
  await screenshot(page, 'phone-375px');
  allErrors.push(...errors);
  await context.close();
});

test('no console errors while rendering', () => {
  assert.deepEqual(allErrors, []);
});
