// Browser tests of the web console: the real papr-server (cloud and open-source configs)
// driven through Debian's chromium with playwright-core. Run: node --test ui/tests/
// Env: PAPR_BIN_DIR (default build/bin of the repo), CHROMIUM (default /usr/bin/chromium),
// PAPR_TEST_POSTGRES_URL (the PostgreSQL stage, tools/test_postgres.sh: a superuser URL; every
// server then runs on a new database of its own there).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../tools/js/papr_server.mjs';

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(uiDir, 'tests', 'artifacts');
const KEY = 'console-test-key';
const WAIT = 20_000;

let context;
let profileDir;

async function launchBrowser() {
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papr-ui-profile-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(WAIT);
}

async function closeBrowser() {
  if (context) await context.close();
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
}

const pageErrors = [];
let currentPage = null;

/** it() that saves a screenshot of the page as FAILED-<name>.png when the case fails. */
function check(name, fn) {
  it(name, async () => {
    try {
      await fn();
    } catch (err) {
      if (currentPage) {
        const file = `FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`;
        fs.mkdirSync(artifacts, { recursive: true });
        await currentPage.screenshot({ path: path.join(artifacts, file), fullPage: true }).catch(() => {});
      }
      throw err;
    }
  });
}

async function newPage() {
  const page = await context.newPage();
  currentPage = page;
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of (401|404|413|422)/.test(msg.text())) {
      pageErrors.push(msg.text());
    }
  });
  return page;
}

