// Shared set-up of the browser tests: the server run.sh started, the system
// Chromium driven by playwright-core, screenshots, and the console watch.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the tests with tests/e2e/run.sh BINARY SHARED_DIR`);
  return v;
}

export const env = {
  get url() { return need('VX_E2E_URL'); },
  get token() { return need('VX_E2E_TOKEN'); },        // user alice
  get token2() { return need('VX_E2E_TOKEN2'); },      // user bob (rendering, keyboard, microphone)
  get token3() { return need('VX_E2E_TOKEN3'); },      // user carol (phone layout)
  get sample() { return need('VX_E2E_SAMPLE'); },
  get sample2() { return need('VX_E2E_SAMPLE2'); },
  get binary() { return need('VX_BINARY'); },
  out: process.env.VX_E2E_OUT || path.join(here, 'out'),
  chromium: process.env.VX_CHROMIUM || '/usr/bin/chromium',
  timeout: Number(process.env.VX_E2E_TIMEOUT_MS || 60000),
};

fs.mkdirSync(env.out, { recursive: true });

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required', ...extraArgs],
  });
}

/**
 * Opens a page that records every console error and uncaught page error.
 * The only tolerated one is the 404 of GET /api/voice-analysis/USER for a
 * user who has no profile yet: the API has no other way to ask "do I have a
 * profile?" (see tests/e2e/README.md); the page handles it as "no profile".
 * A test that signs in with a wrong token on purpose sets page.expect401.
 */
export async function openPage(browser, { viewport = { width: 1280, height: 900 }, name = 'page' } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  context.setDefaultTimeout(env.timeout);
  const page = await context.newPage();
  const errors = [];
  const tolerated = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    const rec = `${name}: console error: ${m.text()} (${url})`;
    if (/status of 404/.test(m.text()) && /\/api\/voice-analysis\/[^/?]+(\?frames=1)?$/.test(url)) tolerated.push(rec);
    else if (/status of 401/.test(m.text()) && /\/api\/whoami$/.test(url) && page.expect401) tolerated.push(rec);
    else errors.push(rec);
  });
  page.on('pageerror', (e) => errors.push(`${name}: page error: ${e.message}`));
  page.on('crash', () => errors.push(`${name}: page crashed`));
  return { context, page, errors, tolerated };
}

let shot = 0;
/** Screenshot of a page (full length) or of one element (a Locator). */
export async function screenshot(target, label, { fullPage = true } = {}) {
  shot += 1;
  const file = path.join(env.out, `${String(shot).padStart(2, '0')}-${label}.png`);
  if (typeof target.goto === 'function') await target.screenshot({ path: file, fullPage });
  else await target.screenshot({ path: file });
  return file;
}

/** Each test file numbers its screenshots from its own base. */
export function screenshotBase(n) { shot = n; }

export async function signIn(page, token) {
  await page.goto(env.url);
  await page.locator('#token').fill(token);
  await page.locator('#signin-button').click();
  await page.locator('#app').waitFor({ state: 'visible' });
  // settings form built and filled from the server
  await page.locator('#param-temperature').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('input[name="preset"]:checked') !== null);
}

export async function api(token, method, p, body) {
  const r = await fetch(new URL(p, env.url), {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}
