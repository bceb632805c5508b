/**
 * A list response bounded in bytes (RFC 7644 §3.4.2.4 lets a server answer fewer resources than `count`): the
 * resources are serialized one by one and the page ends at the last whole resource that fits MAX_PAGE_BYTES, with
 * `itemsPerPage` saying how many came. A client that asks for the next page at `startIndex + itemsPerPage` skips no
 * one; `totalResults` stays the whole count. The first resource always comes, so paging always advances.
 */
import { LIST_RESPONSE_SCHEMA } from '../scim/schemas';

/** The most a list page's resources take as JSON (UTF-8 bytes); SECURITY.md documents it. */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** The ListResponse's JSON text, cut at a whole resource when the page would exceed `maxBytes`. */
export function listResponseText(totalResults: number, startIndex: number, resources: readonly unknown[], maxBytes = MAX_PAGE_BYTES): string {
  const parts: string[] = [];
  let bytes = 0;
  for (const resource of resources) {
    const text = JSON.stringify(resource);
    bytes += Buffer.byteLength(text);
    if (parts.length > 0 && bytes > maxBytes) break;
    parts.push(text);
  }
  return `{"schemas":${JSON.stringify([LIST_RESPONSE_SCHEMA])},"totalResults":${totalResults},"startIndex":${startIndex},"itemsPerPage":${parts.length},"Resources":[${parts.join(',')}]}`;
}