/** Screenshots of the current page at 1280x800 and 375x800 in ui/tests/artifacts/. */
async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  for (const [width, height] of [[1280, 800], [375, 800]]) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => new Promise((r) => {
      window.scrollTo(0, 0);
      requestAnimationFrame(() => requestAnimationFrame(r));
    }));
    await page.screenshot({ path: path.join(artifacts, `${name}-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function enterKey(page, base) {
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/ui\/$/);
  await page.getByLabel('API key').fill(KEY);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Batches' }).waitFor();
}

function progress(page) {
  return page.getByRole('progressbar', { name: 'Batch progress' });
}

async function valueNow(page) {
  return Number(await progress(page).getAttribute('aria-valuenow'));
}

async function waitForStatus(page, status) {
  await page.locator(`#batch-status[data-status="${status}"]`).waitFor();
}

async function submitBatch(page, lines, { maxConcurrency } = {}) {
  await page.getByRole('link', { name: 'Submit', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Submit a batch' }).waitFor();
  const textarea = page.getByLabel('Memories', { exact: true });
  if (lines.length <= 1000) {
    await textarea.fill(lines.join('\n'));
  } else {
    // Like a paste: typing 600 KB through fill() takes chromium minutes.
    await textarea.evaluate((el, text) => {
      el.value = text;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, lines.join('\n'));
  }
  await page.locator('#memories-count', { hasText: `${lines.length.toLocaleString('en-US')} memories` }).waitFor();
  if (maxConcurrency) await page.getByLabel('Max concurrency (optional)').fill(String(maxConcurrency));
}

function memoryLines(n, word) {
  return Array.from({ length: n }, (_, i) => (i === Math.floor(n / 2)
    ? `Memory ${i}: the ${word} is the happiest marsupial on Rottnest Island`
    : `Memory ${i}: notes about batch processing, item number ${i}`));
}

describe('cloud console', () => {
  let server;
  let page;
  let firstBatch;
  let cancelledBatch;

  let receiver;
  const hooks = [];

  before(async () => {
    // The webhook target is on loopback: allow it in a copy of the cloud config.
    const allowPrivate = (text) => {
      const edited = text.replace(/allow_private_targets: false/, 'allow_private_targets: true');
      assert.notEqual(edited, text, 'cloud.yaml has webhooks.allow_private_targets');
      return edited;
    };
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        hooks.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    [server] = await Promise.all([startServer('cloud.yaml', { edit: allowPrivate, key: KEY }), launchBrowser()]);
    page = await newPage();
  });
  after(async () => {
    if (page) await page.close();
    if (server) await server.stop();
    if (receiver) await new Promise((r) => receiver.close(r));
  });

  check('asks for the key once and refuses a wrong one', async () => {
    await page.goto(`${server.url}/ui/`);
    const keyInput = page.getByLabel('API key');
    await keyInput.waitFor();
    await shot(page, 'key-form');
    await keyInput.fill('wrong-key');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#key-error', { hasText: 'does not know this key' }).waitFor();
    await enterKey(page, server.url);
    assert.equal(await page.locator('#edition').textContent(), 'Cloud edition');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('papr.apiKey')), KEY);
    // Reloading keeps the key (same tab).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Batches' }).waitFor();
    // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'New batch');
  });

  check('submits 300 memories and shows progress at 100% with results', async () => {
    await submitBatch(page, memoryLines(300, 'quokka'));
    assert.equal(await page.locator('#limit-banner').count(), 0, 'no banner under the limit');
    await page.getByLabel('Webhook URL (optional)')
      .fill(`http://127.0.0.1:${receiver.address().port}/hooks/papr`);
    await shot(page, 'submit');
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page.waitForURL(/#\/batch\//);
    firstBatch = decodeURIComponent(page.url().split('#/batch/')[1]);
    await waitForStatus(page, 'completed');
    await page.waitForFunction(() => document.querySelector('[role=progressbar][aria-label="Batch progress"]')
      ?.getAttribute('aria-valuenow') === '100');
    assert.equal(await valueNow(page), 100);
    assert.equal((await page.locator('#batch-status').textContent()).trim(), 'completed');
    await page.locator('.results-table tbody tr').nth(99).waitFor();
    assert.equal(await page.locator('.results-table tbody tr').count(), 100);
    await page.getByRole('button', { name: 'Load more results' }).click();
    await page.locator('.results-table tbody tr').nth(199).waitFor();
    await page.locator('#results-summary', { hasText: 'Showing 200 of 300 results' }).waitFor();
    // The webhook attempt shows up (the page follows the status until it is delivered).
    const delivery = page.locator('.deliveries-table tbody tr').first();
    await delivery.waitFor();
    assert.equal(await delivery.locator('td[data-label="Status code"]').textContent(), '204');
    assert.equal(hooks.length, 1);
    assert.equal(JSON.parse(hooks[0].body).data.batch_id, firstBatch);
    await shot(page, 'batch-completed');
  });

  check('opens the execution history and loads more pages', async () => {
    await page.getByRole('link', { name: 'Execution history' }).click();
    await page.getByRole('heading', { level: 1, name: 'Execution history' }).waitFor();
    const first = page.locator('#timeline > li').first();
    await first.waitFor();
    assert.equal(await first.getAttribute('data-type'), 'WorkflowExecutionStarted');
    assert.equal(await page.locator('#timeline > li').count(), 200);
    // Payloads read as fields: the batch header, a memory's index and result, the options.
    const input = first.locator('.payload[data-field="payload"]');
    assert.equal(await input.locator('.payload-label').textContent(), 'Input');
    assert.equal(await input.locator('.payload-row[data-key="total"] dd').textContent(), '300');
    assert.equal(await input.locator('.payload-row[data-key="webhook_url"] dd').textContent(),
      `http://127.0.0.1:${receiver.address().port}/hooks/papr`);
    const scheduled = page.locator('#timeline > li[data-type="ActivityTaskScheduled"]').first();
    assert.equal(await scheduled.locator('.tag').textContent(), 'activity 0 · process_memory');
    assert.equal(await scheduled.locator('.payload-row[data-key="memory_index"] dd').textContent(), '0');
    assert.equal(await scheduled.locator('.payload[data-field="options"] .payload-row[data-key="maximum_attempts"] dd')
      .textContent(), '5');
    await page.locator('#history-summary', { hasText: /^Showing 200 of [\d,]+ events\.$/ }).waitFor();
    await shot(page, 'history');
    await page.getByRole('button', { name: /^Load more/ }).click();
    await page.locator('#timeline > li').nth(399).waitFor();
    assert.equal(await page.locator('#timeline > li').count(), 400);
    await page.locator('#history-summary', { hasText: /^Showing 400 of/ }).waitFor();
    // Keyboard: the button keeps focus for the next page.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'history-more');
    await page.keyboard.press('Enter');
    await page.locator('#timeline > li').nth(599).waitFor();
    assert.equal(await page.locator('#timeline > li').count(), 600);
    // The memories' outcomes (after the 300 scheduling events): activity 0 is named on its
    // ActivityTaskStarted event too, and a result reads as its fields.
    const started = page.locator('#timeline > li[data-type="ActivityTaskStarted"]', { hasText: 'activity 0 ·' });
    assert.equal(await started.count(), 1, 'activity 0 is named on its ActivityTaskStarted event');
    const completed = page.locator('#timeline > li[data-type="ActivityTaskCompleted"]').first();
    assert.match(await completed.locator('.payload-row[data-key="created_at"] dd').textContent(), /^\d{4}-\d\d-\d\dT/);
    assert.equal(await completed.locator('.payload-label').textContent(), 'Result');
  });

  check('follows a big slow batch live and cancels it', async () => {
    await submitBatch(page, memoryLines(10_000, 'wombat'), { maxConcurrency: 1 });
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page.waitForURL(/#\/batch\//);
    cancelledBatch = decodeURIComponent(page.url().split('#/batch/')[1]);
    await waitForStatus(page, 'processing');
    // Progress moves without reloading (Server-Sent Events).
    await page.waitForFunction(() => Number(document.querySelector(
      '[role=progressbar][aria-label="Batch progress"]')?.getAttribute('aria-valuenow')) >= 1);
    const seen = await page.locator('.stat-ok dd').textContent();
    await page.waitForFunction((before) => document.querySelector('.stat-ok dd')?.textContent !== before, seen);
    await shot(page, 'batch-running');
    const cancel = page.getByRole('button', { name: 'Cancel batch' });
    assert.equal(await cancel.isEnabled(), true);
    await cancel.click();
    await waitForStatus(page, 'cancelled');
    assert.equal((await page.locator('#batch-status').textContent()).trim(), 'cancelled');
    assert.ok((await valueNow(page)) < 100, 'a cancelled batch did not process everything');
    assert.equal(await cancel.isDisabled(), true);
    const canceled = Number((await page.locator('.stat-canceled dd').textContent()).replace(/,/g, ''));
    assert.ok(canceled > 0, `canceled count ${canceled}`);
    await shot(page, 'batch-cancelled');
  });

  check('lists batches newest first, pages with More, filters by status', async () => {
    await page.goto(`${server.url}/ui/#/batches?limit=1`);
    const rows = page.locator('.batches-table tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-batch-id'), cancelledBatch);
    const more = page.getByRole('button', { name: 'More', exact: true });
    await more.click();
    await rows.nth(1).waitFor();
    assert.equal(await rows.nth(1).getAttribute('data-batch-id'), firstBatch);
    // The cloud list may hand out a cursor on a full last page: one more click ends the list.
    for (let i = 0; i < 3 && await more.isVisible(); i += 1) {
      await more.click();
      await page.waitForFunction(() => !document.querySelector('#batches-more')?.disabled);
    }
    assert.equal(await more.isHidden(), true);
    assert.equal(await rows.count(), 2);
    assert.equal(await rows.nth(1).getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    await page.goto(`${server.url}/ui/#/batches`);
    await rows.nth(1).waitFor();
    await shot(page, 'batches');
    await page.getByLabel('Status').selectOption('completed');
    await page.waitForURL(/status=completed/);
    await page.locator('#batches-summary', { hasText: 'with status completed' }).waitFor();
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-batch-id'), firstBatch);
  });

  check('shows a batch submitted elsewhere in the list without a reload', async () => {
    await page.getByRole('link', { name: 'Batches', exact: true }).click();
    await page.locator(`tr[data-batch-id="${firstBatch}"]`).waitFor();
    const rowsBefore = await page.locator('.batches-table tbody tr').count();
    const submitted = await fetch(`${server.url}/v1/memory/batch`, {
      method: 'POST',
      headers: { 'X-API-Key': KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({ memories: [{ content: 'numbat from another client' }] }),
    }).then((r) => r.json());
    const row = page.locator(`tr[data-batch-id="${submitted.batch_id}"]`);
    await row.waitFor();  // no reload, no click
    assert.equal(await page.locator('.batches-table tbody tr').count(), rowsBefore + 1);
    assert.equal(await page.locator('.batches-table tbody tr').first().getAttribute('data-batch-id'),
      submitted.batch_id, 'the newest batch is on top');
  });

  check('search finds a memory', async () => {
    await page.getByRole('link', { name: 'Search', exact: true }).click();
    await page.getByLabel('Search memories').fill('quokka marsupial');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const first = page.locator('#search-results > li').first();
    await first.waitFor();
    assert.match(await first.locator('.memory-content').textContent(), /quokka is the happiest marsupial/);
    await page.locator('#search-status', { hasText: 'found for' }).waitFor();
    await shot(page, 'search');
    assert.deepEqual(pageErrors, []);
  });
});

describe('console of a key on a plan', () => {
  let server;
  let page;

  before(async () => {
    const withPlans = (text) => {
      const edited = text.replace('auth:\n  api_keys: []',
        'plans:\n  - {name: starter, max_batch_size: 5}\n  - {name: business, max_batch_size: 20}\n' +
        'auth:\n  default_plan: starter\n  api_keys: []');
      assert.notEqual(edited, text, 'cloud.yaml has an empty auth.api_keys');
      return edited;
    };
    server = await startServer('cloud.yaml', { edit: withPlans, key: KEY });
    if (!context) await launchBrowser();
    page = await newPage();
  });
  after(async () => {
    if (page) await page.close();
    if (server) await server.stop();
  });

  check('shows the caller\'s plan and, past its limit, the next plan up', async () => {
    const memories = Array.from({ length: 6 }, (_, i) => ({ content: `zqplanui ${i}` }));
    const refused = await fetch(`${server.url}/v1/memory/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': KEY },
      body: JSON.stringify({ memories }),
    });
    assert.equal(refused.status, 413);
    await enterKey(page, server.url);
    assert.equal(await page.locator('#edition').textContent(), 'Cloud edition · plan starter');
    const usageBanner = page.locator('#usage-banner');
    await usageBanner.waitFor();
    assert.match(await usageBanner.textContent(), /Plan starter takes batches of up to 5 memories; plan business takes up to 20/);
    await shot(page, 'plan-banner');
  });
});

describe('open-source console', () => {
  let server;
  let page;

  before(async () => {
    server = await startServer('opensource.yaml', { key: KEY });
    if (!context) await launchBrowser();
    page = await newPage();
  });
  after(async () => {
    if (page) await page.close();
    if (server) await server.stop();
    await closeBrowser();
  });

  check('shows the Upgrade to Cloud banner over 50 memories and after a 413', async () => {
    await enterKey(page, server.url);
    assert.equal(await page.locator('#edition').textContent(), 'Open-source edition');
    assert.equal(await page.locator('#usage-banner').count(), 0, 'no banner before any refusal');
    await submitBatch(page, memoryLines(50, 'bilby'));
    assert.equal(await page.locator('#limit-banner').count(), 0);
    await page.getByLabel('Memories', { exact: true }).fill(memoryLines(51, 'bilby').join('\n'));
    const banner = page.locator('#limit-banner');
    await banner.waitFor();
    assert.equal(await banner.getByRole('heading').textContent(), 'Upgrade to Cloud');
    assert.equal(await banner.getByRole('link', { name: /Upgrade to Cloud/ }).getAttribute('href'), 'https://papr.ai/cloud');
    await shot(page, 'oss-submit-over-limit');

    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page.locator('#submit-messages', { hasText: 'Batch size (51) exceeds limit (50)' }).waitFor();
    const alert = page.locator('#limit-banner[role=alert]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /open-source limit of 50 memories/);
    assert.equal(await alert.getByRole('link', { name: /Upgrade to Cloud/ }).getAttribute('href'), 'https://papr.ai/cloud');
    const benefits = alert.getByRole('list', { name: 'Cloud benefits' }).getByRole('listitem');
    assert.equal(await benefits.count(), 4);
    assert.match(await benefits.first().textContent(), /10,000 memories/);
    assert.match(page.url(), /#\/submit$/, 'a refused batch stays on the form');
    await shot(page, 'oss-submit-413');

    // /v1/usage now says exceeds_limits: the banner shows on the other pages too.
    await page.getByRole('link', { name: 'Batches', exact: true }).click();
    const usageBanner = page.locator('#usage-banner');
    await usageBanner.waitFor();
    assert.equal(await usageBanner.getByRole('link', { name: /Upgrade to Cloud/ }).getAttribute('href'), 'https://papr.ai/cloud');
    assert.equal(await usageBanner.getByRole('listitem').count(), 4);
    await shot(page, 'oss-batches-banner');
  });

  check('lists every invalid memory with its index', async () => {
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.getByLabel('Memories', { exact: true })
      .fill('["fine", {"content": ""}, {"content": "ok", "type": "movie"}]');
    await page.locator('#memories-count', { hasText: '3 memories' }).waitFor();
    await page.getByRole('button', { name: 'Submit batch' }).click();
    const alert = page.locator('#submit-messages [role=alert]');
    await alert.waitFor();
    const items = await alert.locator('li').allTextContents();
    assert.equal(items.length, 2, items.join(' | '));
    assert.match(items[0], /^#1 /);
    assert.match(items[1], /^#2 /);
  });

  check('runs a small batch and says histories are a cloud feature', async () => {
    await submitBatch(page, memoryLines(3, 'numbat'));
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page.waitForURL(/#\/batch\//);
    const id = decodeURIComponent(page.url().split('#/batch/')[1]);
    await waitForStatus(page, 'completed');
    assert.equal(await valueNow(page), 100);
    assert.equal(await page.locator('#history-link').isHidden(), true);
    await page.goto(`${server.url}/ui/#/history/${encodeURIComponent(id)}`);
    await page.locator('#history-unavailable', { hasText: 'available in the cloud edition' }).waitFor();
    await shot(page, 'oss-history');
    assert.deepEqual(pageErrors, []);
  });
});
