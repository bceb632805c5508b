/**
 * Properties of body handling, over generated bodies with a fixed seed: the one-pass scan refuses exactly the JSON
 * that nests past the bound or holds NUL or a lone surrogate (in keys or values), never throws anything but a SCIM
 * 400 on any text, and over HTTP on both stores no body gets a 5xx and both stores answer alike.
 */
import fc from 'fast-check';
import { ScimError } from '../../bridge/src/scim/errors';
import { USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { MAX_JSON_DEPTH, checkJsonText, isStorableText } from '../../bridge/src/scim/text';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';

const RUNS = { seed: Number(process.env.FC_SEED ?? 17_2026), numRuns: Number(process.env.FC_RUNS ?? 300) };
const HTTP_RUNS = { seed: RUNS.seed, numRuns: Math.max(10, Math.round(RUNS.numRuns / 6)) };

/** Any UTF-16 code units: NUL, lone surrogates, pairs, quotes and backslashes all turn up. */
const codeUnits = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\u0000', '\ud800', '\udc00', '\ud83d\ude00', '"', '\\'),
  ),
  maxLength: 12,
});

/** Nesting depth of a JSON value, without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const inner of Object.values(v as object)) stack.push([inner, d + 1]);
  }
  return max;
}

/** Whether every string of a JSON value, keys included, is storable. */
function allStorable(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string' && !isStorableText(v)) return false;
    if (v !== null && typeof v === 'object') {
      for (const [key, inner] of Object.entries(v as object)) {
        if (!isStorableText(key)) return false;
        stack.push(inner);
      }
    }
  }
  return true;
}

const jsonWithAnyText = fc.jsonValue({
  maxDepth: 5,
  stringUnit: fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udfff', 'a', 'é', '"'), fc.string({ unit: 'grapheme', maxLength: 2 })),
});

/** Wraps a value `levels` deep in arrays and objects. */
const nested = fc
  .tuple(fc.jsonValue({ maxDepth: 3 }), fc.integer({ min: 0, max: 60 }), fc.array(fc.boolean(), { maxLength: 60 }))
  .map(([inner, levels, kinds]) => {
    let value: unknown = inner;
    for (let i = 0; i < levels; i++) value = kinds[i] ? [value] : { k: value };
    return value;
  });

function scanOutcome(text: string): 'ok' | 'refused' {
  try {
    checkJsonText(text);
    return 'ok';
  } catch (error) {
    if (!(error instanceof ScimError)) throw new Error(`threw ${(error as Error)?.name}`);
    expect(error.status).toBe(400);
    return 'refused';
  }
}

describe('body scan properties', () => {
  it('refuses a JSON text exactly when a string (key or value) holds NUL or a lone surrogate', () => {
    fc.assert(
      fc.property(jsonWithAnyText, (value) => {
        expect(scanOutcome(JSON.stringify(value))).toBe(allStorable(value) ? 'ok' : 'refused');
      }),
      RUNS,
    );
  });

  it('refuses a JSON text exactly when it nests deeper than the bound', () => {
    fc.assert(
      fc.property(nested, (value) => {
        expect(scanOutcome(JSON.stringify(value))).toBe(depthOf(value) > MAX_JSON_DEPTH ? 'refused' : 'ok');
      }),
      RUNS,
    );
  });

  it('reads escapes as JSON.parse does: any string, escaped any way, is refused iff it decodes to unstorable text', () => {
    const escaped = codeUnits.map((s) => ({
      s,
      text: JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    }));
    fc.assert(
      fc.property(
        fc.oneof(
          codeUnits.map((s) => ({ s, text: JSON.stringify(s) })),
          escaped,
        ),
        ({ s, text }) => {
          expect(JSON.parse(text)).toBe(s);
          expect(scanOutcome(`{"v":${text}}`)).toBe(isStorableText(s) ? 'ok' : 'refused');
        },
      ),
      RUNS,
    );
  });

  it('never throws anything but a SCIM 400 on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(codeUnits, fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'u', 'd', '8', '0', ':', ','), maxLength: 80 })),
        (text) => {
          scanOutcome(text);
        },
      ),
      RUNS,
    );
  });
});

describe.each(STORE_KINDS)('bodies over HTTP, generated (%s store)', (store) => {
  let bridge: TestBridge;
  let id: string;
  beforeAll(async () => {
    bridge = await startBridge({ store });
    id = (await bridge.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'bodies@example.com' })).body.id;
  });
  afterAll(() => bridge.stop());

  const body = fc.oneof(
    jsonWithAnyText.map((v) => JSON.stringify({ schemas: [USER_SCHEMA], userName: `u${Math.random().toString(36).slice(2)}@example.com`, title: v })),
    jsonWithAnyText.map((v) => JSON.stringify(v)),
    nested.map((v) => JSON.stringify({ schemas: [USER_SCHEMA], userName: 'nested@example.com', name: v })),
    codeUnits,
  );

  it('never answers 5xx to a POST, PUT or PATCH of any body; unstorable text is a 400', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('POST', 'PUT', 'PATCH'), async (text, method) => {
        const res = await bridge.request(method, method === 'POST' ? '/Users' : `/Users/${id}`, text);
        expect(res.status).toBeLessThan(500);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          expect(res.status).toBe(400);
          return;
        }
        if (!allStorable(parsed) || depthOf(parsed) > MAX_JSON_DEPTH) expect(res.status).toBe(400);
        if (res.status < 300 && method === 'PUT') await bridge.request('PUT', `/Users/${id}`, { schemas: [USER_SCHEMA], userName: 'bodies@example.com' });
      }),
      HTTP_RUNS,
    );
  });
});
