/** SCIM endpoints (RFC 7644 §3): registered once per base path (/scim/v2, /scim and the bare host). */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { SCIM_BASE_PATH } from '../../../contract';
import type { Directory, ListParams, Rendered, RequestContext } from '../directory/directory';
import { MAX_PAGE_SIZE } from '../directory/directory';
import { ScimError, notFound } from '../scim/errors';
import { SCIM_CONTENT_TYPE, listResponse } from '../scim/messages';
import { SCHEMAS, resourceTypes, schemaRepresentation, serviceProviderConfig } from '../scim/schemas';

interface RouteOptions {
  readonly directory: Directory;
  readonly authenticate: preHandlerAsyncHookHandler;
  readonly bodyLimit: number;
}


type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: ListParams }>;
type ListRequest = FastifyRequest<{ Querystring: ListParams }>;

export function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${SCIM_BASE_PATH}`;
}

function context(request: FastifyRequest): RequestContext {
  const agent = request.headers['user-agent'];
  return { actor: typeof agent === 'string' && agent ? agent.slice(0, 200) : 'unknown client', requestId: request.id, baseUrl: baseUrlOf(request) };
}

function ifMatch(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return typeof value === 'string' ? value : undefined;
}

function send(reply: FastifyReply, rendered: Rendered, status = 200): FastifyReply {
  if (rendered.etag) reply.header('ETag', rendered.etag);
  if (!rendered.body) return reply.code(status === 200 ? 204 : status).send();
  if (status === 201) reply.header('Location', (rendered.body.meta as { location: string }).location);
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(rendered.body);
}

export async function registerScimRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  const { directory, authenticate } = options;
  const guarded = { preHandler: authenticate };

  app.get('/Users', guarded, async (req: ListRequest, reply) => send(reply, await directory.listUsers(req.query, context(req))));
  app.post('/Users', guarded, async (req, reply) => send(reply, await directory.createUser(req.body, context(req)), 201));
  app.get('/Users/:id', guarded, async (req: IdRequest, reply) => send(reply, await directory.getUser(req.params.id, req.query, context(req))));
  app.put('/Users/:id', guarded, async (req: IdRequest, reply) =>
    send(reply, await directory.replaceUser(req.params.id, req.body, ifMatch(req), context(req))));
  app.patch('/Users/:id', guarded, async (req: IdRequest, reply) =>
    send(reply, await directory.patchUser(req.params.id, req.body, ifMatch(req), context(req))));
  app.delete('/Users/:id', guarded, async (req: IdRequest, reply) =>
    send(reply, await directory.deleteUser(req.params.id, ifMatch(req), context(req)), 204));

  app.get('/Groups', guarded, async (req: ListRequest, reply) => send(reply, await directory.listGroups(req.query, context(req))));
  app.post('/Groups', guarded, async (req, reply) => send(reply, await directory.createGroup(req.body, context(req)), 201));
  app.get('/Groups/:id', guarded, async (req: IdRequest, reply) => send(reply, await directory.getGroup(req.params.id, req.query, context(req))));
  app.put('/Groups/:id', guarded, async (req: IdRequest, reply) =>
    send(reply, await directory.replaceGroup(req.params.id, req.body, ifMatch(req), context(req))));
  // 204 with the new ETag: echoing a 50,000-member group after each membership change would cost more than the change.
  app.patch('/Groups/:id', guarded, async (req: IdRequest, reply) =>
    send(reply, await directory.patchGroup(req.params.id, req.body, ifMatch(req), context(req)), 204));
  app.delete('/Groups/:id', guarded, async (req: IdRequest, reply) =>
    send(reply, await directory.deleteGroup(req.params.id, ifMatch(req), context(req)), 204));

  // Discovery (RFC 7644 §4) describes the service only; identity providers read it during setup.
  app.get('/ServiceProviderConfig', async (req, reply) =>
    reply.type(SCIM_CONTENT_TYPE).send(serviceProviderConfig(baseUrlOf(req), { maxResults: MAX_PAGE_SIZE, sortSupported: true })));
  app.get('/ResourceTypes', async (req, reply) => reply.type(SCIM_CONTENT_TYPE).send(discoveryList(resourceTypes(baseUrlOf(req)))));
  app.get('/ResourceTypes/:id', async (req: IdRequest, reply) => {
    const found = resourceTypes(baseUrlOf(req)).find((t) => String(t.id).toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`Resource type ${req.params.id} not found`);
    return reply.type(SCIM_CONTENT_TYPE).send(found);
  });
  app.get('/Schemas', async (req, reply) => reply.type(SCIM_CONTENT_TYPE).send(discoveryList(SCHEMAS.map((s) => schemaRepresentation(s, baseUrlOf(req))))));
  app.get('/Schemas/:id', async (req: IdRequest, reply) => {
    const found = SCHEMAS.find((s) => s.id.toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`Schema ${req.params.id} not found`);
    return reply.type(SCIM_CONTENT_TYPE).send(schemaRepresentation(found, baseUrlOf(req)));
  });
  // Bulk is not supported (ServiceProviderConfig says so); answer in SCIM terms rather than a bare 404.
  app.post('/Bulk', guarded, async () => {
    throw new ScimError(501, 'Bulk operations are not supported');
  });
}

const discoveryList = (resources: Record<string, unknown>[]) => listResponse(resources.length, 1, resources);
