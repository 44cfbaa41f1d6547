// The web console in headless Chromium (Debian's /usr/bin/chromium, driven
// by npm's playwright-core): what a person at labour inspection's desk sees.
// Run by console_e2e.sh, which starts the services and seeds the case:
//   GATEWAY_URL  the console, e.g. http://127.0.0.1:8080/
//   CASE_ID      a case the justice bureau opened (project 玉泉花园二期,
//                worker 张三 with WORKER_ID) and referred ...
//   REFERRAL_ID  ... to qinzhou.labor-inspection (REQUESTED); the bureau
//                has 21 more cases of its own, none referred
//   WORKER_ID    张三's ID number
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
const WORKER_ID = env('WORKER_ID');
// As every list shows it: masked by the referral service.
const MASKED_ID = `${WORKER_ID.slice(0, 3)}${'*'.repeat(13)}${WORKER_ID.slice(-2)}`;
const ARTIFACTS = process.env.ARTIFACT_DIR || '.';
const JUSTICE = 'qinzhou.justice';
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
// Every URL the page asked for: an ID number must never be in one.
const requestedUrls = [];
page.on('request', (r) => requestedUrls.push(r.url()));

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
  await until('the case in 案件', async () => (await caseRow.count()) === 1);
  const form = page.locator('form.case-search');
  const nothingFound = page.getByTestId('no-cases');
  const isSearch = (r) => r.url().endsWith('/api/v1/cases:search') && r.request().method() === 'POST';
  // Starts again from one empty criterion, then sets the criteria `fill`
  // sets and presses 搜索; resolves once the service has answered.
  async function search(fill) {
    await Promise.all([
      page.waitForResponse((r) => isSearch(r) && r.request().postData() === '{}'),
      form.getByRole('button', { name: '清除条件' }).click(),
    ]);
    await fill(form.locator('.criterion'));
    const [response] = await Promise.all([
      page.waitForResponse(isSearch),
      form.getByRole('button', { name: '搜索', exact: true }).click(),
    ]);
    return response;
  }
  const pick = async (row, field) => row.getByTestId('search-field').selectOption(field);
  const typeIn = (field, value) => async (rows) => {
    await pick(rows.first(), field);
    await rows.first().locator('input[type=text]').fill(value);
  };
  const foundOnly = (what) => until(what, async () =>
    (await caseRow.count()) === 1 && (await page.locator('tr[data-case]').count()) === 1);
  const foundNothing = (what) => until(what, async () =>
    (await nothingFound.count()) === 1 && (await text(nothingFound)) === '没有符合搜索条件的案件。' &&
    (await page.locator('tr[data-case]').count()) === 0);

  await search(typeIn('project', '玉泉花园'));
  await foundOnly('found by project 玉泉花园');
  const workers = await text(caseRow.locator('td.workers'));
  if (!workers.includes(`张三 ${MASKED_ID}`) || workers.includes(WORKER_ID)) {
    throw new Error(`workers shown as "${workers}", want 张三 ${MASKED_ID} as the service masked it`);
  }
  ok(`案件 search by 项目: found, the worker shown masked (${MASKED_ID})`);

  await search(typeIn('project', '没有这个项目'));
  await foundNothing('没有符合搜索条件的案件 for an unknown project');
  ok('案件 search that finds nothing says 没有符合搜索条件的案件。');

  await search(typeIn('worker_name', '张'));
  await foundOnly('found by worker name 张');
  const byId = await search(typeIn('worker_id_number', WORKER_ID));
  if (!byId.request().postData().includes(WORKER_ID)) throw new Error('the ID number was not in the POST body');
  await foundOnly('found by ID number');
  if ((await text(page.locator('main'))).includes(WORKER_ID)) throw new Error('the page shows the ID number in clear');
  ok('案件 search by 工人姓名 and by 工人身份证号码 (in the POST body): found');

  // A mistyped ID number: the service's reason, in Chinese, on the page.
  await search(typeIn('worker_id_number', `${WORKER_ID.slice(0, 17)}${WORKER_ID.endsWith('1') ? '2' : '1'}`));
  const idError = page.locator('main [role=alert]');
  await until('the ID number error', async () => (await text(idError)).includes('校验位'));
  if (!(await text(idError)).includes('400')) throw new Error(`the error: ${await text(idError)}`);
  ok('a mistyped ID number: 400 with 身份证号码校验位不符');

  // Two criteria: the matter, and the day the case was opened (Asia/Shanghai).
  const opened = await page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/cases/${encodeURIComponent(id)}`,
      { headers: { 'X-Referral-Node': 'qinzhou.labor-inspection' } });
    return (await r.json()).case.create_time;
  }, CASE_ID);
  const shanghaiDay = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(ms));
  const day = shanghaiDay(Date.parse(opened));
  const dayAfter = shanghaiDay(Date.parse(opened) + 86_400_000);
  const byMatterAndDays = (from, to) => async (rows) => {
    await pick(rows.first(), 'matter');
    await rows.first().locator('select').nth(1).selectOption('MATTER_WAGE_ARREARS');
    await form.getByRole('button', { name: '添加条件' }).click();
    await pick(rows.nth(1), 'opened');
    await rows.nth(1).locator('input[type=date]').first().fill(from);
    await rows.nth(1).locator('input[type=date]').last().fill(to);
  };
  await search(byMatterAndDays(day, day));
  await foundOnly(`found by 欠薪 opened ${day} to ${day}`);
  await search(byMatterAndDays(dayAfter, dayAfter));
  await foundNothing(`nothing opened on ${dayAfter}`);
  ok(`案件 search by 事项 and 立案日期 ${day}–${day} (that day included): found; ${dayAfter}: nothing`);
  await shot('4-search');

  // ------------------------------------------------------------ dashboard
  await page.locator('#nav a', { hasText: '统计' }).click();
  await until('referrals-in 1', async () => (await text(page.getByTestId('referrals-in'))).trim() === '1');
  const out = (await text(page.getByTestId('referrals-out'))).trim();
  if (out !== '0') throw new Error(`referrals-out ${out}, want 0`);
  const overdue = (await text(page.getByTestId('overdue'))).trim();
  const wantOverdue = process.env.HAS_DEADLINES === '1' ? '0' : '未知';
  if (overdue !== wantOverdue) throw new Error(`overdue ${overdue}, want ${wantOverdue}`);
  ok(`统计: referrals in 1, out 0, overdue ${overdue}`);
  await shot('5-dashboard');

  // --------------------------------------------- pages of search results
  // The justice bureau has 22 cases: a page of 20, then one of 2.
  await actAs(JUSTICE);
  await page.locator('#nav a', { hasText: '案件' }).click();
  await search(async () => {});
  const rows = page.locator('tr[data-case]');
  const pageNumber = page.getByTestId('page-number');
  await until('page 1 of 20', async () => (await rows.count()) === 20 && (await text(pageNumber)) === '第 1 页');
  const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.case));
  await page.getByRole('button', { name: '下一页' }).click();
  await until('page 2 of 2', async () => (await rows.count()) === 2 && (await text(pageNumber)) === '第 2 页');
  const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.case));
  if (secondPage.some((id) => firstPage.includes(id))) throw new Error(`page 2 repeats page 1: ${secondPage}`);
  if (![...firstPage, ...secondPage].includes(CASE_ID)) throw new Error(`${CASE_ID} is on neither page`);
  if ((await page.getByRole('button', { name: '下一页' }).count()) !== 0) throw new Error('the last page offers 下一页');
  await page.getByRole('button', { name: '上一页' }).click();
  await until('back on page 1', async () => (await rows.count()) === 20 && (await text(pageNumber)) === '第 1 页');
  ok(`${JUSTICE} 案件: 第 1 页 20 cases, 下一页 第 2 页 the other 2, 上一页 back`);
  await shot('6-pages');

  const leaked = requestedUrls.filter((u) => u.includes(WORKER_ID));
  if (leaked.length > 0) throw new Error(`the ID number went into a URL: ${leaked}`);
  ok('no URL the page requested holds the ID number');

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
  await shot('7-not-a-party');

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
    // Failed fetches the page shows as errors are expected (the mistyped ID
    // number's 400, the 403s); a script error is not.
    const scriptErrors = consoleErrors.filter((e) => !/status of (400|403|503)/.test(e));
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
