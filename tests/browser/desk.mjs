// Drives Debian's Chromium through the tidings web view, as a desk analyst would: log
// in with the token, filter the events, click through to an event and read its
// evidence, watch a new event arrive live (and an open event page say its event got a
// new report), see the badge when the stream goes down, and take screenshots. Run by tests/web_browser.rs, which owns the daemon and the feed:
//
//   node desk.mjs BASE_URL SCREENSHOT_DIR TOKEN LIVE_TITLE
//
// Two steps wait for the test: the script prints "WAIT publish" (the test then serves a
// new story and asks the daemon to poll) and "WAIT stop" (the test stops the daemon),
// and goes on when the test writes a line on its standard input. Each check passed is
// printed as "OK …"; any failure exits non-zero with the reason.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [base, shots, token, liveTitle] = process.argv.slice(2);
if (!base || !shots || !token || !liveTitle) {
  console.error('usage: node desk.mjs BASE_URL SCREENSHOT_DIR TOKEN LIVE_TITLE');
  process.exit(2);
}

const input = createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
async function waitForTest(step) {
  console.log(`WAIT ${step}`);
  const { done } = await lines.next();
  if (done) throw new Error(`the test closed standard input before ${step}`);
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`OK ${what}`);
}

const profile = mkdtempSync(join(tmpdir(), 'tidings-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const problems = [];
let exitCode = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30000);
  page.on('dialog', (d) => { problems.push(`a dialog opened: ${d.message()}`); d.dismiss(); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const xss = () => page.evaluate(() => window.__xss);

  // The token rule: the page asks for the token, then keeps it as a cookie.
  const first = await page.goto(`${base}/`);
  check(first.status() === 401, 'the events page asks for the token (401)');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${base}/`), page.press('#token', 'Enter')]);
  const rows = page.locator('#event-rows tr');
  const all = await rows.count();
  check(all >= 9, `the events page lists the stored events (${all})`);
  check(
    (await page.getByText('<script>window.__xss=1</script>', { exact: false }).count()) >= 1,
    'a hostile title shows as text',
  );
  check((await xss()) === undefined, 'no script from the feed ran');

  // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.classList.contains('skip')), 'Tab reaches the skip link first');
  await page.keyboard.press('Enter');
  check(await page.evaluate(() => document.activeElement?.id === 'main'), 'the skip link moves focus to the content');

  await page.waitForSelector('#stream-badge[data-state="up"]');
  check(true, 'the live badge shows the stream up');
  await page.screenshot({ path: join(shots, 'events.png') });

  // Filter: type and country, submitted from the keyboard; the filters land in the URL.
  await page.selectOption('#f-type', 'bilateral_meeting');
  await page.fill('#f-country', 'FRA');
  await page.focus('button[type="submit"]');
  await Promise.all([page.waitForURL(/country=FRA/), page.keyboard.press('Enter')]);
  const url = new URL(page.url());
  check(url.searchParams.get('type') === 'bilateral_meeting' && url.searchParams.get('country') === 'FRA',
    `the filters are in the URL (${url.search})`);
  const filtered = await rows.count();
  check(filtered === 2, `filtering leaves the two Franco-German meetings (${filtered})`);

  // Click through to an event and read its evidence.
  await Promise.all([page.waitForURL(/\/events\/\d+$/), rows.first().locator('a[href^="/events/"]').click()]);
  const evidence = page.locator('blockquote.evidence mark').first();
  await evidence.waitFor();
  const sentence = await evidence.innerText();
  check(/Macron met German Chancellor Friedrich Merz/.test(sentence), `the evidence sentence is highlighted: "${sentence}"`);
  check((await page.locator('blockquote.evidence mark strong').count()) >= 1, 'the matched words are marked');
  check((await page.locator('h3 a[href^="https://news.example/"]').count()) >= 1, 'the article is linked');
  const berlin = page.url();
  check((await page.locator('dl.facts').innerText()).includes('Berlin'), 'the newest Franco-German meeting is in Berlin');
  await page.screenshot({ path: join(shots, 'event.png'), fullPage: true });

  // The hostile story's event page runs nothing either.
  await page.goto(`${base}/?country=GRC`);
  await Promise.all([page.waitForURL(/\/events\/\d+$/), rows.first().locator('a[href^="/events/"]').click()]);
  await page.locator('blockquote.evidence').first().waitFor();
  check((await xss()) === undefined, 'the hostile event page ran no script from the feed');

  // Live: a new event arrives while the page is open, without a reload and without
  // moving the table.
  await page.goto(`${base}/`);
  await page.waitForSelector('#stream-badge[data-state="up"]');
  const before = await rows.first().boundingBox();
  const navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
  // A second tab on the Berlin meeting, which the next poll reports again.
  const other = await context.newPage();
  await other.goto(berlin);
  await other.waitForSelector('#stream-badge[data-state="up"]');
  check(await other.locator('#event-changed').isHidden(), 'the event page shows no change yet');
  await waitForTest('publish');
  const arrived = page.locator('#live-rows tr', { hasText: liveTitle });
  await arrived.waitFor({ timeout: 60000 });
  check(true, `the new event arrived live: "${liveTitle}"`);
  check(navigations.length === 0, 'without a reload');
  await other.locator('#event-changed').waitFor({ state: 'visible', timeout: 60000 });
  check(true, 'the open event page says its event changed');
  await other.close();
  const after = await rows.first().boundingBox();
  check(before && after && before.y === after.y && before.height === after.height,
    `the table did not move (${before?.y} → ${after?.y})`);
  check((await page.locator('[aria-live="polite"] #live-rows').count()) === 1, 'the live rows are in a polite live region');
  await page.screenshot({ path: join(shots, 'events-live.png') });

  // Pictures.
  await page.goto(`${base}/map`);
  const links = await page.locator('svg.map path.link').count();
  check(links >= 8, `the map draws meetings between capitals (${links})`);
  await page.screenshot({ path: join(shots, 'map.png'), fullPage: false });
  await page.goto(`${base}/timeline`);
  check((await page.locator('svg.chart rect').count()) >= 3, 'the timeline draws its bars');
  await page.screenshot({ path: join(shots, 'timeline.png') });
  await page.goto(`${base}/countries/FRA`);
  check((await page.locator('table.counterparts tbody tr').first().innerText()).includes('Germany'), 'France’s first counterpart is Germany');

  // The badge when the stream goes down.
  await page.goto(`${base}/`);
  await page.waitForSelector('#stream-badge[data-state="up"]');
  await waitForTest('stop');
  await page.waitForSelector('#stream-badge[data-state="down"]', { timeout: 60000 });
  check(true, 'the badge shows the stream down once the daemon stops');
  await page.screenshot({ path: join(shots, 'stream-down.png') });

  check((await xss()) === undefined && problems.length === 0, `no script from the feed ran, no page error (${problems.join('; ')})`);
  console.log('DONE');
} catch (e) {
  console.error(String(e && e.stack || e));
  if (problems.length) console.error(problems.join('\n'));
  exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  input.close();
}
process.exit(exitCode);
