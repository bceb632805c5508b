/**
 * Hostile requests (mutated JSON, deep nesting, huge strings, odd Unicode and invalid UTF-8, random filters, odd
 * paths, query strings, headers, content types and methods) and raw-socket ones (malformed HTTP, bad chunking,
 * pipelining, abandoned and slow bodies, protocol upgrades). The bridge must answer each sanely: never a 5xx, every
 * error a SCIM error body; whatever an accepted one changed is read back into the lane's model from the answer.
 */
import type { Case, Expectation } from './case';
import type { Exchange, HttpSend } from './http';
import type { Lane } from './lane';
import type { Random } from './random';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, groupBody, patchBody, userBody } from './scim';
import { HOSTILE_CHARS, hostileText, token, validText } from './text';

export const BODY_LIMIT = 1024 * 1024;
export const MAX_DOCUMENT_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 32;
const BASE = '/scim/v2';

type Resource = 'Users' | 'Groups';

/** What an accepted hostile write changed, read from its answer (the lane cannot predict it). */
function recordEffect(
  lane: Lane,
  method: string,
  resource: Resource,
  id: string | undefined,
  res: Exchange,
  body: any,
  model = lane.model,
): string | undefined {
  if (res.status >= 300 || res.status === 0) return undefined;
  const { options } = lane;
  if (method === 'POST' && res.status === 201) {
    if (resource === 'Users') options.ack.userCreates++;
    else options.ack.groupCreates++;
    const made = resource === 'Users' ? model.userFromAnswer(body, res.headers.etag as string) : model.groupFromAnswer(body, res.headers.etag as string);
    return made ? undefined : `a 201 without a readable ${resource === 'Users' ? 'user' : 'group'}: ${JSON.stringify(body).slice(0, 200)}`;
  }
  if ((method === 'PATCH' || method === 'PUT') && resource === 'Users' && res.status === 200) {
    return model.userFromAnswer(body, res.headers.etag as string) ? undefined : 'a 200 without a readable user';
  }
  if (resource === 'Groups' && id && (method === 'PATCH' || method === 'PUT')) {
    if (res.status === 200 && body?.id) model.groupFromAnswer(body, res.headers.etag as string);
    else model.staleGroups.add(id);
  }
  if (method === 'DELETE' && res.status === 204 && id) {
    if (resource === 'Users') {
      options.ack.userDeletes++;
      model.deleteUser(id);
    } else {
      options.ack.groupDeletes++;
      model.deleteGroup(id);
    }
  }
  return undefined;
}

function noAnswer(lane: Lane, method: string, resource: Resource, id: string | undefined): () => void {
  return () => {
    if (method === 'GET' || method === 'HEAD') return;
    if (!id) lane.model.uncertainCreates++;
    else if (resource === 'Groups') lane.model.staleGroups.add(id);
    else lane.model.uncertain.add(id);
  };
}

/** A hostile write to `resource` (and `id`): any sane answer, its effect recorded. */
function write(lane: Lane, kind: string, method: string, resource: Resource, id: string | undefined, http: HttpSend, expect: Expectation = {}): Case {
  return {
    cls: 'hostile',
    kind,
    http,
    expect,
    after: (res, body) => recordEffect(lane, method, resource, id, res, body),
    onNoAnswer: noAnswer(lane, method, resource, id),
  };
}

/** A valid request body to start from, and where it goes. */
function baseRequest(lane: Lane): { method: string; resource: Resource; id?: string; path: string; body: unknown } {
  const user = lane.someUser();
  const group = lane.someGroup();
  const choice = lane.rng.int(0, 3);
  if (choice === 1 && user) {
    const ops = [
      {
        op: 'replace',
        path: lane.rng.pick(['title', 'displayName', 'name.givenName', 'active']),
        value: lane.rng.chance(0.2) ? false : validText(lane.rng, 1, 20),
      },
    ];
    return { method: 'PATCH', resource: 'Users', id: user.id, path: `/Users/${user.id}`, body: patchBody(ops) };
  }
  if (choice === 2) return { method: 'POST', resource: 'Groups', path: '/Groups', body: groupBody(lane.newGroupName(), lane.someUsers(5), lane.rng) };
  if (choice === 3 && group) {
    const ids = lane.someUsers(5);
    return {
      method: 'PATCH',
      resource: 'Groups',
      id: group.id,
      path: `/Groups/${group.id}`,
      body: patchBody([{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }]),
    };
  }
  return { method: 'POST', resource: 'Users', path: '/Users', body: userBody(lane.rng, lane.newUserName()).body };
}

const SPLICES = [
  'null',
  'true',
  '"x"',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\\u0000',
  '\\ud800',
  '\\udc00x',
  '1e999',
  '-0',
  '""',
  '{}',
  '[]',
  '"__proto__":{"admin":true},',
  '"constructor":{"prototype":{"x":1}},',
  '"userName":"a@b.c",',
  '"active":"False",',
  '\u0000',
  '\u2028',
  '😀',
  '\uD800',
];

