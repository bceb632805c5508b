import {
  type AttributeDef,
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  ERROR_SCHEMA,
  GROUP_SCHEMA,
  LIST_RESPONSE_SCHEMA,
  PATCH_OP_SCHEMA,
  RESOURCE_TYPE_SCHEMA,
  SCHEMAS,
  SCHEMA_SCHEMA,
  SERVICE_PROVIDER_CONFIG_SCHEMA,
  USER_SCHEMA,
  canonicalName,
  resolveAttribute,
  resourceTypes,
  schemaRepresentation,
  schemasFor,
  serviceProviderConfig,
} from '../../bridge/src/scim/schemas';
import { ERROR_SCHEMA as ERRORS_MODULE_SCHEMA } from '../../bridge/src/scim/errors';

const BASE = 'https://scim.example.com/scim/v2';

function topLevel(schemaId: string, name: string): AttributeDef {
  const def = SCHEMAS.find((s) => s.id === schemaId)?.attributes.find((a) => a.name === name);
  if (!def) throw new Error(`${schemaId} has no ${name}`);
  return def;
}

const subNames = (def: AttributeDef | undefined) => def?.subAttributes?.map((s) => s.name);

describe('schema URNs', () => {
  it('are the RFC 7643 / RFC 7644 URNs', () => {
    expect(USER_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:User');
    expect(GROUP_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:Group');
    expect(ENTERPRISE_USER_SCHEMA).toBe('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');
    expect(LIST_RESPONSE_SCHEMA).toBe('urn:ietf:params:scim:api:messages:2.0:ListResponse');
    expect(PATCH_OP_SCHEMA).toBe('urn:ietf:params:scim:api:messages:2.0:PatchOp');
    expect(ERROR_SCHEMA).toBe('urn:ietf:params:scim:api:messages:2.0:Error');
    expect(SERVICE_PROVIDER_CONFIG_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig');
    expect(RESOURCE_TYPE_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:ResourceType');
    expect(SCHEMA_SCHEMA).toBe('urn:ietf:params:scim:schemas:core:2.0:Schema');
  });

  it('agree with the error module on the error URN', () => {
    expect(ERROR_SCHEMA).toBe(ERRORS_MODULE_SCHEMA);
  });
});

describe('SCHEMAS', () => {
  it('holds User, Group and EnterpriseUser', () => {
    expect(SCHEMAS.map((s) => [s.id, s.name])).toEqual([
      [USER_SCHEMA, 'User'],
      [GROUP_SCHEMA, 'Group'],
      [ENTERPRISE_USER_SCHEMA, 'EnterpriseUser'],
    ]);
  });

  it('lists every RFC 7643 §4.1 User attribute, and no common attribute', () => {
    expect(SCHEMAS[0].attributes.map((a) => a.name)).toEqual([
      'userName',
      'name',
      'displayName',
      'nickName',
      'profileUrl',
      'title',
      'userType',
      'preferredLanguage',
      'locale',
      'timezone',
      'active',
      'password',
      'emails',
      'phoneNumbers',
      'ims',
      'photos',
      'addresses',
      'groups',
      'entitlements',
      'roles',
      'x509Certificates',
    ]);
    for (const schema of SCHEMAS) {
      expect(schema.attributes.map((a) => a.name)).not.toEqual(expect.arrayContaining(['id']));
      expect(schema.attributes.map((a) => a.name)).not.toEqual(expect.arrayContaining(['externalId']));
      expect(schema.attributes.map((a) => a.name)).not.toEqual(expect.arrayContaining(['meta']));
    }
  });

  it('gives userName required, case-insensitive, server-unique', () => {
    expect(topLevel(USER_SCHEMA, 'userName')).toMatchObject({
      type: 'string',
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server',
    });
  });

  it('never returns the password and only accepts it', () => {
    expect(topLevel(USER_SCHEMA, 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
  });

  it('makes groups and all of its sub-attributes read-only', () => {
    const groups = topLevel(USER_SCHEMA, 'groups');
    expect(groups).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readOnly' });
    expect(subNames(groups)).toEqual(['value', '$ref', 'display', 'type']);
    expect(groups.subAttributes!.every((s) => s.mutability === 'readOnly')).toBe(true);
    expect(groups.subAttributes!.find((s) => s.name === 'type')?.canonicalValues).toEqual(['direct', 'indirect']);
  });

  it('gives name its six sub-attributes', () => {
    const name = topLevel(USER_SCHEMA, 'name');
    expect(name).toMatchObject({ type: 'complex', multiValued: false });
    expect(subNames(name)).toEqual(['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']);
  });

  it('shapes the multi-valued attributes with value/display/type/primary and the RFC canonical types', () => {
    const types = (name: string) => topLevel(USER_SCHEMA, name).subAttributes!.find((s) => s.name === 'type')?.canonicalValues;
    for (const name of ['emails', 'phoneNumbers', 'ims', 'photos', 'entitlements', 'roles', 'x509Certificates']) {
      const def = topLevel(USER_SCHEMA, name);
      expect(def).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readWrite' });
      expect(subNames(def)).toEqual(['value', 'display', 'type', 'primary']);
      expect(def.subAttributes!.find((s) => s.name === 'primary')?.type).toBe('boolean');
    }
    expect(types('emails')).toEqual(['work', 'home', 'other']);
    expect(types('phoneNumbers')).toEqual(['work', 'home', 'mobile', 'fax', 'pager', 'other']);
    expect(types('ims')).toEqual(['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']);
    expect(types('photos')).toEqual(['photo', 'thumbnail']);
    expect(topLevel(USER_SCHEMA, 'photos').subAttributes![0]).toMatchObject({ type: 'reference', referenceTypes: ['external'] });
    expect(topLevel(USER_SCHEMA, 'x509Certificates').subAttributes![0].type).toBe('binary');
    expect(subNames(topLevel(USER_SCHEMA, 'addresses'))).toEqual([
      'formatted',
      'streetAddress',
      'locality',
      'region',
      'postalCode',
      'country',
      'type',
      'primary',
    ]);
  });

  it('types active as boolean and profileUrl as an external reference', () => {
    expect(topLevel(USER_SCHEMA, 'active').type).toBe('boolean');
    expect(topLevel(USER_SCHEMA, 'profileUrl')).toMatchObject({ type: 'reference', referenceTypes: ['external'] });
  });

  it('gives Group displayName and members{value,$ref,display,type}', () => {
    expect(SCHEMAS[1].attributes.map((a) => a.name)).toEqual(['displayName', 'members']);
    const members = topLevel(GROUP_SCHEMA, 'members');
    expect(members).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readWrite' });
    expect(subNames(members)).toEqual(['value', '$ref', 'display', 'type']);
    // Members are users only (groups do not nest in the bridge), so discovery names no Group reference.
    expect(members.subAttributes!.find((s) => s.name === '$ref')).toMatchObject({ type: 'reference', referenceTypes: ['User'] });
    expect(members.subAttributes!.find((s) => s.name === 'type')?.canonicalValues).toEqual(['User']);
    expect(members.subAttributes!.find((s) => s.name === 'value')?.mutability).toBe('immutable');
  });

  it('gives the enterprise extension its attributes and a manager with a read-only displayName', () => {
    expect(SCHEMAS[2].attributes.map((a) => a.name)).toEqual(['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager']);
    const manager = topLevel(ENTERPRISE_USER_SCHEMA, 'manager');
    expect(subNames(manager)).toEqual(['value', '$ref', 'displayName']);
    expect(manager.subAttributes!.find((s) => s.name === 'displayName')?.mutability).toBe('readOnly');
    expect(manager.subAttributes!.find((s) => s.name === '$ref')?.referenceTypes).toEqual(['User']);
  });

  it('fills every characteristic on every attribute, at any depth', () => {
    const all = (defs: readonly AttributeDef[]): AttributeDef[] => defs.flatMap((d) => [d, ...all(d.subAttributes ?? [])]);
    for (const def of all([...SCHEMAS.flatMap((s) => s.attributes), ...COMMON_ATTRIBUTES])) {
      expect(typeof def.description).toBe('string');
      expect(def.description.length).toBeGreaterThan(0);
      expect(typeof def.multiValued).toBe('boolean');
      expect(typeof def.required).toBe('boolean');
      expect(typeof def.caseExact).toBe('boolean');
      expect(['readOnly', 'readWrite', 'immutable', 'writeOnly']).toContain(def.mutability);
      expect(['always', 'never', 'default', 'request']).toContain(def.returned);
      expect(['none', 'server', 'global']).toContain(def.uniqueness);
      expect(def.type === 'complex').toBe(def.subAttributes !== undefined);
    }
  });

  it('cannot be changed by a careless caller', () => {
    const userName = topLevel(USER_SCHEMA, 'userName') as { caseExact: boolean };
    expect(() => {
      userName.caseExact = true;
    }).toThrow(TypeError);
    expect(() => (SCHEMAS as unknown as unknown[]).push([])).toThrow(TypeError);
    expect(topLevel(USER_SCHEMA, 'userName').caseExact).toBe(false);
  });
});

describe('COMMON_ATTRIBUTES', () => {
  const common = (name: string) => COMMON_ATTRIBUTES.find((a) => a.name === name)!;

  it('are id, externalId and meta', () => {
    expect(COMMON_ATTRIBUTES.map((a) => a.name)).toEqual(['id', 'externalId', 'meta']);
  });

  it('make id read-only, case-exact, always returned and server-unique', () => {
    expect(common('id')).toMatchObject({ mutability: 'readOnly', caseExact: true, returned: 'always', uniqueness: 'server' });
  });

  it('make externalId writable and case-exact', () => {
    expect(common('externalId')).toMatchObject({ type: 'string', mutability: 'readWrite', caseExact: true });
  });

  it('make meta a read-only complex attribute with typed sub-attributes', () => {
    const meta = common('meta');
    expect(meta).toMatchObject({ type: 'complex', mutability: 'readOnly' });
    expect(meta.subAttributes!.map((s) => [s.name, s.type])).toEqual([
      ['resourceType', 'string'],
      ['created', 'dateTime'],
      ['lastModified', 'dateTime'],
      ['location', 'reference'],
      ['version', 'string'],
    ]);
    expect(meta.subAttributes!.every((s) => s.mutability === 'readOnly')).toBe(true);
    expect(meta.subAttributes!.find((s) => s.name === 'version')?.caseExact).toBe(true);
  });
});

describe('schemasFor', () => {
  it('gives User the core User schema and the enterprise extension', () => {
    const { core, extensions } = schemasFor('User');
    expect(core.id).toBe(USER_SCHEMA);
    expect(extensions.map((e) => e.id)).toEqual([ENTERPRISE_USER_SCHEMA]);
  });

  it('gives Group the core Group schema and no extension', () => {
    const { core, extensions } = schemasFor('Group');
    expect(core.id).toBe(GROUP_SCHEMA);
    expect(extensions).toEqual([]);
  });
});

describe('resolveAttribute', () => {
  it('finds core attributes by bare name in any case, with the canonical path', () => {
    for (const attr of ['userName', 'USERNAME', 'username']) {
      const resolved = resolveAttribute('User', { attr });
      expect(resolved).toMatchObject({ schemaId: USER_SCHEMA, path: 'userName' });
      expect(resolved?.def.name).toBe('userName');
      expect(resolved?.parent).toBeUndefined();
    }
  });

  it('finds sub-attributes in any case and names their parent', () => {
    const resolved = resolveAttribute('User', { attr: 'NAME', sub: 'GivenName' });
    expect(resolved).toMatchObject({ schemaId: USER_SCHEMA, path: 'name.givenName' });
    expect(resolved?.def.name).toBe('givenName');
    expect(resolved?.parent?.name).toBe('name');
    expect(resolveAttribute('User', { attr: 'emails', sub: 'VALUE' })).toMatchObject({ path: 'emails.value' });
  });

  it('accepts the core schema URN as a prefix, in any case, and drops it from the path', () => {
    expect(resolveAttribute('User', { uri: USER_SCHEMA, attr: 'userName' })).toMatchObject({ schemaId: USER_SCHEMA, path: 'userName' });
    expect(resolveAttribute('User', { uri: USER_SCHEMA.toUpperCase(), attr: 'name', sub: 'familyName' })).toMatchObject({
      path: 'name.familyName',
    });
    expect(resolveAttribute('Group', { uri: GROUP_SCHEMA, attr: 'displayName' })).toMatchObject({ schemaId: GROUP_SCHEMA, path: 'displayName' });
  });

  it("refuses the other kind's core URN", () => {
    expect(resolveAttribute('Group', { uri: USER_SCHEMA, attr: 'displayName' })).toBeUndefined();
    expect(resolveAttribute('User', { uri: GROUP_SCHEMA, attr: 'displayName' })).toBeUndefined();
  });

  it('finds enterprise attributes behind their URN, in any case, with the URN in the path', () => {
    const department = resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA, attr: 'department' });
    expect(department).toMatchObject({ schemaId: ENTERPRISE_USER_SCHEMA, path: `${ENTERPRISE_USER_SCHEMA}:department` });
    expect(department?.def.type).toBe('string');
    expect(resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA.toLowerCase(), attr: 'DEPARTMENT' })).toMatchObject({
      schemaId: ENTERPRISE_USER_SCHEMA,
      path: `${ENTERPRISE_USER_SCHEMA}:department`,
    });
  });

  it('finds manager.value behind the enterprise URN', () => {
    const resolved = resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA, attr: 'manager', sub: 'value' });
    expect(resolved).toMatchObject({ schemaId: ENTERPRISE_USER_SCHEMA, path: `${ENTERPRISE_USER_SCHEMA}:manager.value` });
    expect(resolved?.parent?.name).toBe('manager');
    expect(resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA, attr: 'Manager', sub: 'DisplayName' })?.def.mutability).toBe('readOnly');
  });

  it('does not find extension attributes by bare name or behind the core URN', () => {
    expect(resolveAttribute('User', { attr: 'department' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: 'manager', sub: 'value' })).toBeUndefined();
    expect(resolveAttribute('User', { uri: USER_SCHEMA, attr: 'employeeNumber' })).toBeUndefined();
  });

  it('does not find core or common attributes behind the extension URN', () => {
    expect(resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA, attr: 'userName' })).toBeUndefined();
    expect(resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA, attr: 'id' })).toBeUndefined();
  });

  it('gives Group no enterprise extension', () => {
    expect(resolveAttribute('Group', { uri: ENTERPRISE_USER_SCHEMA, attr: 'department' })).toBeUndefined();
  });

  it('finds common attributes by bare name and behind the core URN, for both kinds', () => {
    for (const kind of ['User', 'Group'] as const) {
      expect(resolveAttribute(kind, { attr: 'ID' })).toMatchObject({ schemaId: schemasFor(kind).core.id, path: 'id' });
      expect(resolveAttribute(kind, { attr: 'externalid' })?.def.caseExact).toBe(true);
      const lastModified = resolveAttribute(kind, { attr: 'META', sub: 'LASTMODIFIED' });
      expect(lastModified).toMatchObject({ path: 'meta.lastModified' });
      expect(lastModified?.def.type).toBe('dateTime');
      expect(lastModified?.parent?.name).toBe('meta');
    }
    expect(resolveAttribute('User', { uri: USER_SCHEMA, attr: 'externalId' })).toMatchObject({ path: 'externalId' });
  });

  it('keeps the kinds apart', () => {
    expect(resolveAttribute('Group', { attr: 'userName' })).toBeUndefined();
    expect(resolveAttribute('Group', { attr: 'emails', sub: 'value' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: 'members' })).toBeUndefined();
  });

  it('resolves members sub-attributes including $ref', () => {
    expect(resolveAttribute('Group', { attr: 'members', sub: 'value' })).toMatchObject({ path: 'members.value' });
    expect(resolveAttribute('Group', { attr: 'Members', sub: '$REF' })).toMatchObject({ path: 'members.$ref' });
    expect(resolveAttribute('Group', { attr: 'members', sub: 'display' })?.def.type).toBe('string');
    expect(resolveAttribute('Group', { attr: 'members', sub: 'type' })?.def.canonicalValues).toEqual(['User']);
  });

  it('returns the schema characteristics a filter or PATCH depends on', () => {
    expect(resolveAttribute('User', { attr: 'userName' })?.def.caseExact).toBe(false);
    expect(resolveAttribute('User', { attr: 'externalId' })?.def.caseExact).toBe(true);
    expect(resolveAttribute('User', { attr: 'id' })?.def.caseExact).toBe(true);
    expect(resolveAttribute('User', { attr: 'password' })?.def.returned).toBe('never');
    expect(resolveAttribute('User', { attr: 'groups' })?.def.mutability).toBe('readOnly');
    expect(resolveAttribute('User', { attr: 'emails' })?.def.multiValued).toBe(true);
    expect(resolveAttribute('User', { attr: 'active' })?.def.type).toBe('boolean');
  });

  it('returns undefined for unknown names, sub-attributes and URNs', () => {
    expect(resolveAttribute('User', { attr: 'nosuch' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: '' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: 'name', sub: 'nosuch' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: 'userName', sub: 'value' })).toBeUndefined();
    expect(resolveAttribute('User', { uri: 'urn:example:unknown:2.0:User', attr: 'userName' })).toBeUndefined();
    // A bare extension URN as parseAttrRef splits it: the URN's last segment is no attribute.
    expect(resolveAttribute('User', { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attr: 'User' })).toBeUndefined();
    expect(resolveAttribute('User', { uri: ENTERPRISE_USER_SCHEMA, attr: '' })).toBeUndefined();
  });

  it('does not confuse object prototype names with attributes', () => {
    expect(resolveAttribute('User', { attr: 'constructor' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: '__proto__' })).toBeUndefined();
    expect(resolveAttribute('User', { attr: 'name', sub: 'toString' })).toBeUndefined();
  });
});

