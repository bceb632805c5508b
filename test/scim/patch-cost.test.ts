import { applyPatch } from '../../bridge/src/scim/patch';
import { MAX_PATCH_WORK } from '../../bridge/src/scim/patch';

/** The report's PATCH: every documented bound respected, 20 s of event loop when a visit counted one unit. */
function heavyPatch(operations: number, terms: number) {
  const filter = Array.from({ length: terms }, (_, i) => `value eq "q${i}"`).join(' or ');
  return Array.from({ length: operations }, () => ({ op: 'remove' as const, path: `emails[${filter}]` }));
}

const userWithEmails = (n: number) => ({
  userName: 'many@example.com',
  emails: Array.from({ length: n }, (_, i) => ({ value: `e${i}@example.com` })),
});

describe('PATCH work counted by cost', () => {
  it('refuses value filters whose comparisons over the list exceed the work bound, quickly', () => {
    const started = performance.now();
    expect(() => applyPatch('User', userWithEmails(2000), heavyPatch(480, 95))).toThrow(expect.objectContaining({ status: 400, scimType: 'tooMany' }));
    // Refused at the first operation past the bound: about MAX_PATCH_WORK comparisons, not 91 million.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('counts each element visit times the filter, so one such operation still applies', () => {
    const result = applyPatch('User', userWithEmails(2000), [{ op: 'remove', path: 'emails[value eq "e1@example.com" or value eq "e2@example.com"]' }]);
    expect((result.doc.emails as unknown[]).length).toBe(1998);
    expect(result.work).toBeGreaterThanOrEqual(2000 * 2);
    const many = applyPatch('User', userWithEmails(2000), heavyPatch(1, 40));
    expect(many.work).toBeGreaterThanOrEqual(2000 * 40);
    expect(many.work).toBeLessThan(MAX_PATCH_WORK);
  });
});