/** 1 to 4 random edits of JSON text: replace, delete, insert, duplicate, truncate. */
export function mutateJson(rng: Random, text: string): string {
  let out = text;
  for (let n = rng.int(1, 4); n > 0 && out.length; n--) {
    const at = rng.int(0, out.length - 1);
    switch (rng.int(0, 5)) {
      case 0:
        out = out.slice(0, at) + rng.pick(SPLICES) + out.slice(at + 1);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + rng.int(1, 12));
        break;
      case 2:
        out = out.slice(0, at) + rng.pick(SPLICES) + out.slice(at);
        break;
      case 3: {
        const span = out.slice(at, at + rng.int(1, 40));
        out = out.slice(0, at) + span + span + out.slice(at + span.length);
        break;
      }
      case 4:
        out = out.slice(0, at);
        break;
      default:
        // A value of another type in place of a string.
        out = out.replace(/"[^"\\]{0,40}"(?=\s*[,}\]])/, () => rng.pick(['12', '[1,2]', '{"value":"x"}', 'null', 'true', '"False"']));
    }
  }
  return out;
}

function mutatedJson(lane: Lane): Case {
  const base = baseRequest(lane);
  const text = mutateJson(lane.rng, JSON.stringify(base.body));
  return write(
    lane,
    `mutated-json.${base.method.toLowerCase()}-${base.resource.toLowerCase()}`,
    base.method,
    base.resource,
    base.id,
    lane.scim(base.method, base.path, text),
  );
}

/** JSON `levels` deep of arrays or objects around `inner`. */
function nested(levels: number, objects: boolean, inner = '"x"'): string {
  return objects ? '{"a":'.repeat(levels) + inner + '}'.repeat(levels) : '['.repeat(levels) + inner + ']'.repeat(levels);
}

function deepNesting(lane: Lane): Case {
  const rng = lane.rng;
  const levels = rng.weighted<() => number>([
    [3, () => rng.int(1, 29)],
    [4, () => rng.int(29, 36)],
    [1, () => 100],
    [1, () => rng.int(1000, 5000)],
    [0.5, () => 200_000],
  ])();
  const objects = rng.chance(0.5);
  const deep = nested(levels, objects);
  const user = lane.someUser();
  const where = rng.int(0, user ? 4 : 2);
  const userName = lane.newUserName();
  let method = 'POST';
  const resource: Resource = 'Users';
  let id: string | undefined;
  let path = '/Users';
  let body: string;
  let depth: number;
  if (where === 0) {
    // An attribute the bridge ignores: the nesting must be refused before anything walks it.
    body = `{"schemas":["${USER_SCHEMA}"],"userName":${JSON.stringify(userName)},"x-unknown":${deep}}`;
    depth = levels + 1;
  } else if (where === 1) {
    body = `{"schemas":["${USER_SCHEMA}","${ENTERPRISE_USER_SCHEMA}"],"userName":${JSON.stringify(userName)},"${ENTERPRISE_USER_SCHEMA}":{"department":${deep}}}`;
    depth = levels + 2;
  } else if (where === 2) {
    body = deep;
    depth = levels;
  } else {
    method = 'PATCH';
    id = user!.id;
    path = `/Users/${id}`;
    body =
      where === 3
        ? `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":${deep}}]}`
        : `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":${deep},"path":"title"}]}`;
    depth = levels + 3;
  }
  const bytes = Buffer.byteLength(body);
  const expect: Expectation =
    bytes > BODY_LIMIT ? { statuses: [413], boundMs: 15_000 } : depth > MAX_JSON_DEPTH ? { statuses: [400], scimType: ['invalidSyntax'] } : {};
  return write(lane, `deep-json.${depth > MAX_JSON_DEPTH ? 'over' : 'within'}`, method, resource, id, lane.scim(method, path, body), expect);
}

