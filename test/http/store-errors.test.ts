/**
 * How the edge answers store failures: any StoreUnavailable (the store engineer's subclasses carry
 * `status` and `retryAfterSeconds`) is a 5xx with Retry-After and a SCIM body, never a bare 500.
 */
import { toScimError } from '../../bridge/src/http/app';
import { StoreUnavailable } from '../../bridge/src/store/types';

class StoreFull extends StoreUnavailable {
  readonly status = 507;
  readonly retryAfterSeconds = 60;
}
class PoolExhausted extends StoreUnavailable {
  readonly status = 503;
  readonly retryAfterSeconds = 1;
}

describe('store failures at the edge', () => {
  it('answers the base StoreUnavailable with 503 and Retry-After 5', () => {
    const error = toScimError(new StoreUnavailable('the database is unreachable'));
    expect(error).toMatchObject({ status: 503, retryAfter: 5 });
    expect(error.toJSON()).toMatchObject({ status: '503', detail: expect.stringContaining('cannot use its store') });
    expect(error.message).not.toContain('unreachable'); // the internal reason is logged, not answered
  });

  it("takes a subclass's status and Retry-After", () => {
    expect(toScimError(new StoreFull('SQLITE_FULL'))).toMatchObject({ status: 507, retryAfter: 60, message: expect.stringContaining('full') });
    expect(toScimError(new PoolExhausted('pool exhausted'))).toMatchObject({ status: 503, retryAfter: 1 });
  });

  it('never answers a client status for a store failure', () => {
    const odd = Object.assign(new StoreUnavailable('x'), { status: 404, retryAfterSeconds: -3 });
    expect(toScimError(odd)).toMatchObject({ status: 503, retryAfter: 5 });
  });
});
