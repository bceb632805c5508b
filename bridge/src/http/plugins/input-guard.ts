/**
 * What the bridge reads from a request before any handler sees it. Bodies: JSON (prototype-poisoning-safe), at most
 * `MAX_JSON_DEPTH` deep, without NUL or lone surrogates, checked in one pass before parsing, so no later walk or
 * `JSON.stringify` can overflow the stack and both stores see the same text. Path parameters and query values:
 * the same text rule, checked after authentication. Each is a SCIM 400.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../scim/errors';
import { checkJsonText, textProblem } from '../../scim/text';
import { rootPlugin } from './root-plugin';

export interface InputGuardOptions {
  readonly bodyLimit: number;
}

/** Parses a request body: the checks above, then JSON.parse through Fastify's poisoning-safe parser. */
export function createJsonParser(strict: (text: string) => unknown) {
  return (text: string): unknown => {
    // An empty body is no body: Entra sends a content type on DELETE.
    if (text === '') return undefined;
    checkJsonText(text);
    return strict(text);
  };
}

function checkValue(name: string, value: unknown, where: string): void {
  if (typeof value !== 'string') return;
  const problem = textProblem(value);
  if (problem) throw badRequest(name === 'filter' ? 'invalidFilter' : 'invalidValue', `${where} "${name.slice(0, 40)}" ${problem}`);
}

function checkValues(values: unknown, where: string): void {
  if (values === null || typeof values !== 'object') return;
  // On every request: no allocation for the usual one or two values.
  for (const name in values as Record<string, unknown>) {
    const value = (values as Record<string, unknown>)[name];
    if (Array.isArray(value)) for (const item of value) checkValue(name, item, where);
    else checkValue(name, value, where);
  }
}

/** Throws a SCIM 400 when a path parameter or query value is not storable text. */
export function checkUrlText(request: FastifyRequest): void {
  checkValues(request.params, 'The path parameter');
  checkValues(request.query, 'The query parameter');
}

export const inputGuard = rootPlugin<InputGuardOptions>('scim-bridge-input-guard', (app, { bodyLimit }) => {
  const strict = app.getDefaultJsonParser('error', 'error');
  const parse = createJsonParser((text) => {
    let result: unknown;
    let failure: Error | null = null;
    // Fastify's default JSON parser answers synchronously through its callback.
    strict({} as never, text, (error, value) => {
      failure = error;
      result = value;
    });
    if (failure) throw failure;
    return result;
  });
  const handler = (_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      done(null, parse(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (error) {
      done(error as Error);
    }
  };
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string', bodyLimit }, handler);
  // Some clients send JSON with another or no content type; SCIM bodies are JSON whatever the header says.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, handler);

  app.addHook('preValidation', (request, _reply, done) => {
    try {
      checkUrlText(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
});