function hugeString(lane: Lane): Case {
  const rng = lane.rng;
  const size = rng.weighted<number>([
    [3, 300],
    [3, 5000],
    [3, 70_000],
    [0.5, 300_000],
    [2, 1_050_000],
    [1, 3_000_000],
  ]);
  const unit = rng.pick(['a', 'é', '😀', '中']);
  const huge = unit.repeat(Math.ceil(size / unit.length));
  const target = rng.pick(['userName', 'title', 'groupName', 'filter']);
  let http: HttpSend;
  let resource: Resource = 'Users';
  let expect: Expectation;
  if (target === 'filter') {
    // A query string over the header limit is the parser's 431; under it, a filter over 4,096 characters is a 400.
    const filter = `title eq "${huge.slice(0, 20_000)}"`;
    http = lane.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
    const bytes = Buffer.byteLength(http.path);
    expect = bytes > 16_000 ? { statuses: [431] } : filter.length > 4096 ? { statuses: [400], scimType: ['invalidFilter'] } : { statuses: [200] };
  } else if (target === 'groupName') {
    resource = 'Groups';
    http = lane.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: huge });
    expect = Buffer.byteLength(http.body!) > BODY_LIMIT ? { statuses: [413] } : { statuses: [400], scimType: ['invalidValue'] };
  } else {
    const body = userBody(rng, target === 'userName' ? `${huge}@x.example` : lane.newUserName(), 0.1).body;
    if (target === 'title') body.title = huge;
    http = lane.scim('POST', '/Users', body);
    const bytes = Buffer.byteLength(http.body!);
    // A stored user is at most 64 KiB of JSON (a little less than the body that carries it).
    const stored = bytes < MAX_DOCUMENT_BYTES - 2048 ? [201] : bytes > MAX_DOCUMENT_BYTES + 2048 ? [400] : [201, 400];
    expect =
      bytes > BODY_LIMIT
        ? { statuses: [413] }
        : target === 'userName'
          ? { statuses: [400], scimType: ['invalidValue'] }
          : { statuses: stored, scimType: ['invalidValue'] };
  }
  const c = write(lane, `huge.${target}`, http.method, resource, undefined, http, { ...expect, boundMs: 20_000 });
  return inBackground(lane, { ...c, after: (res, body) => recordEffect(lane, http.method, resource, undefined, res, body, lane.background) });
}

/** Hostile text escaped in JSON (NUL and lone surrogates as \u escapes): refused with 400 invalidValue, or stored. */
function oddUnicode(lane: Lane): Case {
  const rng = lane.rng;
  const gen = userBody(rng, lane.newUserName(), 0.2);
  const body = gen.body;
  const text = hostileText(rng, 12);
  const where = rng.int(0, 3);
  if (where === 0) body.title = text;
  else if (where === 1) body.name = { givenName: text, familyName: validText(rng, 1, 8) };
  else if (where === 2) body[ENTERPRISE_USER_SCHEMA] = { department: text };
  else body[`x-${text}`] = 'unknown attribute with an odd name';
  const problem = /\u0000/.test(text) || !(text as string & { isWellFormed(): boolean }).isWellFormed();
  const raw = rng.chance(0.25);
  // Raw: lone surrogates become U+FFFD on the way into UTF-8; raw control characters are not valid JSON.
  const json = JSON.stringify(body);
  const sent = raw ? json.replace(/\\u(00[01][0-9a-f]|d[89a-f][0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))) : json;
  const rawControl = raw && /[\u0000-\u001f]/.test(sent);
  const expect: Expectation = raw
    ? rawControl
      ? { statuses: [400], scimType: ['invalidSyntax'] }
      : { statuses: [201] }
    : problem
      ? { statuses: [400], scimType: ['invalidValue'] }
      : { statuses: [201] };
  const c = write(
    lane,
    `unicode.${raw ? 'raw' : 'escaped'}${problem ? '-refusable' : ''}`,
    'POST',
    'Users',
    undefined,
    lane.scim('POST', '/Users', sent),
    expect,
  );
  return {
    ...c,
    after: (res, parsed) => {
      const wrong = c.after!(res, parsed);
      if (wrong || res.status !== 201 || raw) return wrong;
      // What was stored is what was sent.
      const stored = where === 0 ? parsed.title : where === 1 ? parsed.name?.givenName : where === 2 ? parsed[ENTERPRISE_USER_SCHEMA]?.department : text;
      return stored === text ? undefined : `${JSON.stringify(text)} stored as ${JSON.stringify(stored)}`;
    },
  };
}

/** Invalid UTF-8 inside a JSON string: decoded to U+FFFD (then stored) or refused, never a 5xx. */
function invalidUtf8(lane: Lane): Case {
  const rng = lane.rng;
  const body = userBody(rng, lane.newUserName(), 0.1).body;
  body.title = 'MARK';
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const at = json.indexOf('MARK');
  const bad = Buffer.from(rng.pick([[0xc3, 0x28], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80, 0x80, 0x80]]));
  const sent = Buffer.concat([json.subarray(0, at), bad, json.subarray(at + 4)]);
  const http = lane.scim('POST', '/Users');
  return write(lane, 'utf8.invalid', 'POST', 'Users', undefined, { ...http, headers: lane.headers(true), body: sent }, { statuses: [201, 400] });
}

const FILTER_ATTRS = [
  'userName',
  'USERNAME',
  'displayName',
  'title',
  'active',
  'externalId',
  'id',
  'emails',
  'emails.value',
  'emails.type',
  'name.givenName',
  'name.noSuch',
  'meta.created',
  'meta.lastModified',
  'meta.resourceType',
  'meta.location',
  'groups',
  'groups.display',
  'members',
  'members.value',
  'members.display',
  'phoneNumbers.value',
  `${USER_SCHEMA}:userName`,
  `${ENTERPRISE_USER_SCHEMA}:department`,
  `${ENTERPRISE_USER_SCHEMA}:manager.value`,
  'urn:example:x:1.0:User:y',
  'urn:',
  'x.y.z',
  '$ref',
  'addresses.primary',
];
const FILTER_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'EQ', 'Co', 'pr', 'xx', ''];

