/**
 * Names compared as people read them, on both stores: userNames and group names are unique by their NFC, trimmed,
 * fully case-folded key, look-ups find a name however it is spelled, and protected group names cannot be taken by
 * look-alikes (zero-width and no-break spaces, Greek and Cyrillic letters, fullwidth forms, trailing spaces).
 */
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

describe.each(STORE_KINDS)('names as people read them (%s)', (store) => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({ store, env: { SCIM_USERNAME_FORMAT: 'any' } });
  });
  afterAll(() => bridge.stop());

  it.each([
    ['josé (NFC)', 'jos\u00e9', 'jose\u0301'],
    ['straße', 'straße', 'STRASSE'],
    ['İnci', 'İnci', 'inci'],
    ['a trailing space', 'trailing', 'trailing '],
  ])('one user for %s however it is spelled', async (_label, first, second) => {
    const created = await bridge.request('POST', '/Users', { userName: first });
    expect(created.status).toBe(201);
    const again = await bridge.request('POST', '/Users', { userName: second });
    expect(again).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    const found = await bridge.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${second}"`)}`);
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
  });

  it('one group for a name however it is spelled', async () => {
    expect((await bridge.request('POST', '/Groups', { displayName: 'Straße Team' })).status).toBe(201);
    expect((await bridge.request('POST', '/Groups', { displayName: 'STRASSE TEAM' })).status).toBe(409);
  });

  it.each([
    ['a trailing space', 'Owners '],
    ['a zero-width space', 'Own\u200bers'],
    ['a Greek capital omicron', '\u039fwners'],
    ['a Cyrillic o', 'Administrat\u043ers'],
    ['fullwidth letters', '\uff2f\uff57\uff4e\uff45\uff52\uff53'],
    ['a no-break space', 'Group\u00a0Managers'],
    ['a Greek small omicron', 'Rec\u03bfvery'],
    ['rn for m', 'Group Rnanagers'],
  ])('refuses a protected name written with %s', async (_label, name) => {
    const res = await bridge.request('POST', '/Groups', { displayName: name });
    expect(res).toMatchObject({ status: 409, body: { detail: expect.stringMatching(/protected group/) } });
  });

  it('refuses a rename to a look-alike of a protected name, and allows names that only contain one', async () => {
    const team = await bridge.request('POST', '/Groups', { displayName: 'Billing' });
    const rename = await bridge.request('PATCH', `/Groups/${team.body.id}`, { Operations: [{ op: 'replace', path: 'displayName', value: '\u041ewners' }] });
    expect(rename.status).toBe(409);
    for (const name of ['Owners of Billing', 'Group Managers EU', 'Recovery Team'])
      expect((await bridge.request('POST', '/Groups', { displayName: name })).status).toBe(201);
  });
});
