import { ScimError } from '../../bridge/src/scim/errors';
import { parseFilter } from '../../bridge/src/scim/filter';
import { FILTER_COST_BUDGET, checkFilterCost, filterCost } from '../../bridge/src/scim/filter-cost';
import { parseListRequest } from '../../bridge/src/scim/query';

const userCost = (text: string) => filterCost('User', parseFilter(text));
const groupCost = (text: string) => filterCost('Group', parseFilter(text));
const repeat = (term: string, times: number, joiner = ' or ') => Array.from({ length: times }, () => term).join(joiner);

describe('filter cost', () => {
  it("charges one unit for the identity providers' look-ups", () => {
    for (const filter of ['userName eq "ada@example.com"', 'externalId eq "00u1"', 'id eq "2819c223"', 'UserName eq "x"']) expect(userCost(filter)).toBe(1);
    for (const filter of ['displayName eq "Engineering"', 'externalId eq "x"', 'id eq "x"']) expect(groupCost(filter)).toBe(1);
    // Entra's membership check before a PATCH: two look-ups in indexes.
    expect(groupCost('id eq "g" and members[value eq "u"]')).toBeLessThanOrEqual(4);
  });

  it('grows with terms, text searches, document reads and multi-valued attributes', () => {
    expect(userCost(repeat('userName co "a"', 4))).toBe(4 * userCost('userName co "a"'));
    expect(userCost('userName co "a"')).toBeGreaterThan(userCost('userName eq "a"'));
    expect(userCost('title eq "a"')).toBeGreaterThan(userCost('userName co "a"')); // read from the document, folded
    expect(userCost('title co "a"')).toBeGreaterThan(userCost('title eq "a"'));
    expect(userCost('emails.value co "a"')).toBeGreaterThan(userCost('title co "a"'));
    expect(userCost('groups pr')).toBeGreaterThan(userCost('title pr'));
    expect(userCost('not (title pr)')).toBeGreaterThan(userCost('title pr'));
    expect(groupCost('members[display co "a"]')).toBeGreaterThan(groupCost('members[value eq "a"]'));
    expect(userCost('emails[type eq "work" and value co "a"]')).toBeGreaterThan(userCost('emails[type eq "work"]'));
  });

  it('accepts the filters identity providers send', () => {
    for (const filter of [
      'userName eq "ada@example.com"',
      'emails[type eq "work" and value eq "ada@example.com"]',
      'meta.lastModified gt "2026-01-01T00:00:00Z"',
      'userName sw "a" and active eq true',
      repeat('id eq "x"', 100),
      'name.familyName co "love" or name.givenName co "ada"',
    ]) {
      expect(userCost(filter)).toBeLessThanOrEqual(FILTER_COST_BUDGET);
    }
  });

  it('refuses a filter over the budget with 400 tooMany, naming the budget', () => {
    const node = parseFilter(repeat('groups pr', 300));
    expect(() => checkFilterCost('User', node)).toThrow(ScimError);
    try {
      parseListRequest('User', { filter: repeat('displayName co "z"', 150) });
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toMatchObject({ status: 400, scimType: 'tooMany', message: expect.stringContaining(String(FILTER_COST_BUDGET)) });
    }
    expect(parseListRequest('User', { filter: 'userName eq "x"' }).query.filter).toBeDefined();
  });
});
