/**
 * The status page in a real headless Chromium (Debian's chromium, driven by playwright-core): sign in with a
 * bad and a good token, see the counts and events of a provisioning run, page and filter the events, sign
 * out, with no Content-Security-Policy violation. Leaves a screenshot in test-output/status-page.png.
 * Without Chromium the suite is skipped locally, and fails in CI.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type TestBridge, startBridge } from '../support/bridge';
import { userBody } from './helpers';

const EXECUTABLE = process.env.SCIM_TEST_CHROMIUM || '/usr/bin/chromium';
const AVAILABLE = existsSync(EXECUTABLE);
const OUTPUT = join(__dirname, '..', '..', 'test-output');
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const OKTA = { 'user-agent': 'Okta SCIM Client 1.0.0' };
const ENTRA = { 'user-agent': 'Microsoft.AAD.Provisioning/1.0' };
// Functions passed to the page run in the browser; this project's TypeScript has no DOM types. (Strings would
// be evaluated with eval in the page, which the page's CSP rightly refuses.)
declare const document: any;
declare const sessionStorage: any;

if (process.env.CI && !AVAILABLE) {
  test('Chromium is installed for the status page test', () => {
    throw new Error(`no Chromium at ${EXECUTABLE}: install Debian's chromium package or set SCIM_TEST_CHROMIUM`);
  });
}

(AVAILABLE ? describe : describe.skip)('status page in headless Chromium', () => {
  let bridge: TestBridge;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  /** A realistic run: two identity providers, 24 users, a suspension, groups, and refusals. */
  async function provision(): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await bridge.request('POST', '/Users', userBody(`person${String(i).padStart(2, '0')}@example.com`), OKTA);
      ids.push(res.body.id);
    }
    await bridge.request('PATCH', `/Users/${ids[3]}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }, OKTA);
    await bridge.request(
      'POST',
      '/Groups',
      { schemas: [GROUP_SCHEMA], displayName: 'Engineering', members: ids.slice(0, 8).map((value) => ({ value })) },
      OKTA,
    );
    await bridge.request('POST', '/Users', userBody('person01@example.com'), OKTA); // 409: already exists
    await bridge.request('POST', '/Users', userBody('ada@example.com'), ENTRA);
    await bridge.request('POST', '/Users', userBody('grace@example.com'), ENTRA);
    await bridge.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Design' }, ENTRA);
    const owners = await bridge.request('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Owners"')}`, undefined, ENTRA);
    // 403: a protected group is never changed over SCIM.
    await bridge.request(
      'PATCH',
      `/Groups/${owners.body.Resources[0].id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: ids[0] }] }] },
      ENTRA,
    );
    await bridge.request('GET', '/Users', undefined, { 'user-agent': 'curl/8.5.0', authorization: 'Bearer scimb_a-guess' }); // auth.rejected
  }

  const texts = (selector: string) => page.locator(selector).allInnerTexts();

  beforeAll(async () => {
    bridge = await startBridge();
    await provision();
    browser = await chromium.launch({
      executablePath: EXECUTABLE,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (message) => {
      // Chromium logs every non-2xx fetch; the 401 of the bad token is expected.
      if (/Failed to load resource: the server responded with a status of 401/.test(message.text())) return;
      if (message.type() === 'error' || /content security policy/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    });
  });
  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
  });

  it('refuses a bad token with a clear message', async () => {
    await page.goto(`${bridge.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Bearer token').fill('scimb_this-is-not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('#signin-error');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.innerText()).toContain('did not accept that token');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
  });

  it('signs in with the good token from the keyboard and shows health, counts and identity providers', async () => {
    await page.getByLabel('Bearer token').focus();
    await page.keyboard.type(bridge.token);
    await page.keyboard.press('Enter');
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.getElementById('c-active').textContent === '23');
    expect(await page.locator('#s-status').innerText()).toBe('Healthy');
    expect(await page.locator('#s-store').innerText()).toMatch(/^sqlite · reachable/);
    expect(await page.locator('#c-suspended').innerText()).toBe('1');
    expect(await page.locator('#c-managed').innerText()).toBe('2');
    expect(Number(await page.locator('#c-protected').innerText())).toBeGreaterThan(0);
    expect(Number(await page.locator('#r-requests').innerText())).toBeGreaterThanOrEqual(30);
    const clients = await texts('#clients tbody tr td:first-child');
    expect(clients).toEqual(expect.arrayContaining(['Okta SCIM Client 1.0.0', 'Microsoft.AAD.Provisioning/1.0']));
    // The token is in this tab's session storage only: not in the URL, not in a cookie.
    expect(page.url()).not.toContain(bridge.token);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([bridge.token]);
  });

  it('shows the provisioning events newest first, twenty to a page, with paging', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 20);
    const actions = await texts('#events tbody tr td:nth-child(3)');
    expect(actions[0]).toMatch(/^auth\.rejected/);
    expect(actions.some((a) => a.startsWith('group.members.add') || a.startsWith('group.patch'))).toBe(true);
    const firstPage = await texts('#events tbody tr td:nth-child(7)');
    expect(await page.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Older' }).click();
    await page.waitForFunction(() => document.getElementById('page-info').textContent === 'Page 2');
    const secondPage = await texts('#events tbody tr td:nth-child(7)');
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.filter((id) => firstPage.includes(id) && id)).toEqual([]);
    expect(await texts('#events tbody tr td:nth-child(4)')).toContain('person00@example.com');

    await page.getByRole('button', { name: 'Newer' }).click();
    await page.waitForFunction(() => document.getElementById('page-info').textContent === 'Page 1');
    expect(await texts('#events tbody tr td:nth-child(7)')).toEqual(firstPage);
  });

  it('filters the events by outcome and text', async () => {
    await page.getByLabel('Outcome').selectOption('refused');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('#events tbody tr td:nth-child(5)')].every((td: any) => td.textContent === 'refused'));
    const statuses = await texts('#events tbody tr td:nth-child(6)');
    expect([...new Set(statuses)].sort()).toEqual(['401', '403', '409']);

    await page.getByLabel('Outcome').selectOption('');
    await page.getByLabel('Search').fill('engineering');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 1);
    expect(await texts('#events tbody tr td:nth-child(4)')).toEqual(['Engineering']);
    expect(await texts('#events tbody tr td:nth-child(3)')).toEqual([expect.stringMatching(/^group\.create\s+8 members$/)]);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
  });

  it('leaves a screenshot of a realistic run, and signs out', async () => {
    await page.getByLabel('Search').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 20);
    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, 'status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    // `SCIM_UPDATE_SCREENSHOT=1 npx jest test/ops/status-page` refreshes the copy the README shows.
    if (process.env.SCIM_UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(__dirname, '..', '..', 'docs', 'status-page.png'));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.reload();
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
  });

  it('ran without a Content-Security-Policy violation or a script error', () => {
    expect(problems).toEqual([]);
  });
});
