/**
 * SCIM endpoints (RFC 7644 §3), registered once per base path (/scim/v2, /scim and the bare host). This is the
 * protocol edge: it reads the query (filter, paging, projection), asks the directory for records, and renders
 * them (meta.location from the request's base URL, ETags from versions, list responses, projection).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SCIM_BASE_PATH } from '../../../contract';
import type { Directory, GroupView, RequestContext, UserView } from '../directory/directory';
import { etagOf, renderGroup, renderUser } from '../directory/render';
import { ScimError, notFound } from '../scim/errors';
import { listResponse } from '../scim/messages';
import { type Projection, applyProjection, wants } from '../scim/projection';
import { type ListParams, MAX_PAGE_SIZE, parseListRequest, parseResourceProjection } from '../scim/query';
import { SCHEMAS, resourceTypes, schemaRepresentation, serviceProviderConfig } from '../scim/schemas';
import { sendScim } from './reply';

interface RouteOptions {
  readonly directory: Directory;
}

type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: ListParams }>;
type ListRequestOf = FastifyRequest<{ Querystring: ListParams }>;

/** Resource endpoints need the bearer token (checked at onRequest, before the body is read). */
const PROTECTED = { config: { bearer: true } } as const;

export function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${SCIM_BASE_PATH}`;
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

function userBody(view: UserView, baseUrl: string, projection: Projection): Record<string, unknown> {
  return applyProjection(renderUser(view.user, view.groups, baseUrl), projection);
}

function groupBody(view: GroupView, baseUrl: string, projection: Projection): Record<string, unknown> {
  return applyProjection(renderGroup(view.group, view.members, baseUrl), projection);
}

function sendResource(request: FastifyRequest, reply: FastifyReply, status: number, version: number, body: Record<string, unknown>): FastifyReply {
  reply.header('etag', etagOf(version));
  if (status === 201) reply.header('location', (body.meta as { location: string }).location);
  return sendScim(request, reply, status, body);
}

export async function registerScimRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  const { directory } = options;

  // ---- Users ----
  app.get('/Users', PROTECTED, async (req: ListRequestOf, reply) => {
    const { query, projection } = parseListRequest('User', req.query);
    const page = await directory.listUsers(query, { related: wants(projection, 'groups') });
    const base = baseUrlOf(req);
    return sendScim(req, reply, 200, listResponse(page.totalResults, page.startIndex, page.items.map((view) => userBody(view, base, projection))));
  });
  app.post('/Users', PROTECTED, async (req, reply) => {
    const view = await directory.createUser(req.body, context(req));
    return sendResource(req, reply, 201, view.user.version, userBody(view, baseUrlOf(req), NO_PROJECTION));
  });
  app.get('/Users/:id', PROTECTED, async (req: IdRequest, reply) => {
    const projection = parseResourceProjection('User', req.query);
    const view = await directory.getUser(req.params.id, { related: wants(projection, 'groups') });
    return sendResource(req, reply, 200, view.user.version, userBody(view, baseUrlOf(req), projection));
  });
  app.put('/Users/:id', PROTECTED, async (req: IdRequest, reply) => {
    const view = await directory.replaceUser(req.params.id, req.body, ifMatch(req), context(req));
    return sendResource(req, reply, 200, view.user.version, userBody(view, baseUrlOf(req), NO_PROJECTION));
  });
  app.patch('/Users/:id', PROTECTED, async (req: IdRequest, reply) => {
    const view = await directory.patchUser(req.params.id, req.body, ifMatch(req), context(req));
    return sendResource(req, reply, 200, view.user.version, userBody(view, baseUrlOf(req), NO_PROJECTION));
  });
  app.delete('/Users/:id', PROTECTED, async (req: IdRequest, reply) => {
    await directory.deleteUser(req.params.id, ifMatch(req), context(req));
    return reply.code(204).send();
  });

  // ---- Groups ----
  app.get('/Groups', PROTECTED, async (req: ListRequestOf, reply) => {
    const { query, projection } = parseListRequest('Group', req.query);
    // `excludedAttributes=members` (Entra, Okta) must not load members at all.
    const page = await directory.listGroups(query, { related: wants(projection, 'members') });
    const base = baseUrlOf(req);
    return sendScim(req, reply, 200, listResponse(page.totalResults, page.startIndex, page.items.map((view) => groupBody(view, base, projection))));
  });
  app.post('/Groups', PROTECTED, async (req, reply) => {
    const view = await directory.createGroup(req.body, context(req));
    return sendResource(req, reply, 201, view.group.version, groupBody(view, baseUrlOf(req), NO_PROJECTION));
  });
  app.get('/Groups/:id', PROTECTED, async (req: IdRequest, reply) => {
    const projection = parseResourceProjection('Group', req.query);
    const view = await directory.getGroup(req.params.id, { related: wants(projection, 'members') });
    return sendResource(req, reply, 200, view.group.version, groupBody(view, baseUrlOf(req), projection));
  });
  app.put('/Groups/:id', PROTECTED, async (req: IdRequest, reply) => {
    const view = await directory.replaceGroup(req.params.id, req.body, ifMatch(req), context(req));
    return sendResource(req, reply, 200, view.group.version, groupBody(view, baseUrlOf(req), NO_PROJECTION));
  });
  // 204 with the new ETag: echoing a 50,000-member group after each membership change would cost more than the change.
  app.patch('/Groups/:id', PROTECTED, async (req: IdRequest, reply) => {
    const view = await directory.patchGroup(req.params.id, req.body, ifMatch(req), context(req));
    return reply.code(204).header('etag', etagOf(view.group.version)).send();
  });
  app.delete('/Groups/:id', PROTECTED, async (req: IdRequest, reply) => {
    await directory.deleteGroup(req.params.id, ifMatch(req), context(req));
    return reply.code(204).send();
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
