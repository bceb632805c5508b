/**
 * The status page's Directory sync card in a real headless Chromium, for a bridge syncing the fake Google
 * Workspace: the last run's outcome, counts and errors, with no Content-Security-Policy violation. Without
 * Chromium the suite is skipped locally, and fails in CI (as the status page suite does).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { type TestBridge, startBridge } from '../support/bridge';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google';

const EXECUTABLE = process.env.SCIM_TEST_CHROMIUM || '/usr/bin/chromium';
const AVAILABLE = existsSync(EXECUTABLE);
declare const document: any;

if (process.env.CI && !AVAILABLE) {
  test('Chromium is installed for the sync card test', () => {
    throw new Error(`no Chromium at ${EXECUTABLE}`);
  });
}

(AVAILABLE ? describe : describe.skip)('the Directory sync card on the status page', () => {
  let google: FakeGoogle;
  let bridge: TestBridge;
  let browser: Browser;
  beforeAll(async () => {
    google = await startFakeGoogle();
    google.addGroup('staff@example.com', 'Staff');
    google.addGroup('admins@example.com', 'Administrators');
    for (const name of ['ada.lovelace', 'bob.byte']) {
      google.addUser(name);
      google.addMember('staff@example.com', `${name}@example.com`);
    }
    bridge = await startBridge({ env: google.env(['staff@example.com', 'admins@example.com'], { SCIM_GOOGLE_SYNC_INTERVAL_SECONDS: '3600' }) });
    browser = await chromium.launch({
      executablePath: EXECUTABLE,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
    await google?.close();
  });

  it('shows when the last sync ran, what it changed and what it refused', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${bridge.url}/`);
    await page.getByLabel('Bearer token').fill(bridge.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sync-card').waitFor({ state: 'visible' });
    // The first sync runs at start; the page refreshes when asked.
    for (let i = 0; i < 100 && (await page.locator('#y-outcome').innerText()) === '–'; i++) {
      await page.waitForTimeout(100);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    expect(await page.locator('#y-source').innerText()).toBe('Google Workspace');
    expect(await page.locator('#y-state').innerText()).toBe('waiting (this replica)');
    expect(await page.locator('#y-outcome').innerText()).toBe('partial');
    expect(await page.locator('#y-changes').innerText()).toBe('2 created, 0 updated, 0 suspended, 0 reactivated; 2 members added, 0 removed');
    expect(await page.locator('#y-errors').innerText()).toBe('1');
    expect(await page.locator('#y-error-list li').allInnerTexts()).toEqual([expect.stringContaining('"Administrators" is a protected group')]);
    expect(await page.evaluate(() => document.getElementById('c-active').textContent)).toBe('2');
    expect(problems).toEqual([]);
  });
});
