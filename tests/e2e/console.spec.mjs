// The web console in headless Chromium (Debian's /usr/bin/chromium, driven
// by npm's playwright-core): what a person at labour inspection's desk sees.
// Run by console_e2e.sh, which starts the services and seeds the case:
//   GATEWAY_URL  the console, e.g. http://127.0.0.1:8080/
//   CASE_ID      a case the justice bureau opened and referred ...
//   REFERRAL_ID  ... to qinzhou.labor-inspection (REQUESTED)
//   HAS_MEDIATION, HAS_DEADLINES  "1" when those services run
//   ARTIFACT_DIR where screenshots go
// Prints "ok: ..." per check; exits 1 with the page's text on the first
// failure.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { chromium } = await import(
  new URL('../../tools/node_modules/playwright-core/index.mjs', import.meta.url).href);

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run console_e2e.sh)`);
  return v;
};
const GATEWAY = env('GATEWAY_URL');
const CASE_ID = env('CASE_ID');
const REFERRAL_ID = env('REFERRAL_ID');
const ARTIFACTS = process.env.ARTIFACT_DIR || '.';
const LABOR = 'qinzhou.labor-inspection';
const HOUSING = 'qinzhou.housing';
const TIMEOUT_MS = 10_000;

const ok = (what) => console.log(`ok: ${what}`);

// Polls `probe` until it returns a truthy value; fails naming `what`.
async function until(what, probe) {
  const deadline = Date.now() + TIMEOUT_MS;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
});
const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 1000 } });
const page = await context.newPage();
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function actAs(node) {
  await page.locator('#node-picker').selectOption(node);
}

const text = (locator) => locator.textContent({ timeout: TIMEOUT_MS });

try {
  // ------------------------------------------------------------ the inbox
  await page.goto(`${GATEWAY}#/inbox`);
  await until('the node picker', async () => (await page.locator('#node-picker option').count()) >= 3);
  await actAs(LABOR);
  await until('the 收件箱 heading', async () => (await text(page.locator('main h2'))) === '收件箱');
  const backlog = page.getByTestId('backlog-count');
  await until('backlog count 1', async () => (await text(backlog)).trim() === '1');
  const row = page.locator(`tr[data-referral="${REFERRAL_ID}"]`);
  await until('the referral in the inbox', async () => (await row.count()) === 1);
  await until('state 已转出', async () => (await text(row.locator('td.state'))) === '已转出');
  ok(`收件箱 as ${LABOR}: backlog 1, ${REFERRAL_ID} 已转出`);
  await shot('1-inbox');

  await row.getByRole('button', { name: '签收' }).click();
  await until('state 已签收 after 签收', async () =>
    (await text(page.locator(`tr[data-referral="${REFERRAL_ID}"] td.state`))) === '已签收');
  await until('the flash', async () => (await text(page.locator('#flash'))).includes('已签收'));
  // Received, it no longer offers 签收, only 受理.
  const buttons = await page.locator(`tr[data-referral="${REFERRAL_ID}"] button`).allTextContents();
  if (buttons.join(',') !== '受理') throw new Error(`buttons after 签收: ${buttons}`);
  ok('签收: the state changed to 已签收');
  await shot('2-received');

  // ----------------------------------------------------- the case page
  await page.locator(`tr[data-referral="${REFERRAL_ID}"] a`).click();
  await until('the case heading', async () => (await text(page.locator('main h2'))).includes(CASE_ID));
  const svg = page.locator('figure.timeline svg');
  await until('the timeline picture', async () => (await svg.count()) === 1);
  const svgText = await text(svg);
  for (const needle of ['劳动保障监察', '转出']) {
    if (!svgText.includes(needle)) throw new Error(`the timeline picture lacks "${needle}"`);
  }
  const lane = await page.locator('figure.timeline svg text', { hasText: '劳动保障监察' }).count();
  if (lane === 0) throw new Error('no <text> element names the 劳动保障监察 lane');
  const box = await svg.boundingBox();
  if (!box || box.width < 200 || box.height < 100) throw new Error(`the picture is not drawn: ${JSON.stringify(box)}`);
  const events = await page.locator('main table').last().locator('tbody tr').count();
  if (events < 3) throw new Error(`the event table has ${events} rows, want the open, the referral and the receipt`);
  const states = await page.locator('main table').first().locator('td.state').allTextContents();
  if (!states.includes('已签收')) throw new Error(`case referrals show ${states}`);
  ok(`案件详情: timeline <svg> with 劳动保障监察 and 转出 (${Math.round(box.width)}x${Math.round(box.height)}), ${events} events`);
  await shot('3-case');

  // ------------------------------------------------------------ meetings
  await page.locator('a', { hasText: '查看本案会议' }).click();
  if (process.env.HAS_MEDIATION === '1') {
    await until('no meetings yet', async () => (await text(page.locator('main'))).includes('本案还没有会议'));
    ok('会议: none yet');
  } else {
    await until('meetings unavailable', async () =>
      (await text(page.locator('main [role=alert]'))).includes('503'));
    ok('会议: 503 without the mediation service');
  }

  // ------------------------------------------------- cases, with search
  await page.locator('#nav a', { hasText: '案件' }).click();
  const caseRow = page.locator(`tr[data-case="${CASE_ID}"]`);
  await until('the case in 案件', async () => (await caseRow.count()) === 1 && caseRow.isVisible());
  const search = page.getByRole('searchbox');
  await search.fill('仲裁');  // matches nothing of this case
  await until('the row hidden', async () => !(await caseRow.isVisible()));
  await until('no-match note', async () => page.getByText('没有符合搜索条件的案件').isVisible());
  await search.fill('欠薪');
  await until('the row back', async () => caseRow.isVisible());
  await search.fill('labor-inspection');  // the node it was referred to
  await until('found by the addressee', async () => caseRow.isVisible());
  ok('案件: listed; the search box filters it');

  // ------------------------------------------------------------ dashboard
  await page.locator('#nav a', { hasText: '统计' }).click();
  await until('referrals-in 1', async () => (await text(page.getByTestId('referrals-in'))).trim() === '1');
  const out = (await text(page.getByTestId('referrals-out'))).trim();
  if (out !== '0') throw new Error(`referrals-out ${out}, want 0`);
  const overdue = (await text(page.getByTestId('overdue'))).trim();
  const wantOverdue = process.env.HAS_DEADLINES === '1' ? '0' : '未知';
  if (overdue !== wantOverdue) throw new Error(`overdue ${overdue}, want ${wantOverdue}`);
  ok(`统计: referrals in 1, out 0, overdue ${overdue}`);
  await shot('4-dashboard');

  // ------------------------------------------- the negative control
  // Housing is a node this console may act as, but not party to the case:
  // it must see the 403 and nothing of the case.
  await actAs(HOUSING);
  await page.goto(`${GATEWAY}#/case/${encodeURIComponent(CASE_ID)}`);
  await page.reload();  // the choice survives a reload (localStorage)
  await until('housing still chosen', async () => (await page.locator('#node-picker').inputValue()) === HOUSING);
  const alert = page.locator('main [role=alert]');
  await until('the 403 error', async () => (await text(alert)).includes('403'));
  const alertText = await text(alert);
  if (!alertText.includes('PERMISSION_DENIED') || !alertText.includes('NOT_A_PARTY')) {
    throw new Error(`the error does not say why: ${alertText}`);
  }
  const main = await text(page.locator('main'));
  if (main.includes('某住宅小区项目农民工欠薪') || (await page.locator('main svg').count()) > 0) {
    throw new Error('a node not party to the case was shown the case');
  }
  ok(`${HOUSING} on the case page: 403 NOT_A_PARTY, no case shown`);
  await shot('5-not-a-party');

  // English for those who want it: the same page, English words.
  await page.locator('#lang-toggle').click();
  await until('English navigation', async () => (await text(page.locator('#nav a').first())) === 'Inbox');
  await until('the error in English', async () =>
    (await text(page.locator('main [role=alert]'))).includes('is not party to case'));
  ok('English: navigation and the error message');

  // A node the console was not started for is refused outright.
  const refused = await page.evaluate(async () => {
    const r = await fetch('/api/v1/cases', { headers: { 'X-Referral-Node': 'qinzhou.union' } });
    return { status: r.status, body: await r.json() };
  });
  if (refused.status !== 403 || refused.body.error.reason !== 'NODE_NOT_SERVED') {
    throw new Error(`acting as a node not in --nodes: ${JSON.stringify(refused)}`);
  }
  ok('a node not in --nodes: 403 NODE_NOT_SERVED');

  if (consoleErrors.length > 0) {
    // Failed fetches the page shows as errors are expected (the 403s); a
    // script error is not.
    const scriptErrors = consoleErrors.filter((e) => !/status of (403|503)/.test(e));
    if (scriptErrors.length > 0) throw new Error(`script errors: ${scriptErrors.join('; ')}`);
  }
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  try {
    await shot('failure');
    writeFileSync(join(ARTIFACTS, 'failure.txt'), await page.locator('body').innerText());
    console.error(`page text:\n${await page.locator('body').innerText()}`);
    console.error(`screenshot: ${join(ARTIFACTS, 'failure.png')}`);
  } catch { /* the page is gone */ }
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log('console.spec: all checks passed');