function filterValue(rng: Random): string {
  return rng.pick([
    () => JSON.stringify(validText(rng, 0, 12)),
    () => JSON.stringify(hostileText(rng, 6)),
    () => String(rng.int(-1e6, 1e6)),
    () => rng.pick(['true', 'false', 'null', 'True', '1e400', '-0', '0x10', '"2026-01-01T00:00:00Z"', '"\\"', '"\\u00"', '"\\q"', "'single'"]),
  ])();
}

/** A random filter expression: mostly grammatical, sometimes not. */
export function randomFilter(rng: Random, depth = 0): string {
  const leaf = () => {
    const attr = rng.pick(FILTER_ATTRS);
    const op = rng.pick(FILTER_OPS);
    return op === 'pr' ? `${attr} pr` : `${attr} ${op} ${filterValue(rng)}`;
  };
  if (depth > 3 || rng.chance(0.45)) return leaf();
  switch (rng.int(0, 5)) {
    case 0:
      return `${randomFilter(rng, depth + 1)} ${rng.pick(['and', 'or', 'AND', 'Or', 'xor', ''])} ${randomFilter(rng, depth + 1)}`;
    case 1:
      return `not (${randomFilter(rng, depth + 1)})`;
    case 2:
      return `(${randomFilter(rng, depth + 1)})`;
    case 3:
      return `${rng.pick(['emails', 'members', 'addresses', 'groups', 'title', 'name'])}[${randomFilter(rng, depth + 1)}]${rng.chance(0.3) ? '.value' : ''}`;
    case 4:
      return randomFilter(rng, depth + 1).replace(/\s+/g, () => rng.pick([' ', '  ', '\t', '', '\n']));
    default:
      return mutateJson(rng, randomFilter(rng, depth + 1));
  }
}

function randomFilterCase(lane: Lane): Case {
  const resource = lane.rng.pick(['/Users', '/Groups']);
  const filter = randomFilter(lane.rng);
  // encodeURIComponent refuses lone surrogates: send those as the (invalid) UTF-8 escapes of the surrogate itself.
  const encoded = [...filter]
    .map((c) =>
      (c as string & { isWellFormed(): boolean }).isWellFormed()
        ? encodeURIComponent(c)
        : `%ED%${(0xa0 + ((c.charCodeAt(0) >> 6) & 0x1f)).toString(16)}%${(0x80 + (c.charCodeAt(0) & 0x3f)).toString(16)}`,
    )
    .join('');
  return {
    cls: 'hostile',
    kind: 'filter.random',
    http: lane.scim('GET', `${resource}?filter=${encoded}&count=${lane.rng.pick([1, 10, 100])}${resource === '/Groups' ? '&excludedAttributes=members' : ''}`),
    // tooMany: a valid filter over the cost budget (scim/filter-cost.ts) or past the list deadline.
    expect: { statuses: [200, 400], scimType: ['invalidFilter', 'tooMany'] },
  };
}

function oddPath(lane: Lane): Case {
  const rng = lane.rng;
  const user = lane.someUser();
  const [kind, path, expect] = rng.pick<[string, string, Expectation]>([
    ['path.long-id', `${BASE}/Users/${'a'.repeat(rng.int(101, 4000))}`, { statuses: [404] }],
    ['path.bad-percent', `${BASE}/Users/%zz${token(rng, 4)}`, { statuses: [400], scimType: ['invalidValue'] }],
    ['path.lone-percent', `${BASE}/Users/%`, { statuses: [400], scimType: ['invalidValue'] }],
    ['path.nul', `${BASE}/Users/a%00b`, { statuses: [400], scimType: ['invalidValue'] }],
    ['path.encoded-surrogate', `${BASE}/Users/%ED%A0%80`, { statuses: [400, 404] }],
    ['path.unicode-id', `${BASE}/Users/${encodeURIComponent(validText(rng, 1, 20))}`, { statuses: [404] }],
    ['path.extra-segment', `${BASE}/Users/${user?.id ?? 'x'}/extra`, { statuses: [404] }],
    ['path.traversal', `${BASE}/Users/..%2f..%2fetc%2fpasswd`, { statuses: [404] }],
    ['path.dot-segments', `${BASE}/../../Users`, { statuses: [200, 400, 404] }],
    ['path.encoded-dots', `${BASE}/%2e%2e/Users`, { statuses: [200, 400, 404] }],
    ['path.matrix', `${BASE}/Users;jsessionid=${token(rng, 8)}`, { statuses: [200, 404] }],
    ['path.upper-id', `${BASE}/Users/${(user?.id ?? 'abc-def').toUpperCase()}`, { statuses: [404] }],
    ['path.latin1', `${BASE}/Users/caf\u00e9`, { statuses: [400, 404] }],
    ['path.many-slashes', `${'/'.repeat(rng.int(2, 50))}scim/v2/Users?count=1`, { statuses: [200, 404] }],
    ['path.very-long', `${BASE}/${'x/'.repeat(rng.int(100, 3000))}`, { statuses: [404] }],
    // Clients never send a fragment; one that does has it read as part of the query.
    ['path.fragment', `${BASE}/Users?count=1#frag`, { statuses: [200, 400] }],
  ]);
  const method = rng.pick(['GET', 'GET', 'PATCH', 'DELETE', 'PUT']);
  const body =
    method === 'PATCH' ? patchBody([{ op: 'replace', path: 'title', value: 'x' }]) : method === 'PUT' ? userBody(rng, lane.newUserName(), 0.1).body : undefined;
  const http = lane.scim(method, '', body);
  // A write to a path that names no resource is refused; to an existing one the statuses differ by method.
  const statuses = method === 'GET' || !expect.statuses ? expect.statuses : [...new Set([...expect.statuses, 404, 400, 405])];
  return write(lane, kind, method, 'Users', undefined, { ...http, path }, { ...expect, statuses });
}

