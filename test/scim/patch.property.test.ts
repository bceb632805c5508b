/**
 * Properties of the PATCH engine (RFC 7644 §3.5.2), over generated documents and operations with a fixed seed:
 * it answers every request with a result or a SCIM 400 (never another error), never changes the document it was
 * given, does work linear in what it is sent, and an add followed by the matching remove gives the document back.
 * Then the same through HTTP on both stores: never a 5xx, and a refused PATCH leaves the stored user as it was.
 */
import fc from 'fast-check';
import { ScimError } from '../../bridge/src/scim/errors';
import { MAX_PATCH_WORK, applyPatch, parsePatchRequest } from '../../bridge/src/scim/patch';
import { type ScimDoc, validateDoc } from '../../bridge/src/scim/resource';
import { ENTERPRISE_USER_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const RUNS = { seed: Number(process.env.FC_SEED ?? 17_2026), numRuns: Number(process.env.FC_RUNS ?? 300) };
const HTTP_RUNS = { seed: RUNS.seed, numRuns: Math.max(10, Math.round(RUNS.numRuns / 8)) };

const word = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }).filter((s) => !/["\\]/.test(s));
const emailValue = fc.tuple(word, fc.constantFrom('example.com', 'Example.ORG')).map(([local, domain]) => `${local.replace(/[^A-Za-z0-9.]/g, 'x')}@${domain}`);
const email = fc.record(
  { value: emailValue, type: fc.constantFrom('work', 'home', 'other'), primary: fc.boolean(), display: word },
  { requiredKeys: ['value'] },
);

/** A stored user document as the directory keeps it (valid, coerced). */
const userDoc: fc.Arbitrary<ScimDoc> = fc
  .record(
    {
      userName: emailValue,
      active: fc.boolean(),
      title: word,
      name: fc.record({ givenName: word, familyName: word }, { requiredKeys: [] }),
      emails: fc.uniqueArray(
        email.map((e) => ({ ...e, primary: false })),
        { maxLength: 4, selector: (e) => e.value.toLowerCase() },
      ),
      roles: fc.uniqueArray(fc.record({ value: word }), { maxLength: 3, selector: (r) => r.value }),
      [ENTERPRISE_USER_SCHEMA]: fc.record({ department: word, manager: fc.record({ value: word }) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['userName'] },
  )
  .map((doc) => {
    const out = { ...doc } as ScimDoc;
    if (Array.isArray(out.emails) && !out.emails.length) delete out.emails;
    if (Array.isArray(out.roles) && !out.roles.length) delete out.roles;
    if (out.name && !Object.keys(out.name as object).length) delete out.name;
    const ext = out[ENTERPRISE_USER_SCHEMA] as object | undefined;
    if (ext && !Object.keys(ext).length) delete out[ENTERPRISE_USER_SCHEMA];
    return out;
  });

const GOOD_PATHS = [
  'title',
  'displayName',
  'active',
  'emails',
  'name.givenName',
  'roles',
  'emails[type eq "work"].value',
  `${ENTERPRISE_USER_SCHEMA}:department`,
];
const PATHS = [
  'title',
  'displayName',
  'active',
  'userName',
  'emails',
  'emails.value',
  'emails.primary',
  'name',
  'name.givenName',
  'roles',
  'groups',
  'id',
  'meta.created',
  'password',
  'emails[type eq "work"]',
  'emails[type eq "work"].value',
  'emails[value co "@"].display',
  'emails[primary eq true]',
  'emails[type ne "x"].type',
  `${ENTERPRISE_USER_SCHEMA}:department`,
  `${ENTERPRISE_USER_SCHEMA}:manager.value`,
  ENTERPRISE_USER_SCHEMA,
  `${USER_SCHEMA}:title`,
  'urn:example:unknown:1.0:X:attr',
  'nonsense',
  'a.b.c',
  'emails[',
  'emails[type eq ]',
  'emails]',
  '',
  ' ',
  'emails[type eq "w"].nope',
];

const opValue = fc.oneof(
  word,
  fc.boolean(),
  fc.constantFrom('True', 'false', 'not-a-bool', 42, null),
  emailValue,
  fc.array(email, { maxLength: 3 }),
  email,
  fc.record({ givenName: word, familyName: fc.oneof(word, fc.integer()) }, { requiredKeys: [] }),
  fc.dictionary(
    fc.constantFrom('title', 'active', 'name.givenName', 'emails', 'id', 'nope', ENTERPRISE_USER_SCHEMA),
    fc.oneof(word, fc.boolean(), fc.array(email, { maxLength: 2 }), fc.record({ department: word })),
    { maxKeys: 3 },
  ),
  fc.jsonValue({ maxDepth: 4 }),
);

const operation = fc.record(
  {
    op: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace') },
      { weight: 1, arbitrary: fc.constantFrom('move', 7, 'REMOVE') },
    ),
    path: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...GOOD_PATHS) },
      { weight: 4, arbitrary: fc.constantFrom(...PATHS) },
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer() },
    ),
    value: fc.oneof({ weight: 4, arbitrary: fc.oneof(word, fc.boolean(), fc.array(email, { maxLength: 3 })) }, { weight: 3, arbitrary: opValue }),
  },
  { requiredKeys: ['op', 'value'] },
);
const patchBody = fc.oneof(
  { weight: 6, arbitrary: fc.array(operation, { minLength: 1, maxLength: 3 }).map((Operations) => ({ schemas: [PATCH_OP_SCHEMA], Operations })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.record({ schemas: fc.jsonValue({ maxDepth: 2 }), Operations: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }) },
);

function refusedWith400(error: unknown): void {
  if (!(error instanceof ScimError)) throw new Error(`threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
  expect(error.status).toBe(400);
}

describe('PATCH engine properties', () => {
  it('answers with a document or a SCIM 400, never another error, and never changes the given document', () => {
    fc.assert(
      fc.property(userDoc, patchBody, (doc, body) => {
        const before = structuredClone(doc);
        try {
          const { doc: after, work } = applyPatch('User', doc, parsePatchRequest(body));
          validateDoc('User', after);
          expect(work).toBeLessThanOrEqual(MAX_PATCH_WORK);
        } catch (error) {
          refusedWith400(error);
        }
        expect(doc).toEqual(before);
      }),
      RUNS,
    );
  });

  it('gives the document back after adding an attribute and removing it', () => {
    fc.assert(
      fc.property(userDoc, word, (doc, title) => {
        const without = { ...doc };
        delete without.title;
        const { doc: after } = applyPatch(
          'User',
          without,
          parsePatchRequest({
            Operations: [
              { op: 'add', path: 'title', value: title },
              { op: 'remove', path: 'title' },
            ],
          }),
        );
        expect(after).toEqual(without);
      }),
      RUNS,
    );
  });

  it('gives the document back after adding a new multi-valued element and removing it by a value filter', () => {
    fc.assert(
      fc.property(userDoc, email, (doc, added) => {
        const current = (doc.emails as { value: string }[] | undefined) ?? [];
        fc.pre(!current.some((e) => e.value.toLowerCase() === added.value.toLowerCase()));
        const element = { ...added, primary: false }; // a new primary would demote the others: not an inverse pair
        const { doc: after } = applyPatch(
          'User',
          doc,
          parsePatchRequest({
            Operations: [
              { op: 'add', path: 'emails', value: [element] },
              { op: 'remove', path: `emails[value eq ${JSON.stringify(added.value)}]` },
            ],
          }),
        );
        expect(after).toEqual(doc);
      }),
      RUNS,
    );
  });

  it('does work linear in the values sent: adding n values costs about n, whatever n', () => {
    fc.assert(
      fc.property(userDoc, fc.integer({ min: 1, max: 5000 }), (doc, n) => {
        const values = Array.from({ length: n }, (_, i) => ({ value: `v${i}@example.com`, type: 'other' }));
        const { work } = applyPatch(
          'User',
          doc,
          parsePatchRequest({
            Operations: [
              { op: 'add', path: 'emails', value: values },
              { op: 'add', path: 'emails', value: values.slice(0, 10) },
            ],
          }),
        );
        const existing = ((doc.emails as unknown[]) ?? []).length;
        expect(work).toBeLessThanOrEqual(3 * (n + existing) + 40);
      }),
      { ...RUNS, numRuns: Math.min(RUNS.numRuns, 60) },
    );
  });
});

describe.each(STORE_KINDS)('PATCH over HTTP, generated (%s store)', (store) => {
  let bridge: TestBridge;
  let id: string;
  beforeAll(async () => {
    bridge = await startBridge({ store });
    id = (
      await bridge.request('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: 'generated@example.com',
        emails: [{ value: 'generated@example.com', type: 'work' }],
      })
    ).body.id;
  });
  afterAll(() => bridge.stop());

  it('never answers 5xx, and a refused PATCH leaves the stored user as it was', async () => {
    await fc.assert(
      fc.asyncProperty(patchBody, async (body) => {
        const before = await bridge.request('GET', `/Users/${id}`);
        const res = await bridge.request('PATCH', `/Users/${id}`, body);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
          expect((await bridge.request('GET', `/Users/${id}`)).body).toEqual(before.body);
        } else {
          // Keep the user usable as a target for the next run.
          expect(res.status).toBe(200);
          await bridge.request('PUT', `/Users/${id}`, { schemas: [USER_SCHEMA], userName: 'generated@example.com' });
        }
      }),
      HTTP_RUNS,
    );
  });
});
