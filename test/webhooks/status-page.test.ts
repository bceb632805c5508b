/**
 * The status page's Webhooks table in a real headless Chromium: an endpoint whose receiver fails shows its state,
 * lag, last status and failures, with no Content-Security-Policy violation. Without Chromium the suite is skipped
 * locally, and fails in CI (as the status page suite does).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { generateSecret } from '../../bridge/src/feed/signing';
import { type TestBridge, startBridge } from '../support/bridge';
import { type Receiver, startReceiver } from './receiver';

const EXECUTABLE = process.env.SCIM_TEST_CHROMIUM || '/usr/bin/chromium';
const AVAILABLE = existsSync(EXECUTABLE);

if (process.env.CI && !AVAILABLE) {
  test('Chromium is installed for the webhooks table test', () => {
    throw new Error(`no Chromium at ${EXECUTABLE}`);
  });
}

(AVAILABLE ? describe : describe.skip)('the Webhooks table on the status page', () => {
  let receiver: Receiver;
  let bridge: TestBridge;
  let browser: Browser;
  beforeAll(async () => {
    const secret = generateSecret();
    receiver = await startReceiver(secret);
    receiver.answer = () => ({ status: 500, body: 'database is read-only' });
    bridge = await startBridge({
      env: {
        SCIM_WEBHOOKS: JSON.stringify([{ name: 'crm', url: receiver.url, events: ['user.*'] }]),
        SCIM_WEBHOOK_SECRETS: JSON.stringify({ crm: secret }),
        SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true',
      },
    });
    browser = await chromium.launch({
      executablePath: EXECUTABLE,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
    await receiver?.close();
  });

  it('shows the failing endpoint: state, lag, last status and failures', async () => {
    const created = await bridge.request('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'page@example.com' });
    expect(created.status).toBe(201);
    await receiver.until(() => receiver.deliveries.length >= 1);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${bridge.url}/`);
    await page.getByLabel('Bearer token').fill(bridge.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#webhooks-section').waitFor({ state: 'visible' });
    let cells: string[] = [];
    for (let i = 0; i < 100; i++) {
      cells = await page.locator('#webhooks tbody tr').first().locator('td').allInnerTexts();
      if (cells[6] === '1') break;
      await page.waitForTimeout(100);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    expect(cells[0]).toBe(`crm · ${receiver.url}`);
    // A date in the browser's locale.
    expect(cells[1]).toMatch(/^retrying \(next try [^()]*\d\d[^()]*\)$/);
    expect(cells[2]).toMatch(/^1 change, [\d.]+ s$/);
    expect(cells[3]).toBe('not yet');
    expect(cells[4]).toBe('500: answered 500: database is read-only');
    expect(cells.slice(5)).toEqual(['0', '1', 'none']);
    if (process.env.SCIM_TEST_SCREENSHOTS) await page.screenshot({ path: process.env.SCIM_TEST_SCREENSHOTS, fullPage: true });
    expect(problems).toEqual([]);
  });
});