function oddQuery(lane: Lane): Case {
  const rng = lane.rng;
  const resource = rng.pick(['/Users', '/Groups']);
  const names = Array.from({ length: rng.int(100, 2500) }, (_, i) => `a${i}`).join(',');
  const query = rng.pick([
    'filter=',
    'filter[]=x',
    `filter=${encodeURIComponent('userName eq "a"')}&filter=${encodeURIComponent('userName eq "b"')}`,
    '&&&=&=x&',
    Array.from({ length: rng.int(100, 1500) }, (_, i) => `p${i}=${i}`).join('&'),
    `attributes=${names}`,
    `excludedAttributes=${'members,'.repeat(rng.int(10, 500))}`,
    'count=00000000000000000000001',
    'startIndex=+5&count=%205%20',
    'count=%E2%80%8B5',
    'startIndex=-99999999999999999999999999',
    'count=%00',
    `sortBy=${encodeURIComponent(`${ENTERPRISE_USER_SCHEMA}:manager.value`)}`,
    `sortBy=${encodeURIComponent('name.givenName')}&sortOrder=DESCENDING`,
    'attributes=%ED%A0%80',
    'filter=%ZZ',
    'count=1&startIndex=1&count=2&startIndex=3',
    `q=${'%41'.repeat(rng.int(10, 2000))}`,
    `attributes=${encodeURIComponent('groups.display,members.value,emails[type eq "work"]')}`,
  ]);
  return {
    cls: 'hostile',
    kind: 'query.odd',
    http: lane.scim('GET', `${resource}?${query}`),
    expect: { statuses: [200, 400, 431], scimType: ['invalidValue', 'invalidFilter'] },
  };
}

function oddHeaders(lane: Lane): Case {
  const rng = lane.rng;
  const [kind, extra, check] = rng.pick<[string, Record<string, string>, ((res: Exchange) => string | undefined) | undefined]>([
    [
      'header.bad-request-id',
      { 'x-request-id': `bad id ${'x'.repeat(rng.int(0, 300))}` },
      (res) => (String(res.headers['x-request-id']).startsWith('bad id') ? 'an invalid X-Request-Id was echoed' : undefined),
    ],
    ['header.good-request-id', { 'x-request-id': `fuzz-${token(rng, 12)}` }, undefined],
    [
      'header.forwarded-garbage',
      {
        'x-forwarded-for': Array.from({ length: rng.int(1, 200) }, () => rng.pick(['1.2.3.4', 'garbage', '::1', '999.1.1.1', '', 'unknown'])).join(', '),
        'x-forwarded-proto': 'gopher',
        'x-forwarded-host': 'evil.example',
      },
      (res) => (res.body.includes('evil.example') || res.body.includes('gopher:') ? 'untrusted X-Forwarded-* reached meta.location' : undefined),
    ],
    ['header.accept-garbage', { accept: 'text/html;q=0.9, */*;q=abc, \u00e9' }, undefined],
    ['header.if-match-huge', { 'if-match': `W/"${'9'.repeat(rng.int(100, 8000))}"` }, undefined],
    ['header.many-cookies', { cookie: Array.from({ length: rng.int(10, 400) }, (_, i) => `c${i}=${token(rng, 8)}`).join('; ') }, undefined],
    ['header.content-length-zero', { 'content-length': '0', 'content-type': 'application/scim+json' }, undefined],
  ]);
  const user = lane.someUser();
  const method = kind === 'header.content-length-zero' ? 'POST' : kind === 'header.if-match-huge' && user ? 'PATCH' : 'GET';
  const path =
    method === 'PATCH'
      ? `/Users/${user!.id}`
      : method === 'POST'
        ? '/Users'
        : rng.pick(['/Users?count=2', '/Groups?count=2&excludedAttributes=members', user ? `/Users/${user.id}` : '/Users']);
  const body = method === 'PATCH' ? patchBody([{ op: 'replace', path: 'title', value: 'x' }]) : undefined;
  const http = lane.scim(method, path, body, extra);
  const expect: Expectation =
    method === 'PATCH' ? { statuses: [412] } : method === 'POST' ? { statuses: [400], scimType: ['invalidSyntax'] } : { statuses: [200, 431] };
  const c = write(lane, kind, method, 'Users', user?.id, http, expect);
  return { ...c, after: (res, parsed) => c.after!(res, parsed) ?? check?.(res) };
}

