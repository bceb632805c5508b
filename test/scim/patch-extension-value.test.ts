/** A PATCH whose path is a whole extension URN takes an object of that extension's attributes (RFC 7644 §3.5.2). */
import { ScimError } from '../../bridge/src/scim/errors';
import { applyPatch } from '../../bridge/src/scim/patch';
import { ENTERPRISE_USER_SCHEMA } from '../../bridge/src/scim/schemas';

describe('PATCH of a whole extension', () => {
  it('ignores the "schemas" that model-serializing clients (python-scim) put beside the attributes', () => {
    const value = { schemas: [ENTERPRISE_USER_SCHEMA], department: 'Sales', costCenter: 'CC-1' };
    for (const op of ['add', 'replace'] as const) {
      const { doc } = applyPatch('User', { userName: 'a@example.com' }, [{ op, path: ENTERPRISE_USER_SCHEMA, value }]);
      expect(doc[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Sales', costCenter: 'CC-1' });
    }
  });

  it('still refuses an attribute the extension does not have', () => {
    expect(() => applyPatch('User', { userName: 'a@example.com' }, [{ op: 'add', path: ENTERPRISE_USER_SCHEMA, value: { shoeSize: 42 } }])).toThrow(ScimError);
  });
});
