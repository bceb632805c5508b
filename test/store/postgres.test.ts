import { PostgresStore, poolConfig } from '../../bridge/src/store/postgres';
import { describeStoreContract } from './contract';
import { describePostgres, freshDatabase } from '../support/postgres';

describePostgres('PostgreSQL store', () => {
  describeStoreContract(async () => PostgresStore.connect(await freshDatabase(), {}));

  it('migrates once when replicas start together', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.connect(url, {})));
    await Promise.all(stores.map((s) => s.migrate()));
    expect((await stores[0].counts()).groupsProtected).toBe(4);
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe('PostgreSQL connection settings', () => {
  it('encrypts by default to any host that is not loopback, and lets PG* fill the rest', () => {
    expect(poolConfig('postgres://db.internal/scim', {}).ssl).toEqual({ rejectUnauthorized: false });
    expect(poolConfig('postgres://127.0.0.1/scim', {}).ssl).toBe(false);
    expect(poolConfig('postgres://u@/scim?host=/cloudsql/p:r:i', {}).ssl).toBe(false);
    expect(poolConfig('postgres://db.internal/scim?sslmode=verify-full', {}).ssl).toMatchObject({ rejectUnauthorized: true });
    expect(poolConfig('postgres://db.internal/scim', { PGSSLMODE: 'disable' }).ssl).toBe(false);
    // sslmode is handled here, not passed on to the driver's own (stricter) reading of it
    expect(poolConfig('postgres://u@db.internal:6432/scim?sslmode=require', {})).toMatchObject({
      host: 'db.internal',
      port: 6432,
      user: 'u',
      database: 'scim',
    });
    expect(poolConfig('postgres://u@/scim?host=/cloudsql/p:r:i', {})).toMatchObject({ host: '/cloudsql/p:r:i', password: undefined });
  });

  it('names the mistake in a bad URL or sslmode', () => {
    expect(() => poolConfig('postgres://db/x?sslmode=sometimes', {})).toThrow(/sslmode must be one of/);
    expect(() => poolConfig('postgres://db:port/x', {})).toThrow(/not a valid postgres|invalid port/);
  });

  it('sizes the pool for small containers', () => {
    expect(poolConfig('postgres://db/x', {}).max).toBe(5);
    expect(poolConfig('postgres://db/x', { SCIM_DATABASE_POOL_SIZE: '12' }).max).toBe(12);
  });
});