function badContentType(lane: Lane): Case {
  const rng = lane.rng;
  const json = JSON.stringify(userBody(rng, lane.newUserName(), 0.1).body);
  const [kind, type, body, statuses] = rng.pick<[string, string | undefined, string | Buffer, number[]]>([
    ['content-type.form', 'application/x-www-form-urlencoded', 'userName=a%40b.example&active=true', [400]],
    [
      'content-type.multipart',
      'multipart/form-data; boundary=xyz',
      `--xyz\r\nContent-Disposition: form-data; name="userName"\r\n\r\na@b.example\r\n--xyz--\r\n`,
      [400],
    ],
    ['content-type.utf16-charset', 'application/json; charset=utf-16', json, [201, 400]],
    ['content-type.latin1-charset', 'application/scim+json; charset=latin1', json, [201, 400]],
    ['content-type.xml', 'text/xml', '<user><userName>a@b.example</userName></user>', [400]],
    ['content-type.empty', '', json, [201, 400]],
    ['content-type.utf16-body', 'application/json', Buffer.from(json, 'utf16le'), [400]],
    ['content-type.bom', 'application/json', `\uFEFF${json}`, [201, 400]],
    ['content-type.garbage', ';;;/=', json, [201, 400]],
    ['content-type.absent', undefined, json, [201, 400]],
  ]);
  const headers = lane.headers(false, type === undefined ? {} : { 'content-type': type });
  return write(lane, kind, 'POST', 'Users', undefined, { method: 'POST', path: `${BASE}/Users`, headers, body, timeoutMs: 20_000 }, { statuses });
}

function oddMethod(lane: Lane): Case {
  const rng = lane.rng;
  const user = lane.someUser();
  const [method, path] = rng.pick<[string, string]>([
    ['OPTIONS', '/Users'],
    ['TRACE', '/Users'],
    ['PROPFIND', '/Users'],
    ['SEARCH', '/Users'],
    ['HEAD', `/Users/${user?.id ?? 'x'}`],
    ['DELETE', '/Users'],
    ['PUT', '/Users'],
    ['POST', `/Users/${user?.id ?? 'x'}`],
    ['PATCH', '/Groups'],
    ['LOCK', '/Groups'],
    ['POST', '/ServiceProviderConfig'],
  ]);
  return {
    cls: 'hostile',
    kind: `method.${method.toLowerCase()}`,
    http: lane.scim(method, path),
    expect: { statuses: [200, 204, 400, 404, 405], noBody: method === 'HEAD' },
  };
}

/** The status page's API with odd paging and search: a 200 or a 400, never more. */
function oddStatusApi(lane: Lane): Case {
  const rng = lane.rng;
  const query = rng.pick([
    `q=${encodeURIComponent(rng.pick(['%', '_', '\\', '%_\\%', "' OR 1=1 --", 'user.create', validText(rng, 1, 30)]))}`,
    `q=${'x'.repeat(rng.int(190, 5000))}`,
    'q=a%00b',
    `limit=${rng.pick(['0', '-1', '1e9', 'abc', '999999999999999999999', '200', '1.5', ''])}`,
    `before=${rng.pick(['0', '-5', 'abc', '9007199254740993', '1', ''])}`,
    `outcome=${rng.pick(['success', 'refused', 'failed', 'SUCCESS', 'weird', ''])}`,
    'limit=5&limit=6',
  ]);
  return {
    cls: 'hostile',
    kind: 'status-api.odd',
    http: { method: 'GET', path: `/api/events?${query}`, headers: lane.headers(), timeoutMs: 20_000 },
    expect: { statuses: [200, 400], scimType: ['invalidValue'] },
  };
}

export function hostileCase(lane: Lane): Case {
  return lane.rng.weighted<(l: Lane) => Case>([
    [8, mutatedJson],
    [3, deepNesting],
    [1.5, hugeString],
    [4, oddUnicode],
    [1.5, invalidUtf8],
    [5, randomFilterCase],
    [4, oddPath],
    [3, oddQuery],
    [2, oddHeaders],
    [2, badContentType],
    [1, oddMethod],
    [1, oddStatusApi],
  ])(lane);
}

// ---- raw sockets ----