describe('canonicalName', () => {
  it('corrects the case of core and common attribute names', () => {
    expect(canonicalName('User', 'USERNAME')).toBe('userName');
    expect(canonicalName('User', 'phonenumbers')).toBe('phoneNumbers');
    expect(canonicalName('User', 'EXTERNALID')).toBe('externalId');
    expect(canonicalName('Group', 'displayname')).toBe('displayName');
    expect(canonicalName('Group', 'META')).toBe('meta');
  });

  it("knows only the kind's own top-level core and common attributes", () => {
    expect(canonicalName('Group', 'userName')).toBeUndefined();
    expect(canonicalName('User', 'department')).toBeUndefined();
    expect(canonicalName('User', 'givenName')).toBeUndefined();
    expect(canonicalName('User', 'nosuch')).toBeUndefined();
  });
});

describe('schemaRepresentation', () => {
  const user = schemaRepresentation(schemasFor('User').core, BASE);

  it('carries the RFC 7643 §7 fields and a meta location under /Schemas', () => {
    expect(user).toMatchObject({
      schemas: [SCHEMA_SCHEMA],
      id: USER_SCHEMA,
      name: 'User',
      description: expect.any(String),
      meta: { resourceType: 'Schema', location: `${BASE}/Schemas/${USER_SCHEMA}` },
    });
  });

  it('does not double a trailing slash of the base URL', () => {
    const ext = schemaRepresentation(schemasFor('User').extensions[0], `${BASE}/`);
    expect((ext.meta as { location: string }).location).toBe(`${BASE}/Schemas/${ENTERPRISE_USER_SCHEMA}`);
  });

  it('describes every attribute with all its characteristics, sub-attributes included', () => {
    const attributes = user.attributes as Record<string, unknown>[];
    expect(attributes.map((a) => a.name)).toEqual(SCHEMAS[0].attributes.map((a) => a.name));
    expect(attributes.find((a) => a.name === 'userName')).toEqual({
      name: 'userName',
      type: 'string',
      multiValued: false,
      description: expect.any(String),
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server',
    });
    const emails = attributes.find((a) => a.name === 'emails') as { subAttributes: Record<string, unknown>[] };
    expect(emails.subAttributes.find((s) => s.name === 'type')).toMatchObject({ canonicalValues: ['work', 'home', 'other'] });
    const profileUrl = attributes.find((a) => a.name === 'profileUrl');
    expect(profileUrl).toMatchObject({ referenceTypes: ['external'] });
    expect(profileUrl).not.toHaveProperty('subAttributes');
  });

  it('survives JSON and gives the caller an object it may change', () => {
    expect(JSON.parse(JSON.stringify(user))).toEqual(user);
    const copy = schemaRepresentation(schemasFor('Group').core, BASE);
    (copy.attributes as Record<string, unknown>[])[0].name = 'changed';
    expect(schemasFor('Group').core.attributes[0].name).toBe('displayName');
  });
});

