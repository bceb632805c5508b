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
import { type ResourceKind, SCHEMAS, resourceTypes, schemaRepresentation, serviceProviderConfig } from '../scim/schemas';
import { listResponseText } from './list-page';
import { sendScim, sendScimText } from './reply';

interface RouteOptions {
  readonly directory: Directory;
}

type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: ListParams }>;
type ListRequestOf = FastifyRequest<{ Querystring: ListParams }>;

/** Resource endpoints need the bearer token (checked at onRequest, before the body is read). */
const PROTECTED = { config: { bearer: true } } as const;

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

function sendResource(request: FastifyRequest, reply: FastifyReply, status: number, version: number, body: Record<string, unknown>): FastifyReply {
  reply.header('etag', etagOf(version));
  if (status === 201) reply.header('location', (body.meta as { location: string }).location);
  return sendScim(request, reply, status, body);
}

function registerResource<View>(app: FastifyInstance, r: ResourceEndpoints<View>): void {
  const show = (req: FastifyRequest, reply: FastifyReply, status: number, view: View, projection = NO_PROJECTION) =>
    sendResource(req, reply, status, r.versionOf(view), applyProjection(r.render(view, baseUrlOf(req)), projection));

  app.get(r.path, PROTECTED, async (req: ListRequestOf, reply) => {
    const { query, projection } = parseListRequest(r.kind, req.query);
    const page = await r.list(query, { related: wants(projection, r.related) });
    const base = baseUrlOf(req);
    const resources = page.items.map((view) => applyProjection(r.render(view, base), projection));
    return sendScimText(req, reply, 200, listResponseText(page.totalResults, page.startIndex, resources));
  });
  app.post(r.path, PROTECTED, async (req, reply) => show(req, reply, 201, await r.create(req.body, context(req))));
  app.get(`${r.path}/:id`, PROTECTED, async (req: IdRequest, reply) => {
    const projection = parseResourceProjection(r.kind, req.query);
    return show(req, reply, 200, await r.get(req.params.id, { related: wants(projection, r.related) }), projection);
  });
  app.put(`${r.path}/:id`, PROTECTED, async (req: IdRequest, reply) => show(req, reply, 200, await r.replace(req.params.id, req.body, ifMatch(req), context(req))));
  app.patch(`${r.path}/:id`, PROTECTED, async (req: IdRequest, reply) => {
    const view = await r.patch(req.params.id, req.body, ifMatch(req), context(req));
    if (r.patchAnswersBody) return show(req, reply, 200, view);
    return reply.code(204).header('etag', etagOf(r.versionOf(view))).send();
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
    sendScim(req, reply, 200, serviceProviderConfig(baseUrlOf(req), { maxResults: MAX_PAGE_SIZE, sortSupported: true })));
  app.get('/ResourceTypes', async (req, reply) => sendScim(req, reply, 200, discoveryList(resourceTypes(baseUrlOf(req)))));
  app.get('/ResourceTypes/:id', async (req: IdRequest, reply) => {
    const found = resourceTypes(baseUrlOf(req)).find((t) => String(t.id).toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`Resource type ${req.params.id.slice(0, 100)} not found`);
    return sendScim(req, reply, 200, found);
  });
  app.get('/Schemas', async (req, reply) => sendScim(req, reply, 200, discoveryList(SCHEMAS.map((s) => schemaRepresentation(s, baseUrlOf(req))))));
  app.get('/Schemas/:id', async (req: IdRequest, reply) => {
    const found = SCHEMAS.find((s) => s.id.toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`Schema ${req.params.id.slice(0, 100)} not found`);
    return sendScim(req, reply, 200, schemaRepresentation(found, baseUrlOf(req)));
  });
}

const discoveryList = (resources: Record<string, unknown>[]) => listResponse(resources.length, 1, resources);
