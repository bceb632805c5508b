/**
 * Constraint races as SCIM answers. The directory checks what a request names before it writes (members must be
 * provisioned users), but a concurrent request may delete a user between that check and the write: the database's
 * foreign key then refuses the write (PostgreSQL 23503, SQLite's FOREIGN KEY constraint). That is a conflict with
 * another request, not a server fault: 409 for a member deleted meanwhile, 404 for a group deleted meanwhile.
 * The transaction is rolled back whole either way.
 */
import { StoreRefused } from './types';

export function referenceGone(what: 'member' | 'group'): StoreRefused {
  if (what === 'group') return new StoreRefused(404, 'The group was deleted while this request was applied');
  return new StoreRefused(409, 'A user named as a member was deleted while this request was applied; nothing was changed; retry without it');
}
