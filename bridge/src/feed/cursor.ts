/**
 * The cursors of the pull API: opaque to clients (base64url of a small JSON document), so what they hold can change
 * without breaking anyone. A feed cursor names a directory and the last position the client has seen; a snapshot
 * cursor also names the resource kind and id a page ended at. Parsing returns undefined for anything else.
 */
import { textProblem } from '../scim/text';

export interface FeedCursor {
  readonly directory: string;
  /** The last position delivered: the next read starts after it. */
  readonly position: number;
}

export interface SnapshotCursor {
  readonly directory: string;
  /** The feed position the snapshot is taken as of (the same on every page of one snapshot). */
  readonly position: number;
  /** Which resources the next page reads: users first, then groups. */
  readonly kind: 'User' | 'Group';
  /** The id the previous page ended at; absent at the start of a kind. */
  readonly after?: string;
}

/** Longest cursor accepted: a few hundred bytes hold any cursor this module writes. */
const MAX_CURSOR_LENGTH = 1024;

const encode = (doc: Record<string, unknown>) => Buffer.from(JSON.stringify(doc), 'utf8').toString('base64url');

function decode(text: string): Record<string, unknown> | undefined {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const doc: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isPosition = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 200 && textProblem(value) === undefined;

export function feedCursor(cursor: FeedCursor): string {
  return encode({ d: cursor.directory, p: cursor.position });
}

export function parseFeedCursor(text: string): FeedCursor | undefined {
  const doc = decode(text);
  if (!doc || !isName(doc.d) || !isPosition(doc.p) || 'k' in doc) return undefined;
  return { directory: doc.d, position: doc.p };
}

export function snapshotCursor(cursor: SnapshotCursor): string {
  return encode({ d: cursor.directory, p: cursor.position, k: cursor.kind, ...(cursor.after !== undefined ? { a: cursor.after } : {}) });
}

export function parseSnapshotCursor(text: string): SnapshotCursor | undefined {
  const doc = decode(text);
  if (!doc || !isName(doc.d) || !isPosition(doc.p) || (doc.k !== 'User' && doc.k !== 'Group')) return undefined;
  if (doc.a !== undefined && !isName(doc.a)) return undefined;
  return { directory: doc.d, position: doc.p, kind: doc.k, ...(doc.a !== undefined ? { after: doc.a as string } : {}) };
}
