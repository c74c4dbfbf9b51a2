/**
 * Makes docs/dashboard.png for the root README: runs the demo for a while and photographs the
 * dashboard in headless Chromium. usage: node --import tsx apps/demo/scripts/screenshot.ts [out.png]
 */
import { join } from 'node:path';
import { startDemo } from '../src/demo.js';
import { launchChromium } from '../tests/integration/browser.js';

const out = process.argv[2] ?? join(import.meta.dirname, '..', '..', '..', 'docs', 'dashboard.png');
const demo = await startDemo({ agents: 48, speed: 60, log: (l) => process.stdout.write(`${l}\n`) });
const browser = await launchChromium();
try {
  await new Promise((r) => setTimeout(r, 75_000));
  const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  await page.goto(demo.url);
  await page.waitForTimeout(3000);
  await page.screenshot({ path: out });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser.close();
  await demo.stop();
}
process.exit(0);
