import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { type DemoHandle, startDemo } from '../../src/demo.js';
import { launchChromium } from './browser.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-results');

describe('the dashboard in a real headless Chromium', () => {
  let demo: DemoHandle;
  let browser: Browser;

  beforeAll(async () => {
    demo = await startDemo({ agents: 12, speed: 10, historical: false });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  }, 120_000);

  it('loads, updates live, and highlights a mismatch injected into the WFM', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(demo.url);
    await page.locator('#grid .agent').nth(11).waitFor({ timeout: 30_000 });
    expect(await page.locator('#grid .agent').count()).toBe(12);

    // live: the status line changes as server-sent events arrive
    const first = await page.textContent('#status');
    let changed = false;
    for (let i = 0; i < 60 && !changed; i++) {
      await page.waitForTimeout(500);
      changed = (await page.textContent('#status')) !== first;
    }
    expect(changed).toBe(true);
    // the daemon delivers states the page shows
    await page.waitForFunction(
      "[...document.querySelectorAll('#grid .agent span')].some((s) => s.textContent !== '–')",
      undefined,
      { timeout: 90_000 },
    );

    // an agent the truth has logged out gets "Available" in the WFM: a mismatch
    const state = await demo.state();
    const target =
      state.agents.find((a) => a.truth === 'LOGGED-OFF' && a.wfm === null) ?? state.agents[0];
    if (target === undefined) throw new Error('no agent');
    const wrong = target.truth === 'LOGGED-OFF' ? 'Available' : 'InjectedWrongState';
    await demo.injectWfmState(target.username, wrong);
    const selector = `#grid .agent.mismatch[data-user="${target.username}"]`;
    await page.waitForSelector(selector, { timeout: 30_000 });
    expect(await page.textContent(`${selector} span`)).toBe(wrong);
    expect(Number(await page.textContent('#mismatches'))).toBeGreaterThanOrEqual(1);
    const border = await page.evaluate(
      `getComputedStyle(document.querySelector('${selector}')).borderTopColor`,
    );
    expect(border).toBe('rgb(224, 0, 0)');

    // nothing left 127.0.0.1 (no CDN)
    expect(requests.every((u) => u.startsWith('http://127.0.0.1:'))).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    await page.close();
  }, 240_000);
});
