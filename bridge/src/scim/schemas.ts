/**
 * The SCIM schemas the bridge serves (RFC 7643): core User and Group, the enterprise User extension, the
 * common attributes every resource carries, and the discovery documents (/Schemas, /ResourceTypes,
 * /ServiceProviderConfig). Pure data and lookups: no I/O.
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export type ResourceKind = 'User' | 'Group';

export interface AttributeDef {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  readonly returned: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness: 'none' | 'server' | 'global';
  readonly subAttributes?: readonly AttributeDef[];
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
}

export interface SchemaDef {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDef[];
}

export interface ResolvedAttribute {
  /** The schema the attribute lives in; common attributes count as the core schema's (stored at the top). */
  readonly schemaId: string;
  readonly def: AttributeDef;
  /** Set when `def` is a sub-attribute: the complex attribute holding it. */
  readonly parent?: AttributeDef;
  /** Canonical dotted name: 'name.givenName', 'meta.lastModified', '<extension URN>:manager.value'. */
  readonly path: string;
}

type Options = Partial<Omit<AttributeDef, 'name' | 'type' | 'description'>>;

/** RFC 7643 §2.2 defaults, which most attributes keep. */
function attr(name: string, type: AttributeDef['type'], description: string, options: Options = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
}

const str = (name: string, description: string, options?: Options) => attr(name, 'string', description, options);

/** The value/display/type/primary shape RFC 7643 §2.4 gives multi-valued attributes. */
function multiValued(name: string, description: string, opts: { canonicalTypes?: readonly string[]; value?: AttributeDef } = {}): AttributeDef {
  return attr(name, 'complex', description, {
    multiValued: true,
    subAttributes: [
      opts.value ?? str('value', `The ${name} value.`),
      str('display', 'A human-readable name, for display only.'),
      str('type', "A label for the value's function.", opts.canonicalTypes ? { canonicalValues: opts.canonicalTypes } : {}),
      attr('primary', 'boolean', 'Whether this is the preferred value; true at most once.'),
    ],
  });
}

const WORK_HOME_OTHER = ['work', 'home', 'other'];

const USER: SchemaDef = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier the user signs in with; unique across the service provider. REQUIRED.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The components of the user's real name.", {
      subAttributes: [
        str('formatted', 'The full name, formatted for display.'),
        str('familyName', 'The family (last) name.'),
        str('givenName', 'The given (first) name.'),
        str('middleName', 'The middle name(s).'),
        str('honorificPrefix', "The honorific prefix(es), e.g. 'Ms.'."),
        str('honorificSuffix', "The honorific suffix(es), e.g. 'III'."),
      ],
    }),
    str('displayName', 'The name of the user, suitable for display.'),
    str('nickName', 'The casual way to address the user.'),
    attr('profileUrl', 'reference', "A URL of the user's online profile.", { referenceTypes: ['external'] }),
    str('title', "The user's title, e.g. 'Vice President'."),
    str('userType', "The relationship between the organization and the user, e.g. 'Employee', 'Contractor'."),
    str('preferredLanguage', "The user's preferred written or spoken language, e.g. 'en-US'."),
    str('locale', "The user's default location for localizing currency, dates and numbers."),
    str('timezone', "The user's time zone in IANA format, e.g. 'America/Los_Angeles'."),
    attr('active', 'boolean', "The user's administrative status."),
    str('password', "The user's cleartext password; accepted, never stored or returned.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValued('emails', 'Email addresses for the user.', { canonicalTypes: WORK_HOME_OTHER }),
    multiValued('phoneNumbers', 'Phone numbers for the user.', {
      canonicalTypes: ['work', 'home', 'mobile', 'fax', 'pager', 'other'],
    }),
    multiValued('ims', 'Instant messaging addresses for the user.', {
      canonicalTypes: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'],
    }),
    multiValued('photos', 'URLs of photos of the user.', {
      canonicalTypes: ['photo', 'thumbnail'],
      value: attr('value', 'reference', 'URL of a photo of the user.', { referenceTypes: ['external'] }),
    }),
    attr('addresses', 'complex', 'Physical mailing addresses for the user.', {
      multiValued: true,
      subAttributes: [
        str('formatted', 'The full mailing address, formatted for display; may contain newlines.'),
        str('streetAddress', 'The street address; may contain newlines.'),
        str('locality', 'The city or locality.'),
        str('region', 'The state or region.'),
        str('postalCode', 'The zip or postal code.'),
        str('country', 'The country.'),
        str('type', "A label for the address's function.", { canonicalValues: WORK_HOME_OTHER }),
        // Not in RFC 7643 §8.7.1's listing, but §2.4 gives every multi-valued attribute a primary flag.
        attr('primary', 'boolean', 'Whether this is the preferred address; true at most once.'),
      ],
    }),
    attr('groups', 'complex', 'The groups the user belongs to; changed through the groups, not here.', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        str('value', "The group's id.", { mutability: 'readOnly' }),
        attr('$ref', 'reference', "The URI of the group's resource.", { mutability: 'readOnly', referenceTypes: ['User', 'Group'] }),
        str('display', "The group's display name.", { mutability: 'readOnly' }),
        str('type', "How the user belongs: 'direct' or 'indirect'.", {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
    }),
    multiValued('entitlements', 'Entitlements of the user.'),
    multiValued('roles', 'Roles of the user.', { canonicalTypes: [] }),
    multiValued('x509Certificates', 'Certificates issued to the user.', {
      canonicalTypes: [],
      value: attr('value', 'binary', 'A DER-encoded X.509 certificate, base64.'),
    }),
  ],
};

