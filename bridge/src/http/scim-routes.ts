/**
 * SCIM endpoints (RFC 7644 §3), registered once per base path (/scim/v2, /scim and the bare host). This is the
 * protocol edge: it reads the query (filter, paging, projection), asks the directory for records, and renders
 * them (meta.location from the request's base URL, ETags from versions, list responses, projection).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SCIM_BASE_PATH } from '../../../contract';
import type { Directory, GroupView, Include, ListResult, RequestContext, UserView } from '../directory/directory';
import { etagOf, renderGroup, renderUser } from '../directory/render';
import { ScimError, notFound } from '../scim/errors';
import { listResponse } from '../scim/messages';
import { type Projection, applyProjection, wants } from '../scim/projection';
import { type ListParams, type ListRequest, MAX_PAGE_SIZE, parseListRequest, parseResourceProjection } from '../scim/query';
import { type ResourceKind, resourceTypes, schemaRepresentation, servedSchemas, serviceProviderConfig } from '../scim/schemas';
import { searchParams } from '../scim/search';
import { listResponseText } from './list-page';
import { ROUTE_SCOPES } from './plugins/bearer-auth';
import { sendScim, sendScimText } from './reply';
import { rootSearch } from './root-search';

interface RouteOptions {
  readonly directory: Directory;
}

type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: ListParams }>;
type ListRequestOf = FastifyRequest<{ Querystring: ListParams }>;

/** Resource endpoints need the bearer token (checked at onRequest, before the body is read): writes a provision token. */
const PROTECTED = { config: { bearer: ROUTE_SCOPES.write } } as const;
/** Reads accept an application's read token too. */
const READABLE = { config: { bearer: ROUTE_SCOPES.read } } as const;

export function baseUrlOf(request: FastifyRequest): string {
  // An HTTP/1.0 request may come without Host: name the address it reached instead of leaving the host empty.
  const host = request.host || hostOfSocket(request);
  return `${request.protocol}://${host}${SCIM_BASE_PATH}`;
}

function hostOfSocket(request: FastifyRequest): string {
  const { localAddress = 'localhost', localPort } = request.socket;
  const address = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  return `${address.includes(':') ? `[${address}]` : address}${localPort ? `:${localPort}` : ''}`;
}

function context(request: FastifyRequest): RequestContext {
  const agent = request.headers['user-agent'];
  return { actor: typeof agent === 'string' && agent ? agent.slice(0, 200) : 'unknown client', requestId: request.id };
}

function ifMatch(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return typeof value === 'string' ? value : undefined;
}

const NO_PROJECTION: Projection = {};

const asksForAttributes = (query: ListParams) => Boolean(query.attributes || query.excludedAttributes);

/** What differs between /Users and /Groups; the routes are the same. */
interface ResourceEndpoints<View> {
  readonly kind: ResourceKind;
  readonly path: '/Users' | '/Groups';
  /** The attribute loaded from other rows (a user's groups, a group's members): skipped when not returned. */
  readonly related: 'groups' | 'members';
  readonly versionOf: (view: View) => number;
  readonly render: (view: View, baseUrl: string) => Record<string, unknown>;
  readonly list: (query: ListRequest, include: Include) => Promise<ListResult<View>>;
  readonly get: (id: string, include: Include) => Promise<View>;
  readonly create: (body: unknown, ctx: RequestContext) => Promise<View>;
  readonly replace: (id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext) => Promise<View>;
  readonly patch: (id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext) => Promise<View>;
  readonly remove: (id: string, ifMatch: string | undefined, ctx: RequestContext) => Promise<void>;
  /**
   * A group's PATCH answers 204 with the new ETag: echoing a 50,000-member group after each membership change
   * would cost more than the change. A user's answers the user.
   */
  readonly patchAnswersBody: boolean;
}

function sendResource(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  version: number,
  resource: Record<string, unknown>,
  projection: Projection,
): FastifyReply {
  reply.header('etag', etagOf(version));
  // From the whole resource: a projection may leave meta out of the body, never the Location header.
  if (status === 201) reply.header('location', (resource.meta as { location: string }).location);
  return sendScim(request, reply, status, applyProjection(resource, projection));
}

