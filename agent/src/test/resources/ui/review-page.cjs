// Drives the review page in headless Chromium (playwright-core, Debian's /usr/bin/chromium).
// Run by ReviewPageTest; inputs in the environment, one JSON result object on stdout.
'use strict';
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const base = process.env.DW_BASE;
const token = process.env.DW_TOKEN;
const hostileKey = process.env.DW_HOSTILE_KEY;
const xssFile = process.env.DW_XSS_FILE;
const screenshot = process.env.DW_SCREENSHOT;
const userDataDir = process.env.DW_USER_DATA_DIR;
const STEP_MS = 15000;

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

(async () => {
  const result = { dialogs: [], blocked: [], consoleErrors: [] };
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
    timeout: STEP_MS,
  });
  try {
    // loopback only: anything else is recorded and aborted (the page must work offline)
    await context.route('**/*', route => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1') return route.continue();
      result.blocked.push(route.request().url());
      return route.abort();
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('dialog', async d => {
      result.dialogs.push({ type: d.type(), message: d.message() });
      if (d.type() === 'confirm') await d.accept(); else await d.dismiss();
    });
    page.on('console', m => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
    page.on('pageerror', e => result.consoleErrors.push('pageerror: ' + e.message));

    // 1. the agent wants a token: the page asks for it
    await page.goto(base + '/');
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    await page.fill('#token-input', token);
    await page.click('#token-save');
    await page.locator('#profiles tbody tr').first().waitFor();
    result.tokenInSession = await page.evaluate(() => sessionStorage.getItem('driftwatch.token'));
    result.localStorageKeys = await page.evaluate(() => Object.keys(localStorage));

    // 2. the table
    result.rows = await page.$$eval('#profiles tbody tr', trs => trs.map(tr =>
      Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim())));

    // 3. one profile: proposals, approve the first
    await page.click('#profiles tbody tr[data-key="cache/redis/redis"] a');
    await page.locator('#proposals tbody tr').first().waitFor();
    result.sections = await page.$$eval('section[data-dimension] h3', hs => hs.map(h => h.textContent));
    result.evidence = await page.$$eval('section[data-dimension="file_read"] .evidence', es => es.map(e => e.textContent));
    const before = await page.locator('#proposals tbody tr').count();
    const first = page.locator('#proposals tbody tr').first();
    result.approved = { dimension: await first.getAttribute('data-dimension'), value: await first.getAttribute('data-value') };
    await first.locator('button.approve').click();
    await page.waitForFunction(n => document.querySelectorAll('#proposals tbody tr').length === n - 1, before);
    result.proposalsBefore = before;
    result.proposalsAfter = await page.locator('#proposals tbody tr').count();
    result.statusAfterApprove = await page.textContent('#status');

    // 4. mode switch with confirmation
    await page.selectOption('#mode-select', 'enforce');
    await page.click('#mode-apply');
    await page.waitForFunction(() => (document.getElementById('status').textContent || '').includes('set to enforce'));
    result.modeShown = await page.textContent('.summary .badge');
    result.strayText = await page.evaluate(() => Array.from(document.getElementById('view').childNodes)
      .filter(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '').map(n => n.textContent));
    await page.screenshot({ path: screenshot, fullPage: false });

    // 5. hostile values render as text
    await page.goto(base + '/#/p/' + encodeURIComponent(hostileKey));
    await page.waitForFunction(k => {
      const e = document.getElementById('profile-key');
      return e && e.textContent === k && document.querySelector('section[data-dimension="file_read"] table tbody tr');
    }, hostileKey);
    result.hostileKeyShown = await page.textContent('#profile-key');
    result.hostileValues = await page.$$eval('section[data-dimension="file_read"] td .value', vs => vs.map(v => v.textContent));
    result.hostileProposalValues = await page.$$eval('#proposals td .value', vs => vs.map(v => v.textContent));
    result.injected = await page.evaluate(() => ({
      img: document.querySelectorAll('#view img').length,
      svg: document.querySelectorAll('#view svg').length,
      iframe: document.querySelectorAll('iframe').length,
      b: document.querySelectorAll('#view b').length,
      scripts: document.querySelectorAll('script').length,
    }));
    await page.waitForTimeout(300); // give an injected handler the chance to fire (it must not)
    result.ok = true;
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
})().catch(e => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e) }) + '\n');
  process.exit(1);
});
