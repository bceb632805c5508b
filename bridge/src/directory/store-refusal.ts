/** The store's refusals (store/types.ts StoreRefused) as SCIM answers: the store speaks no protocol, the directory and the edge do. */
import { ScimError } from '../scim/errors';
import { StoreRefused } from '../store/types';

export function asScimError<T>(error: T): T | ScimError {
  return error instanceof StoreRefused ? new ScimError(error.status, error.message, error.scimType) : error;
}
