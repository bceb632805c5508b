/**
 * How the edge answers store failures: any StoreUnavailable (its subclasses carry `status` and
 * `retryAfterSeconds`) is a 5xx with Retry-After and a SCIM body, never a bare 500.
 */
import { toScimError } from '../../bridge/src/http/app';
import { StoreFull, StorePoolExhausted, StoreUnavailable } from '../../bridge/src/store/types';

describe('store failures at the edge', () => {
  it('answers the base StoreUnavailable with 503 and Retry-After 5', () => {
    const error = toScimError(new StoreUnavailable('the database is unreachable'));
    expect(error).toMatchObject({ status: 503, retryAfter: 5 });
    expect(error.toJSON()).toMatchObject({ status: '503', detail: expect.stringContaining('cannot use its store') });
    expect(error.message).not.toContain('unreachable'); // the internal reason is logged, not answered
  });

  it("takes a subclass's status and Retry-After", () => {
    expect(toScimError(new StoreFull())).toMatchObject({ status: 507, retryAfter: 60, message: expect.stringContaining('out of space') });
    expect(toScimError(new StorePoolExhausted())).toMatchObject({ status: 503, retryAfter: 1 });
  });

  it('never answers a client status for a store failure', () => {
    const odd = Object.assign(new StoreUnavailable('x'), { status: 404, retryAfterSeconds: -3 });
    expect(toScimError(odd)).toMatchObject({ status: 503, retryAfter: 5 });
  });
});
