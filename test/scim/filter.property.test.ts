/**
 * Properties of the filter parser (RFC 7644 §3.4.2.2), over generated input with a fixed seed: any filter tree
 * written out parses back to itself, and no text (valid, near-valid or hostile) makes the parser, the in-memory
 * matcher or the SQL compiler of either store throw anything but a SCIM 400.
 */
import fc from 'fast-check';
import { asScimError } from '../../bridge/src/directory/store-refusal';
import { ScimError } from '../../bridge/src/scim/errors';
import { type AttrRef, type CompareOp, type FilterNode, type FilterValue, formatFilter, parseFilter, parsePatchPath } from '../../bridge/src/scim/filter';
import { matchesElement } from '../../bridge/src/scim/match';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { isStorableText } from '../../bridge/src/scim/text';
import { compileFilter } from '../../bridge/src/store/sql-filter';
import { sqliteDialect } from '../../bridge/src/store/sqlite';
import { postgresDialect } from '../../bridge/src/store/postgres';

/** Fixed in CI; FC_SEED=<n> reproduces or explores another run. */
export const RUNS = { seed: Number(process.env.FC_SEED ?? 17_2026), numRuns: Number(process.env.FC_RUNS ?? 300) };

const NAMES = [
  'userName',
  'displayName',
  'title',
  'emails',
  'name',
  'active',
  'externalId',
  'meta',
  'x-custom',
  '$ref',
  'phoneNumbers',
  'members',
  'department',
];
const SUBS = ['value', 'type', 'primary', 'givenName', 'lastModified', 'display'];
const OPS: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

const storableString = fc.string({ unit: 'grapheme', maxLength: 12 }).filter(isStorableText);
const value: fc.Arbitrary<FilterValue> = fc.oneof(
  storableString,
  fc.constantFrom('with "quotes"', 'back\\slash', 'tab\there', 'ünïcødé 😀', ''),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.boolean(),
  fc.constant(null),
);
const ref = (withUri: boolean): fc.Arbitrary<AttrRef> =>
  fc
    .record(
      {
        uri: withUri ? fc.constantFrom(USER_SCHEMA, ENTERPRISE_USER_SCHEMA, 'urn:example:params:1.0:Thing') : fc.constant(undefined),
        attr: fc.constantFrom(...NAMES),
        sub: fc.constantFrom(...SUBS),
      },
      { requiredKeys: ['attr'] },
    )
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as AttrRef);

const { filter: filterTree } = fc.letrec<{ filter: FilterNode; inner: FilterNode }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('cmp' as const), ref: ref(true), op: fc.constantFrom(...OPS), value }),
    fc.record({ kind: fc.constant('pr' as const), ref: ref(true) }),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('filter'), right: tie('filter') }),
    fc.record({ kind: fc.constant('not' as const), expr: tie('filter') }),
    fc.record({ kind: fc.constant('valuePath' as const), ref: ref(true).map((r) => ({ ...(r.uri ? { uri: r.uri } : {}), attr: r.attr })), expr: tie('inner') }),
  ),
  // Inside brackets: sub-attributes by bare name, no nested value paths.
  inner: fc.oneof(
    { depthSize: 'small' },
    fc.record({ kind: fc.constant('cmp' as const), ref: fc.constantFrom(...SUBS).map((attr) => ({ attr })), op: fc.constantFrom(...OPS), value }),
    fc.record({ kind: fc.constant('pr' as const), ref: fc.constantFrom(...SUBS).map((attr) => ({ attr })) }),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('inner'), right: tie('inner') }),
    fc.record({ kind: fc.constant('not' as const), expr: tie('inner') }),
  ),
}));

