/** SCIM protocol messages shared by the directory and the HTTP layer (RFC 7644 §3.4.2, §8.1). */
import { LIST_RESPONSE_SCHEMA } from './schemas';

/** The media type of every SCIM answer. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function listResponse(totalResults: number, startIndex: number, resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}