function registerResource<View>(app: FastifyInstance, r: ResourceEndpoints<View>): void {
  const show = (req: FastifyRequest, reply: FastifyReply, status: number, view: View, projection = NO_PROJECTION) =>
    sendResource(req, reply, status, r.versionOf(view), r.render(view, baseUrlOf(req)), projection);

  const listPage = async (req: FastifyRequest, reply: FastifyReply, params: ListParams) => {
    const { query, projection } = parseListRequest(r.kind, params);
    const page = await r.list(query, { related: wants(projection, r.related) });
    const base = baseUrlOf(req);
    const resources = page.items.map((view) => applyProjection(r.render(view, base), projection));
    return sendScimText(req, reply, 200, listResponseText(page.totalResults, page.startIndex, resources));
  };
  app.get(r.path, READABLE, async (req: ListRequestOf, reply) => listPage(req, reply, req.query));
  // RFC 7644 §3.4.3: the same query in a body, for filters too long or too private for a URL.
  app.post(`${r.path}/.search`, READABLE, async (req, reply) => listPage(req, reply, searchParams(req.body)));
  // `attributes`/`excludedAttributes` apply to every answer carrying a resource (§3.9), writes included.
  app.post(r.path, PROTECTED, async (req: ListRequestOf, reply) => {
    const projection = parseResourceProjection(r.kind, req.query);
    return show(req, reply, 201, await r.create(req.body, context(req)), projection);
  });
  app.get(`${r.path}/:id`, READABLE, async (req: IdRequest, reply) => {
    const projection = parseResourceProjection(r.kind, req.query);
    return show(req, reply, 200, await r.get(req.params.id, { related: wants(projection, r.related) }), projection);
  });
  app.put(`${r.path}/:id`, PROTECTED, async (req: IdRequest, reply) => {
    const projection = parseResourceProjection(r.kind, req.query);
    return show(req, reply, 200, await r.replace(req.params.id, req.body, ifMatch(req), context(req)), projection);
  });
  app.patch(`${r.path}/:id`, PROTECTED, async (req: IdRequest, reply) => {
    const projection = parseResourceProjection(r.kind, req.query);
    const view = await r.patch(req.params.id, req.body, ifMatch(req), context(req));
    if (r.patchAnswersBody) return show(req, reply, 200, view, projection);
    // §3.5.2: a PATCH that names attributes to return MUST answer 200 with them; the group is read again (with its
    // members only when they are asked for), since the write itself does not load them.
    if (asksForAttributes(req.query)) return show(req, reply, 200, await r.get(req.params.id, { related: wants(projection, r.related) }), projection);
    return reply
      .code(204)
      .header('etag', etagOf(r.versionOf(view)))
      .send();
  });
  app.delete(`${r.path}/:id`, PROTECTED, async (req: IdRequest, reply) => {
    await r.remove(req.params.id, ifMatch(req), context(req));
    return reply.code(204).send();
  });
}

export async function registerScimRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  const { directory } = options;

  registerResource<UserView>(app, {
    kind: 'User',
    path: '/Users',
    related: 'groups',
    versionOf: (view) => view.user.version,
    render: (view, baseUrl) => renderUser(view.user, view.groups, baseUrl),
    list: (query, include) => directory.listUsers(query, include),
    get: (id, include) => directory.getUser(id, include),
    create: (body, ctx) => directory.createUser(body, ctx),
    replace: (id, body, match, ctx) => directory.replaceUser(id, body, match, ctx),
    patch: (id, body, match, ctx) => directory.patchUser(id, body, match, ctx),
    remove: (id, match, ctx) => directory.deleteUser(id, match, ctx),
    patchAnswersBody: true,
  });
  registerResource<GroupView>(app, {
    kind: 'Group',
    path: '/Groups',
    // `excludedAttributes=members` (Entra, Okta) must not load members at all.
    related: 'members',
    versionOf: (view) => view.group.version,
    render: (view, baseUrl) => renderGroup(view.group, view.members, baseUrl),
    list: (query, include) => directory.listGroups(query, include),
    get: (id, include) => directory.getGroup(id, include),
    create: (body, ctx) => directory.createGroup(body, ctx),
    replace: (id, body, match, ctx) => directory.replaceGroup(id, body, match, ctx),
    patch: (id, body, match, ctx) => directory.patchGroup(id, body, match, ctx),
    remove: (id, match, ctx) => directory.deleteGroup(id, match, ctx),
    patchAnswersBody: false,
  });

  // The root search across users and groups (RFC 7644 §3.4.3).
  app.post('/.search', READABLE, async (req, reply) => sendScimText(req, reply, 200, await rootSearch(directory, searchParams(req.body), baseUrlOf(req))));

  // /Me (RFC 7644 §3.11): the bearer token names no user here, so the alias is not implemented, which the RFC
  // answers with 501 (after authentication, as for any resource endpoint).
  app.all('/Me', PROTECTED, async () => {
    throw new ScimError(501, 'The /Me alias is not supported: the bearer token of the bridge belongs to no user');
  });
  // Bulk is not supported (ServiceProviderConfig says so); answer in SCIM terms rather than a bare 404.
  app.post('/Bulk', PROTECTED, async () => {
    throw new ScimError(501, 'Bulk operations are not supported');
  });

  // ---- Discovery (RFC 7644 §4): describes the service only; identity providers read it during setup ----
  app.get('/ServiceProviderConfig', async (req, reply) =>
    sendScim(req, reply, 200, serviceProviderConfig(baseUrlOf(req), { maxResults: MAX_PAGE_SIZE, sortSupported: true })),
  );
  app.get('/ResourceTypes', async (req, reply) => sendScim(req, reply, 200, discoveryList(resourceTypes(baseUrlOf(req)))));
  app.get('/ResourceTypes/:id', async (req: IdRequest, reply) => {
    const found = resourceTypes(baseUrlOf(req)).find((t) => String(t.id).toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`Resource type ${req.params.id.slice(0, 100)} not found`);
    return sendScim(req, reply, 200, found);
  });
  app.get('/Schemas', async (req, reply) => sendScim(req, reply, 200, discoveryList(servedSchemas().map((s) => schemaRepresentation(s, baseUrlOf(req))))));
  app.get('/Schemas/:id', async (req: IdRequest, reply) => {
    const found = servedSchemas().find((s) => s.id.toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`Schema ${req.params.id.slice(0, 100)} not found`);
    return sendScim(req, reply, 200, schemaRepresentation(found, baseUrlOf(req)));
  });
}

const discoveryList = (resources: Record<string, unknown>[]) => listResponse(resources.length, 1, resources);
