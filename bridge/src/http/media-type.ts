/**
 * The media type of an answer (RFC 7644 §8.1): `application/scim+json`, unless the client asked for
 * `application/json` and not for SCIM's own type (OneLogin's developer guide requires `application/json` answers).
 */
import { SCIM_CONTENT_TYPE } from '../scim/messages';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

// Identity providers send the same Accept on every request: remember the last answer.
let lastAccept: string | undefined;
let lastType = SCIM_CONTENT_TYPE;

export function responseMediaType(accept: string | undefined): string {
  if (accept === undefined || accept === '') return SCIM_CONTENT_TYPE;
  if (accept === lastAccept) return lastType;
  const lower = accept.toLowerCase();
  const type = !lower.includes('application/scim+json') && /(^|[,\s])application\/json\s*(;|,|$)/.test(lower) ? JSON_CONTENT_TYPE : SCIM_CONTENT_TYPE;
  lastAccept = accept;
  lastType = type;
  return type;
}