/** Near-valid filters: the grammar's own pieces in random order, plus stray quotes, escapes and control characters. */
const nearValid = fc
  .array(
    fc.oneof(
      fc.constantFrom('(', ')', '[', ']', 'and', 'or', 'not', 'eq', 'ne', 'co', 'pr', 'gt', '"x"', '"', '\\', '\\"', '"\\u0000"', '"\\ud800"', '\u0000'),
      fc.constantFrom(
        'userName',
        'emails',
        'emails.value',
        'name.givenName',
        `${USER_SCHEMA}:userName`,
        `${ENTERPRISE_USER_SCHEMA}:manager.value`,
        'urn:a:b:',
        'urn:',
        '.value',
        'a.b.c',
        '$',
        '1',
        '1e400',
        '-0.5',
        'true',
        'null',
      ),
      // Unquoted values, as WSO2's clients send them, and words that look like one but are not.
      fc.constantFrom('loginUser1', 'Group1', 'ada@example.com', 'x.y', 'TRUE', 'Null', '1abc', '-x', '_id', 'a+b'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 16 },
  )
  .chain((parts) => fc.constantFrom(' ', '', '  ').map((sep) => parts.join(sep)));

/** Any UTF-16 code units, lone surrogates and NUL included. */
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

function expectOnlyScim400(work: () => unknown, scimTypes: string[]): void {
  try {
    work();
  } catch (thrown) {
    // The store's compiler refuses with its own StoreRefused, which the edge answers as this SCIM error.
    const error = asScimError(thrown);
    if (!(error instanceof ScimError)) throw new Error(`threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
    expect(error.status).toBe(400);
    expect(scimTypes).toContain(error.scimType);
  }
}

describe('filter parser properties', () => {
  it('parses every written-out filter tree back to the same tree', () => {
    fc.assert(
      fc.property(filterTree, (tree) => {
        expect(parseFilter(formatFilter(tree))).toEqual(tree);
      }),
      RUNS,
    );
  });

  // Tolerant filters: an unquoted word is the string it spells only where the grammar gives it no other meaning.
  const bareWord = fc.stringMatching(/^[A-Za-z_][\w@.+-]{0,10}$/).filter((w) => !/^(and|or|not|pr|true|false|null|eq|ne|co|sw|ew|gt|ge|lt|le)$/i.test(w));
  const withBareWords = (tree: FilterNode): FilterNode => {
    switch (tree.kind) {
      case 'and':
      case 'or':
        return { ...tree, left: withBareWords(tree.left), right: withBareWords(tree.right) };
      case 'not':
        return { ...tree, expr: withBareWords(tree.expr) };
      case 'valuePath':
        return { ...tree, expr: withBareWords(tree.expr) };
      default:
        return tree;
    }
  };
  /** Writes a tree with every string value that is a bare word left unquoted. */
  const formatUnquoted = (tree: FilterNode): string =>
    formatFilter(tree).replace(/"((?:[^"\\]|\\.)*)"/g, (quoted, inner: string) => {
      const text = JSON.parse(quoted) as string;
      return /^[A-Za-z_][\w@.+-]*$/.test(text) && !/^(and|or|not|pr|true|false|null|eq|ne|co|sw|ew|gt|ge|lt|le)$/i.test(text) && inner === text ? text : quoted;
    });

  it('reads an unquoted word as the string it spells, in any filter: the same tree as with quotes', () => {
    const treeWithWords = filterTree.chain((tree) =>
      fc.array(bareWord, { minLength: 1, maxLength: 8 }).map((words) => {
        let i = 0;
        const put = (node: FilterNode): FilterNode => {
          if (node.kind === 'cmp') return { ...node, value: words[i++ % words.length] };
          if (node.kind === 'and' || node.kind === 'or') return { ...node, left: put(node.left), right: put(node.right) };
          if (node.kind === 'not') return { ...node, expr: put(node.expr) };
          if (node.kind === 'valuePath') return { ...node, expr: put(node.expr) };
          return node;
        };
        return withBareWords(put(tree));
      }),
    );
    fc.assert(
      fc.property(treeWithWords, (tree) => {
        const text = formatUnquoted(tree);
        expect(parseFilter(text)).toEqual(tree);
        expect(parseFilter(text)).toEqual(parseFilter(formatFilter(tree)));
      }),
      RUNS,
    );
  });

  it('never reads a number, true, false, null or a keyword as an unquoted string: valid filters keep their meaning', () => {
    fc.assert(
      fc.property(filterTree, (tree) => {
        // Every value the grammar writes unquoted (numbers, booleans, null) still parses to that value, not a string.
        const upper = formatFilter(tree)
          .split(/("(?:[^"\\]|\\.)*")/)
          .map((part, i) => (i % 2 ? part : part.replace(/\btrue\b/g, 'TRUE').replace(/\bnull\b/g, 'NULL')))
          .join('');
        expect(parseFilter(upper)).toEqual(tree);
      }),
      RUNS,
    );
    expect(parseFilter('userName eq true')).toMatchObject({ value: true });
    expect(parseFilter('userName eq 12e3')).toMatchObject({ value: 12000 });
    expect(parseFilter('userName eq loginUser1 and active eq true')).toEqual(parseFilter('userName eq "loginUser1" and active eq true'));
    expect(parseFilter('meta.created gt 2015-10-10T14:38:21.8617979-07:00')).toEqual(parseFilter('meta.created gt "2015-10-10T14:38:21.8617979-07:00"'));
    expect(parseFilter('meta.created gt 2015-10-10')).toMatchObject({ value: '2015-10-10' });
    for (const text of [
      'userName eq and',
      'userName eq or',
      'userName eq pr',
      'userName eq eq',
      'userName eq 1abc',
      'userName eq .value',
      'userName eq',
      'meta.created gt 2015-10-1O',
    ])
      expect(() => parseFilter(text)).toThrow(ScimError);
  });

  it('never throws anything but a 400 invalidFilter, for near-valid and arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(nearValid, anyText), (text) => {
        expectOnlyScim400(() => parseFilter(text), ['invalidFilter']);
      }),
      RUNS,
    );
  });

  it('refuses any filter whose text or string values hold NUL or a lone surrogate', () => {
    const bad = fc.constantFrom('\u0000', '\ud800', '\udfff', '\\u0000', '\\udbff', '\\udc00\\ud800');
    fc.assert(
      fc.property(
        storableString.filter((s) => !s.includes('"') && !s.includes('\\')),
        bad,
        (prefix, poison) => {
          expect(() => parseFilter(`userName eq "${prefix}${poison}"`)).toThrow(ScimError);
        },
      ),
      RUNS,
    );
  });

  it('compiles whatever parses to SQL for both stores, or refuses it with a 400', () => {
    fc.assert(
      fc.property(fc.oneof(filterTree.map(formatFilter), nearValid), fc.constantFrom('User' as const, 'Group' as const), (text, kind) => {
        let tree: FilterNode;
        try {
          tree = parseFilter(text);
        } catch {
          return; // the property above covers refusals
        }
        for (const dialect of [sqliteDialect, postgresDialect]) expectOnlyScim400(() => compileFilter(kind, tree, dialect), ['invalidFilter', 'invalidValue']);
      }),
      RUNS,
    );
  });

  it('evaluates value filters in memory (PATCH paths) without throwing anything but a 400', () => {
    const element = fc.dictionary(
      fc.constantFrom(...SUBS, 'Value', 'TYPE'),
      fc.oneof(fc.string({ maxLength: 6 }), fc.boolean(), fc.integer(), fc.constant(null)),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(fc.oneof(filterTree, fc.constant(undefined)), fc.oneof(element, fc.string(), fc.integer(), fc.constant(null)), (tree, item) => {
        expectOnlyScim400(() => {
          const path = parsePatchPath(`emails[${tree ? formatFilter(tree) : 'value eq "x"'}]`);
          matchesElement(path.filter!, item, (name) => name === 'value');
        }, ['invalidFilter', 'invalidPath']);
      }),
      RUNS,
    );
  });
});