describe('resourceTypes', () => {
  const [user, group] = resourceTypes(BASE);

  it('describes User with the enterprise extension as optional', () => {
    expect(user).toEqual({
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: expect.any(String),
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${BASE}/ResourceTypes/User` },
    });
  });

  it('describes Group', () => {
    expect(group).toMatchObject({
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      schema: GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${BASE}/ResourceTypes/Group` },
    });
    expect(resourceTypes(BASE)).toHaveLength(2);
  });

  it('points every schema it names at a schema served under /Schemas', () => {
    const served = SCHEMAS.map((s) => s.id);
    for (const type of resourceTypes(BASE)) {
      expect(served).toContain(type.schema);
      for (const ext of (type.schemaExtensions as { schema: string }[] | undefined) ?? []) expect(served).toContain(ext.schema);
    }
  });
});

describe('serviceProviderConfig', () => {
  it('advertises what the bridge supports, under the RFC 7643 §5 field names', () => {
    expect(serviceProviderConfig(BASE, { maxResults: 200, sortSupported: true })).toEqual({
      schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'OAuth Bearer Token',
          description: "Authentication with the bearer token of the bridge's scimsession",
          specUri: expect.stringContaining('rfc6750'),
          primary: true,
        },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` },
    });
  });

  it('passes sort support and the documentation URI through', () => {
    const config = serviceProviderConfig(`${BASE}/`, { maxResults: 5, sortSupported: false, documentationUri: 'https://docs.example.com/scim' });
    expect(config.sort).toEqual({ supported: false });
    expect(config.documentationUri).toBe('https://docs.example.com/scim');
    expect(config.meta).toEqual({ resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` });
    expect(serviceProviderConfig(BASE, { maxResults: 5, sortSupported: false })).not.toHaveProperty('documentationUri');
  });

  it('refuses a maxResults that is not a positive integer', () => {
    for (const maxResults of [0, -1, 1.5, Number.NaN]) {
      expect(() => serviceProviderConfig(BASE, { maxResults, sortSupported: true })).toThrow(/maxResults/);
    }
  });
});