const GROUP: SchemaDef = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    // RFC 7643 §8.7.1 lists displayName as not required although its description says REQUIRED; the bridge requires
    // it and keeps it unique (case-insensitively), and discovery says so: generic clients fill required attributes from it.
    str('displayName', 'A human-readable name for the group, unique across the service provider. REQUIRED.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('members', 'complex', 'The members of the group.', {
      multiValued: true,
      subAttributes: [
        str('value', "The member's id (a User's id: groups do not nest here).", { mutability: 'immutable', caseExact: true }),
        attr('$ref', 'reference', "The URI of the member's resource; a member given only by it is the user it names.", {
          mutability: 'immutable',
          referenceTypes: ['User'],
        }),
        // Not in RFC 7643 §8.7.1's listing; identity providers send it and §4.2 describes it. The bridge shows the
        // user's own displayName (what a client sends is accepted and ignored), hence readOnly, as is the type.
        str('display', "The member's display name.", { mutability: 'readOnly' }),
        str('type', "The member's resource type.", { mutability: 'readOnly', canonicalValues: ['User'] }),
      ],
    }),
  ],
};

const ENTERPRISE_USER: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'A number or code the organization assigns to the user.'),
    str('costCenter', 'The name of a cost center.'),
    str('organization', 'The name of an organization.'),
    str('division', 'The name of a division.'),
    str('department', 'The name of a department.'),
    attr('manager', 'complex', "The user's manager.", {
      subAttributes: [
        str('value', "The manager's id."),
        attr('$ref', 'reference', "The URI of the manager's User resource.", { referenceTypes: ['User'] }),
        str('displayName', "The manager's display name.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

/** RFC 7643 §3.1: on every resource, but part of no schema's attribute list. */
export const COMMON_ATTRIBUTES: readonly AttributeDef[] = deepFreeze([
  str('id', 'The identifier the service provider assigned to the resource.', {
    required: true,
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  str('externalId', 'The identifier the provisioning client uses for the resource.', { caseExact: true }),
  attr('meta', 'complex', 'Resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', "The resource's type, e.g. 'User'.", { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', 'When the resource was added.', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'When the resource was last changed.', { mutability: 'readOnly' }),
      attr('location', 'reference', "The resource's URI.", { caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
      str('version', "The resource's version (its ETag).", { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
]);

export const SCHEMAS: readonly SchemaDef[] = deepFreeze([USER, GROUP, ENTERPRISE_USER]);

const BUILT_IN_KINDS: Record<ResourceKind, { core: SchemaDef; extensions: readonly SchemaDef[] }> = {
  User: Object.freeze({ core: USER, extensions: Object.freeze([ENTERPRISE_USER]) }),
  Group: Object.freeze({ core: GROUP, extensions: Object.freeze([] as SchemaDef[]) }),
};
let KINDS = BUILT_IN_KINDS;

export function schemasFor(kind: ResourceKind): { core: SchemaDef; extensions: readonly SchemaDef[] } {
  return KINDS[kind];
}

const byLowerName = (defs: readonly AttributeDef[]) => new Map(defs.map((d) => [d.name.toLowerCase(), d]));
const COMMON_BY_NAME = byLowerName(COMMON_ATTRIBUTES);
const builtInAttributes = () => new Map(SCHEMAS.map((s) => [s.id.toLowerCase(), byLowerName(s.attributes)]));
let ATTRS_BY_SCHEMA = builtInAttributes();
let SERVED: readonly SchemaDef[] = SCHEMAS;

/** An operator-declared extension schema (scim/extensions.ts reads and checks the declarations). */
export interface DeclaredExtension {
  readonly kind: ResourceKind;
  readonly schema: SchemaDef;
  /** Every resource of the kind must carry it (ResourceType `schemaExtensions[].required`). */
  readonly required: boolean;
}

let DECLARED: readonly DeclaredExtension[] = [];

/**
 * Serves the built-in schemas plus these declared extensions, in place of any declared before. The schemas are the
 * process's: one bridge serves one set (tests starting several bridges in one process declare the same set or none).
 */
export function declareExtensions(declared: readonly DeclaredExtension[]): void {
  DECLARED = deepFreeze([...declared]);
  const extensionsOf = (kind: ResourceKind) =>
    Object.freeze([...BUILT_IN_KINDS[kind].extensions, ...DECLARED.filter((d) => d.kind === kind).map((d) => d.schema)]);
  KINDS = { User: Object.freeze({ core: USER, extensions: extensionsOf('User') }), Group: Object.freeze({ core: GROUP, extensions: extensionsOf('Group') }) };
  SERVED = Object.freeze([...SCHEMAS, ...DECLARED.map((d) => d.schema)]);
  ATTRS_BY_SCHEMA = builtInAttributes();
  for (const d of DECLARED) ATTRS_BY_SCHEMA.set(d.schema.id.toLowerCase(), byLowerName(d.schema.attributes));
}

export function declaredExtensions(): readonly DeclaredExtension[] {
  return DECLARED;
}

/** Every schema served at /Schemas: the built-in ones and the declared extensions. */
export function servedSchemas(): readonly SchemaDef[] {
  return SERVED;
}

/**
 * Case-insensitive attribute lookup. `uri` is an optional schema URN prefix as written in a filter or PATCH
 * path, `attr` the attribute name, `sub` an optional sub-attribute. Core and common attributes are found
 * by bare name or behind the core schema's URN; extension attributes only behind their extension's URN
 * (RFC 7644 §3.10). Returns undefined for anything unknown.
 */
export function resolveAttribute(kind: ResourceKind, ref: { uri?: string; attr: string; sub?: string }): ResolvedAttribute | undefined {
  const { core, extensions } = KINDS[kind];
  let schema = core;
  if (ref.uri !== undefined) {
    const uri = ref.uri.toLowerCase();
    const found = uri === core.id.toLowerCase() ? core : extensions.find((e) => e.id.toLowerCase() === uri);
    if (!found) return undefined;
    schema = found;
  }
  const name = ref.attr.toLowerCase();
  const def = ATTRS_BY_SCHEMA.get(schema.id.toLowerCase())!.get(name) ?? (schema === core ? COMMON_BY_NAME.get(name) : undefined);
  if (!def) return undefined;
  const prefix = schema === core ? '' : `${schema.id}:`;
  if (ref.sub === undefined) return { schemaId: schema.id, def, path: prefix + def.name };
  const sub = ref.sub.toLowerCase();
  const subDef = def.subAttributes?.find((s) => s.name.toLowerCase() === sub);
  if (!subDef) return undefined;
  return { schemaId: schema.id, def: subDef, parent: def, path: `${prefix}${def.name}.${subDef.name}` };
}

/** The canonical attribute name (correct case) for a top-level attribute in kind's core schema or common attributes, or undefined. */
export function canonicalName(kind: ResourceKind, attr: string): string | undefined {
  const name = attr.toLowerCase();
  return (ATTRS_BY_SCHEMA.get(KINDS[kind].core.id.toLowerCase())!.get(name) ?? COMMON_BY_NAME.get(name))?.name;
}

const trimBase = (baseUrl: string) => baseUrl.replace(/\/+$/, '');

function attributeRepresentation(def: AttributeDef): Record<string, unknown> {
  return {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required,
    caseExact: def.caseExact,
    mutability: def.mutability,
    returned: def.returned,
    uniqueness: def.uniqueness,
    ...(def.canonicalValues ? { canonicalValues: [...def.canonicalValues] } : {}),
    ...(def.referenceTypes ? { referenceTypes: [...def.referenceTypes] } : {}),
    ...(def.subAttributes ? { subAttributes: def.subAttributes.map(attributeRepresentation) } : {}),
  };
}

/** The /Schemas representation of a schema (RFC 7643 §7): a fresh object the caller may change. */
export function schemaRepresentation(def: SchemaDef, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: def.id,
    name: def.name,
    description: def.description,
    attributes: def.attributes.map(attributeRepresentation),
    meta: { resourceType: 'Schema', location: `${trimBase(baseUrl)}/Schemas/${def.id}` },
  };
}

const declaredOf = (kind: ResourceKind) => DECLARED.filter((d) => d.kind === kind).map((d) => ({ schema: d.schema.id, required: d.required }));

/** /ResourceTypes entries (RFC 7643 §6). */
export function resourceTypes(baseUrl: string): Record<string, unknown>[] {
  const base = trimBase(baseUrl);
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }, ...declaredOf('User')],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA,
      ...(declaredOf('Group').length ? { schemaExtensions: declaredOf('Group') } : {}),
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

/** /ServiceProviderConfig (RFC 7643 §5). */
export function serviceProviderConfig(
  baseUrl: string,
  opts: { maxResults: number; sortSupported: boolean; documentationUri?: string },
): Record<string, unknown> {
  if (!Number.isInteger(opts.maxResults) || opts.maxResults < 1) {
    throw new RangeError(`maxResults must be a positive integer (got ${opts.maxResults})`);
  }
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    ...(opts.documentationUri ? { documentationUri: opts.documentationUri } : {}),
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: opts.maxResults },
    changePassword: { supported: false },
    sort: { supported: opts.sortSupported },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: "Authentication with the bearer token of the bridge's scimsession",
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${trimBase(baseUrl)}/ServiceProviderConfig` },
  };
}

/** The definitions are shared by every request; freezing turns an accidental write into an error. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