function head(lane: Lane, method: string, path: string, extra: string[] = [], auth = true): string {
  return [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...(auth ? [`Authorization: Bearer ${lane.options.token}`] : []),
    `User-Agent: ${lane.agent}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

function raw(
  kind: string,
  pieces: (string | Buffer)[],
  expect: Expectation,
  options: { pauseMs?: number; abandon?: boolean; answers?: number; timeoutMs?: number } = {},
  after?: Case['after'],
): Case {
  return {
    cls: 'raw',
    kind,
    raw: { pieces, pauseMs: options.pauseMs, abandon: options.abandon, answers: options.answers, timeoutMs: options.timeoutMs ?? 15_000 },
    expect,
    after,
  };
}

function createdRaw(lane: Lane, model = lane.model): Case['after'] {
  return (res, body) => recordEffect(lane, 'POST', 'Users', undefined, res, body, model);
}

/** Slow by design: sent beside the lane's stream; what it creates goes to the background model. */
function inBackground(lane: Lane, c: Case): Case {
  return { ...c, background: true, onNoAnswer: () => lane.background.uncertainCreates++ };
}

export function rawCase(lane: Lane): Case {
  const rng = lane.rng;
  const bad: Expectation = { statuses: [400] };
  const json = () => JSON.stringify(userBody(rng, lane.newUserName(), 0.1).body);
  const choices: [number, () => Case][] = [
    [3, () => raw('raw.garbage-line', [rng.pick(['GARBAGE\r\n\r\n', `${validText(rng, 1, 40)}\r\n\r\n`, 'GET\r\n\r\n', 'GET / HTTP/1.1 extra\r\n\r\n'])], bad)],
    [1, () => raw('raw.bad-version', ['GET /ping HTTP/9.9\r\nHost: x\r\n\r\n'], bad)],
    [1, () => raw('raw.no-host', ['GET /ping HTTP/1.1\r\n\r\n'], bad)],
    [1, () => raw('raw.header-no-colon', [`GET /ping HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n`], bad)],
    [1, () => raw('raw.header-nul', [Buffer.from('GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 'latin1')], bad)],
    [1, () => raw('raw.obs-fold', ['GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n'], bad)],
    [
      1,
      () =>
        raw(
          'raw.cl-and-te',
          [head(lane, 'POST', `${BASE}/Users`, ['Content-Type: application/scim+json', 'Content-Length: 5', 'Transfer-Encoding: chunked']), '0\r\n\r\n'],
          bad,
        ),
    ],
    [
      1,
      () =>
        raw(
          'raw.te-obfuscated',
          [
            head(lane, 'POST', `${BASE}/Users`, [
              'Content-Type: application/scim+json',
              `Transfer-Encoding: ${rng.pick(['xchunked', 'chunked, identity', 'chunked\t', ' chunked'])}`,
            ]),
            '0\r\n\r\n',
          ],
          { statuses: [400, 201, 411] },
          {},
          createdRaw(lane),
        ),
    ],
    [
      1,
      () =>
        raw(
          'raw.bad-chunk',
          [head(lane, 'POST', `${BASE}/Users`, ['Content-Type: application/scim+json', 'Transfer-Encoding: chunked']), `zz\r\n${json()}\r\n0\r\n\r\n`],
          bad,
        ),
    ],
    [
      2,
      () => {
        const body = json();
        const mid = Math.floor(body.length / 2);
        const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
        return raw(
          'raw.chunked-create',
          [
            head(lane, 'POST', `${BASE}/Users`, ['Content-Type: application/scim+json', 'Transfer-Encoding: chunked']),
            chunk(body.slice(0, mid)),
            chunk(body.slice(mid)),
            '0\r\n\r\n',
          ],
          { statuses: [201] },
          {},
          createdRaw(lane),
        );
      },
    ],
    [
      1,
      () => {
        const body = json();
        // The truncated body is a 400; the bytes after it are a malformed next request, which may be refused first.
        return raw(
          'raw.short-content-length',
          [head(lane, 'POST', `${BASE}/Users`, ['Content-Type: application/scim+json', `Content-Length: ${Buffer.byteLength(body) - 5}`]) + body],
          { statuses: [400] },
        );
      },
    ],
    [
      1,
      () =>
        raw(
          'raw.abandoned-body',
          [head(lane, 'POST', `${BASE}/Users`, ['Content-Type: application/scim+json', 'Content-Length: 5000']), json().slice(0, 20)],
          { answerOptional: true },
          { abandon: true },
        ),
    ],
    [
      2,
      () =>
        raw(
          'raw.pipelined',
          [head(lane, 'GET', '/ping') + head(lane, 'GET', `${BASE}/ServiceProviderConfig`) + head(lane, 'GET', `${BASE}/Users?count=1`)],
          { statuses: [200] },
          { answers: 3 },
          (res) =>
            res.more?.length === 2 && res.more.every((m) => m.status === 200)
              ? undefined
              : `pipelined requests answered ${res.status} then ${JSON.stringify(res.more?.map((m) => m.status))}`,
        ),
    ],
    [1, () => raw('raw.huge-header', [head(lane, 'GET', '/ping', [`X-Big: ${'b'.repeat(rng.int(17_000, 70_000))}`])], { statuses: [431] })],
    [1, () => raw('raw.http10', ['GET /ping HTTP/1.0\r\n\r\n'], { statuses: [200] })],
    [
      1,
      () => {
        const text = head(lane, 'GET', `${BASE}/Users?count=1`);
        const count = rng.int(3, 10);
        const pieces = Array.from({ length: count }, (_, i) => text.slice(Math.floor((i * text.length) / count), Math.floor(((i + 1) * text.length) / count)));
        return inBackground(lane, raw('raw.slow-headers', pieces, { statuses: [200], boundMs: 10_000 }, { pauseMs: rng.int(20, 150) }));
      },
    ],
    [1, () => raw('raw.tls-hello', [Buffer.from(`16030100a5010000a10303${'00'.repeat(40)}`, 'hex')], bad)],
    [
      1,
      () =>
        raw(
          'raw.upgrade',
          [
            head(lane, 'GET', `${BASE}/Users`, [
              'Connection: Upgrade',
              rng.pick(['Upgrade: websocket', 'Upgrade: h2c']),
              'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
              'Sec-WebSocket-Version: 13',
            ]),
          ],
          { answerOptional: true, statuses: [200, 400, 404, 426] },
        ),
    ],
    [1, () => raw('raw.connect', ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'], { answerOptional: true, statuses: [400, 404, 405] })],
    [
      1,
      () => {
        const body = json();
        return raw(
          'raw.expect-continue',
          [
            head(lane, 'POST', `${BASE}/Users`, ['Content-Type: application/scim+json', `Content-Length: ${Buffer.byteLength(body)}`, 'Expect: 100-continue']),
            body,
          ],
          { statuses: [201] },
          { pauseMs: 30 },
          createdRaw(lane),
        );
      },
    ],
    [
      1,
      () => {
        const body = json();
        const h = head(
          lane,
          'POST',
          `${BASE}/Users`,
          ['Content-Type: application/scim+json', `Content-Length: ${Buffer.byteLength(body)}`, 'Expect: 100-continue'],
          false,
        );
        return raw('raw.expect-continue-unauthenticated', [h, body], { statuses: [401, 429] }, { pauseMs: 30 });
      },
    ],
    [
      1,
      () =>
        raw(
          'raw.invalid-utf8-path',
          [Buffer.concat([Buffer.from(`GET ${BASE}/Users/`), Buffer.from([0xff, 0xc0, 0xaf]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])],
          { statuses: [400, 404] },
        ),
    ],
    [1, () => raw('raw.nul-in-path', [Buffer.from(`GET ${BASE}/Users/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1')], bad)],
    [
      1,
      () =>
        raw('raw.absolute-form', [`GET http://evil.example${BASE}/ServiceProviderConfig HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`], { statuses: [200, 400, 404] }),
    ],
    [1, () => raw('raw.asterisk-form', ['OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { statuses: [400, 404] })],
    [
      1,
      () =>
        raw(
          'raw.header-bytes',
          [
            Buffer.concat([
              Buffer.from('GET /ping HTTP/1.1\r\nHost: x\r\nX-Odd: '),
              Buffer.from(`${HOSTILE_CHARS.join('')}é`, 'utf8'),
              Buffer.from('\r\n\r\n'),
            ]),
          ],
          { statuses: [200, 400] },
        ),
    ],
    [
      3,
      () => {
        // A slow body from a well-formed client: answered normally.
        const body = json();
        const http = lane.scim('POST', '/Users', body);
        return inBackground(lane, {
          cls: 'raw',
          kind: 'raw.slow-body',
          http: { ...http, slow: { pieces: rng.int(3, 12), pauseMs: rng.int(20, 120) } },
          expect: { statuses: [201], boundMs: 10_000 },
          after: createdRaw(lane, lane.background),
        });
      },
    ],
  ];
  if (lane.options.heavy) {
    // Empty lines before a request line are skipped (RFC 9112 §2.2): the bridge waits for the line until its 10 s header timeout.
    choices.push([0.2, () => inBackground(lane, raw('raw.empty-lines', ['\r\n\r\n\r\n'], { statuses: [408], boundMs: 15_000 }, { timeoutMs: 20_000 }))]);
    choices.push([
      0.1,
      () => {
        const http = lane.scim('POST', '/Users');
        return inBackground(lane, {
          cls: 'raw',
          kind: 'raw.12mib-body',
          http: { ...http, headers: lane.headers(true), body: Buffer.alloc(12 * 1024 * 1024, 0x61), timeoutMs: 30_000 },
          expect: { statuses: [413], boundMs: 30_000 },
        });
      },
    ]);
  }
  return rng.weighted(choices)();
}
