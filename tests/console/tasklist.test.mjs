// The Tern Console end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// puppeteer-core; nothing downloaded): a real tern-broker serves the console's files next to
// /v2; a native user task is claimed and completed on the Tasklist page, and the API shows the
// process moved on (its next job carries the variables typed into the page). The cluster and
// processes pages render; a claim refused by the API shows the problem's detail. Screenshots
// go to TERN_TEST_ARTIFACTS (the build tree's test-artifacts/console).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { fileURLToPath } from 'node:url';
import { Broker, root, sleep } from '../compat/lib/broker.mjs';

const consoleDir = process.env.TERN_CONSOLE_DIR ?? path.join(root, 'build-asan/share/tern/console');
const chromium = process.env.TERN_CHROMIUM ?? '/usr/bin/chromium';
const artifacts = process.env.TERN_TEST_ARTIFACTS ?? path.join(root, 'build-asan/test-artifacts/console');
const clerk = 'e2e-clerk';
const bpmn = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bpmn/review-order.bpmn');

describe('console', () => {
  let broker;
  let browser;
  let page;
  const pageErrors = [];

  const api = async (p, { method = 'GET', body } = {}) => {
    const init = { method };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${broker.restUrl}/v2${p}`, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  const screenshot = (name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    broker = await new Broker({ args: ['--console-dir', consoleDir] }).start();
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      // Root in a container has no user namespaces for Chromium's sandbox.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900'],
      defaultViewport: { width: 1280, height: 900 },
    });
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.evaluateOnNewDocument((user) => localStorage.setItem('tern.console.user', user), clerk);
  });

  after(async () => {
    await browser?.close();
    await broker?.cleanup();
  });

  test('the gateway serves the console next to /v2', async () => {
    const index = await fetch(`${broker.restUrl}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${broker.restUrl}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type'), /^text\/javascript/);
    assert.match(asset.headers.get('cache-control'), /max-age=31536000, immutable/);
    // Client routes get index.html; missing assets and ways out of the directory do not.
    assert.equal(await (await fetch(`${broker.restUrl}/tasklist/123`)).text(), html);
    assert.equal((await fetch(`${broker.restUrl}/assets/missing-chunk.js`)).status, 404);
    // (fetch normalises dot segments, encoded ones too: this asks for /etc/passwd, a client
    // route; raw targets are tested in gateway_static_files_test.)
    const outside = await fetch(`${broker.restUrl}/%2e%2e/%2e%2e/etc/passwd`);
    assert.equal(await outside.text(), html);
    assert.equal((await fetch(`${broker.restUrl}/assets/%2e%2e/%2e%2e/etc/hostname.txt`)).status, 404);
    assert.equal((await fetch(`${broker.restUrl}/`, { method: 'POST' })).status, 405);
    const head = await fetch(`${broker.restUrl}${script}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), asset.headers.get('content-length'));
    // /v2 is the API's, as before.
    assert.equal((await api('/topology')).status, 200);
    assert.equal((await api('/no-such-endpoint')).status, 501);
  });

  test('a native user task is claimed and completed in the Tasklist; the process moves on', async () => {
    const form = new FormData();
    form.append('resources', new Blob([readFileSync(bpmn)]), 'review-order.bpmn');
    const deployed = await fetch(`${broker.restUrl}/v2/deployments`, { method: 'POST', body: form });
    assert.equal(deployed.status, 200);
    const created = await api('/process-instances', {
      method: 'POST', body: { processDefinitionId: 'review-order', variables: { orderId: 'A-17' } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const { processInstanceKey } = created.body;
    let task;
    for (const deadline = Date.now() + 20_000; !task && Date.now() < deadline;) {
      const found = await api('/user-tasks/search', { method: 'POST', body: { filter: { processInstanceKey } } });
      [task] = found.body.items;
      if (!task) await sleep(50);
    }
    assert.ok(task, 'no user task was created');
    const { userTaskKey } = task;

    // The list shows the open task; / leads to the Tasklist.
    await page.goto(`${broker.restUrl}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => location.pathname === '/tasklist');
    const item = `a[href="/tasklist/${userTaskKey}"]`;
    await page.waitForSelector(item);
    await page.click(item);
    await page.waitForFunction((key) => location.pathname === `/tasklist/${key}`, {}, userTaskKey);
    await page.waitForSelector('[data-testid=claim]');
    assert.equal(await text('[data-testid=task-assignee]'), 'unassigned');

    // Someone else claims it first: the page shows the API's problem as a readable message.
    assert.equal((await api(`/user-tasks/${userTaskKey}/assignment`, {
      method: 'POST', body: { assignee: 'someone-else' },
    })).status, 204);
    await page.click('[data-testid=claim]');
    await page.waitForSelector('[data-testid=error]');
    assert.match(await text('[data-testid=error]'), /INVALID_STATE: .*Expected to claim user task .* already been assigned/);
    await screenshot('tasklist-claim-refused.png');
    assert.equal((await api(`/user-tasks/${userTaskKey}/assignee`, { method: 'DELETE' })).status, 204);

    // Claim, fill the variables form (the form endpoint answers 501, so the page says so and
    // offers variables), complete.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid=claim]');
    await page.click('[data-testid=claim]');
    await page.waitForFunction(
      (user) => document.querySelector('[data-testid=task-assignee]')?.textContent === user, {}, clerk);
    assert.equal((await api(`/user-tasks/${userTaskKey}`)).body.assignee, clerk);
    await page.waitForSelector('[data-testid=variables-form] button:not([disabled])');
    await page.type('[data-testid=variable-name-0]', 'decision');
    await page.type('[data-testid=variable-value-0]', 'approved');
    await page.type('[data-testid=variable-name-1]', 'amount');
    await page.type('[data-testid=variable-value-1]', '42');
    await screenshot('tasklist-form.png');
    await page.click('[data-testid=complete]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=action-done]')?.textContent === 'Task completed.');
    await page.waitForFunction(() => document.querySelector('[data-testid=task-state]')?.textContent === 'COMPLETED');
    // The task left the open list.
    await page.waitForFunction((sel) => !document.querySelector(sel), {}, item);
    await screenshot('tasklist-completed.png');

    // Through the API: the task is completed and the instance went on to its next job, which
    // carries the variables typed into the page.
    assert.equal((await api(`/user-tasks/${userTaskKey}`)).body.state, 'COMPLETED');
    const activated = await api('/jobs/activation', {
      method: 'POST',
      body: { type: 'archive-order', maxJobsToActivate: 1, timeout: 30_000, worker: 'e2e', requestTimeout: 10_000 },
    });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    const [job] = activated.body.jobs;
    assert.ok(job, 'the instance did not move on to its next job');
    assert.equal(job.processInstanceKey, processInstanceKey);
    assert.equal(job.variables.decision, 'approved');
    assert.equal(job.variables.amount, 42);
    assert.equal(job.variables.orderId, 'A-17');
    assert.equal((await api(`/jobs/${job.jobKey}/completion`, { method: 'POST', body: {} })).status, 204);
  });

  test('the cluster page shows brokers, partitions and leaders', async () => {
    await page.goto(`${broker.restUrl}/cluster`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-testid=partitions] tbody tr');
    const row = await page.$eval('[data-testid=partitions] tbody tr', (tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent));
    assert.deepEqual(row, ['1', '0', '-', 'healthy']);
    assert.match(await text('[data-testid=brokers] tbody'), /127\.0\.0\.1:\d+/);
    await screenshot('cluster.png');
  });

  test('the processes page lists definitions, or says why it cannot', async () => {
    await page.goto(`${broker.restUrl}/processes`, { waitUntil: 'domcontentloaded' });
    // The history search API may not be served yet (501): the page then says so instead.
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=processes] table') ||
      document.querySelector('[data-testid=processes] [role=alert]'));
    const notice = await page.$('[data-testid=processes] [role=alert]');
    if (notice) {
      assert.match(await text('[data-testid=processes] [role=alert]'), /Process definitions/);
    } else {
      // The diagram of the process, drawn by bpmn-js under the console's Content-Security-Policy.
      await page.waitForFunction(() => document.body.textContent.includes('review-order'), { timeout: 30_000 });
      await page.click('[data-testid=processes] a[href^="/processes/"]');
      await page.waitForSelector('[data-testid=diagram] [data-element-id=review]');
    }
    await screenshot('processes.png');
    assert.deepEqual(pageErrors, []);
  });

  async function text(selector) {
    return page.$eval(selector, (element) => element.textContent);
  }
});
