import { parseFilter, parsePatchPath } from '../../bridge/src/scim/filter';
import { ScimError } from '../../bridge/src/scim/errors';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function scimTypeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ScimError);
    return (error as ScimError).scimType;
  }
  throw new Error('expected a ScimError');
}

describe('parseFilter', () => {
  it('parses every comparison operator, in any case', () => {
    for (const op of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']) {
      expect(parseFilter(`userName ${op.toUpperCase()} "a"`)).toEqual({ kind: 'cmp', ref: { attr: 'userName' }, op, value: 'a' });
    }
    expect(parseFilter('title pr')).toEqual({ kind: 'pr', ref: { attr: 'title' } });
  });

  it('reads strings with JSON escapes, numbers, booleans and null', () => {
    expect(parseFilter('displayName eq "say \\"hi\\" \\u00e9"')).toMatchObject({ value: 'say "hi" é' });
    expect(parseFilter('x eq 42.5')).toMatchObject({ value: 42.5 });
    expect(parseFilter('active eq False')).toMatchObject({ value: false });
    expect(parseFilter('title eq null')).toMatchObject({ value: null });
  });

  it('gives not > and > or precedence, and honours grouping', () => {
    expect(parseFilter('a eq "1" or b eq "2" and c eq "3"')).toEqual({
      kind: 'or',
      left: { kind: 'cmp', ref: { attr: 'a' }, op: 'eq', value: '1' },
      right: {
        kind: 'and',
        left: { kind: 'cmp', ref: { attr: 'b' }, op: 'eq', value: '2' },
        right: { kind: 'cmp', ref: { attr: 'c' }, op: 'eq', value: '3' },
      },
    });
    expect(parseFilter('(a eq "1" or b eq "2") and not (c pr)')).toMatchObject({
      kind: 'and',
      left: { kind: 'or' },
      right: { kind: 'not', expr: { kind: 'pr' } },
    });
  });

  it('splits URN-prefixed attributes although the URN holds dots', () => {
    expect(parseFilter(`${ENT}:manager.value eq "m1"`)).toMatchObject({ ref: { uri: ENT, attr: 'manager', sub: 'value' } });
    expect(parseFilter(`${ENT}:department eq "R&D"`)).toMatchObject({ ref: { uri: ENT, attr: 'department' } });
  });

  it('parses value paths, including a trailing sub-attribute', () => {
    expect(parseFilter('emails[type eq "work" and value co "@example.com"]')).toMatchObject({
      kind: 'valuePath',
      ref: { attr: 'emails' },
      expr: { kind: 'and' },
    });
    expect(parseFilter('members[value eq "u1"]')).toMatchObject({ kind: 'valuePath', ref: { attr: 'members' }, expr: { kind: 'cmp', ref: { attr: 'value' } } });
    expect(parseFilter('emails[type eq "work"].value eq "a@b.c"')).toMatchObject({
      kind: 'valuePath',
      expr: { kind: 'and', right: { kind: 'cmp', ref: { attr: 'value' }, value: 'a@b.c' } },
    });
  });

  it.each([
    ['userName eq', 'missing value'],
    ['userName foo "x"', 'unknown operator'],
    ['userName eq "x" and', 'dangling and'],
    ['(userName eq "x"', 'unclosed group'],
    ['userName eq "x', 'unterminated string'],
    ['userName eq and', 'a keyword as a bare value'],
    ['userName eq 1abc', 'a bare value that starts like a number'],
    ['', 'empty'],
    ['emails[type eq "work"', 'unclosed bracket'],
    ['userName eq "x" extra', 'trailing input'],
    ['not userName eq "x"', 'not without parentheses'],
  ])('rejects %j (%s) with invalidFilter', (text) => {
    expect(scimTypeOf(() => parseFilter(text))).toBe('invalidFilter');
  });

  it('bounds length and nesting', () => {
    expect(scimTypeOf(() => parseFilter(`a eq "${'x'.repeat(5000)}"`))).toBe('invalidFilter');
    expect(scimTypeOf(() => parseFilter(`${'('.repeat(100)}a pr${')'.repeat(100)}`))).toBe('invalidFilter');
  });
});

describe('parsePatchPath', () => {
  it('parses attributes, sub-attributes and value filters with a trailing sub-attribute', () => {
    expect(parsePatchPath('name.givenName')).toEqual({ ref: { attr: 'name', sub: 'givenName' } });
    expect(parsePatchPath('emails[type eq "work"].value')).toMatchObject({ ref: { attr: 'emails' }, filter: { kind: 'cmp' }, subAfterFilter: 'value' });
    expect(parsePatchPath(`${ENT}:department`)).toEqual({ ref: { uri: ENT, attr: 'department' } });
    // A bare extension URN reads as URN + name here; the PATCH engine recognizes it against the schemas.
    expect(parsePatchPath(ENT)).toEqual({ ref: { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attr: 'User' } });
  });

  it('rejects malformed paths with invalidPath', () => {
    for (const text of ['emails[type eq "work"', 'emails[type eq]', 'a.b.c', 'emails[type eq "x"]junk', ' ']) {
      expect(scimTypeOf(() => parsePatchPath(text))).toBe('invalidPath');
    }
  });
});
