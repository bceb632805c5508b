/**
 * What a real `pulumi destroy` or a replacement does with the GCP stack, read from the resource options the engine
 * receives (protect, retainOnDelete, deletedWith, dependsOn) and the fields the provider acts on at delete time
 * (deletionProtection, deletionPolicy). Mocks never see options; the shared harness records them.
 */
import type { Recorded, Run } from '../support/pulumi-harness';
import { BASE, T, runGcpStack } from './mocks';

/** Every `[path, value]` of a field called `key` anywhere in a resource's inputs. */
function fields(r: Recorded, key: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === key ? out.push([`${path}.${k}`, x]) : walk(x, `${path}.${k}`);
  };
  walk(r.inputs, r.name);
  return out;
}

describe('data protected by default (deletionProtection unset)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runGcpStack({ config: BASE });
  });

  test('the instance refuses deletion three ways: Pulumi protect, the provider deletionProtection, the Cloud SQL API deletionProtectionEnabled; its backups outlive it', () => {
    const instance = run.one(T.sqlInstance);
    expect(instance.options.protect).toBe(true);
    expect(instance.inputs.deletionProtection).toBe(true);
    expect(instance.inputs.settings.deletionProtectionEnabled).toBe(true);
    expect(instance.inputs.settings.retainBackupsOnDelete).toBe(true);
  });

  test('the database refuses deletion and replacement (protect, PREVENT); the administrator refuses deletion (PREVENT)', () => {
    const database = run.one(T.sqlDatabase);
    expect(database.options.protect).toBe(true);
    expect(database.inputs.deletionPolicy).toBe('PREVENT');
    expect(run.one(T.sqlUser).inputs.deletionPolicy).toBe('PREVENT');
  });

  test('exactly the data is protected: nothing stateless holds up a destroy of the rest', () => {
    expect(
      run
        .protectedResources()
        .map((r) => r.type)
        .sort(),
    ).toEqual([T.sqlDatabase, T.sqlInstance]);
  });
});

describe('deletionProtection false: a destroy is blocked by nothing', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runGcpStack({ config: { ...BASE, deletionProtection: 'false' } });
  });

  test('nothing is protected and no field anywhere refuses deletion', () => {
    expect(run.protectedResources()).toEqual([]);
    for (const r of run.resources) {
      for (const [path, value] of [...fields(r, 'deletionProtection'), ...fields(r, 'deletionProtectionEnabled')]) expect([path, value]).toEqual([path, false]);
      for (const [path, value] of fields(r, 'deletionPolicy')) expect([path, value]).not.toEqual([path, 'PREVENT']);
    }
    expect(run.one(T.sqlInstance).inputs.settings.retainBackupsOnDelete).toBe(false);
  });

  // The provider: "ABANDON ... useful for Postgres, where users cannot be deleted from the API if they have been
  // granted SQL roles" (gcp.sql.User deletionPolicy); the same for a database other roles can reach (gcp.sql.Database).
  test('the database and the SQL user are ABANDON and deleted with their instance, so PostgreSQL never refuses to drop a role that owns objects', () => {
    const instance = run.one(T.sqlInstance);
    for (const r of [run.one(T.sqlDatabase), run.one(T.sqlUser)]) {
      expect([r.name, r.inputs.deletionPolicy]).toEqual([r.name, 'ABANDON']);
      expect(run.deletedWith(r)).toBe(instance);
    }
  });

  // Cloud Run v2 Service and Job: deletionProtection "Defaults to true ... a destroy that would delete the service will
  // fail" unless it is false in state (the provider's documentation).
  test('the service and the bootstrap job say deletionProtection false explicitly (the provider default, true, blocks every destroy)', () => {
    expect(run.one(T.service).inputs.deletionProtection).toBe(false);
    expect(run.one(T.job).inputs.deletionProtection).toBe(false);
  });

  // Direct VPC egress keeps the subnet's addresses for one to two hours after the service is deleted
  // (cloud.google.com/run/docs/configuring/vpc-direct-vpc#delete-subnet): deleting them in the same destroy fails.
  test('the network and subnet are left by a destroy (retainOnDelete) instead of failing it; nothing else is', () => {
    const kept = run.resources
      .filter((r) => r.options.retainOnDelete)
      .map((r) => r.type)
      .sort();
    expect(kept).toEqual([T.network, T.subnetwork]);
  });

  test('the APIs stay enabled (other workloads may use them) and nothing depends on disabling them', () => {
    expect(run.ofType(T.api).every((a) => a.inputs.disableOnDestroy === false)).toBe(true);
  });
});

describe('what waits for what (a first deploy, in order)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runGcpStack({ config: BASE });
  });

  test('the service waits for the bootstrap job, every grant on its secrets and every secret version it names', () => {
    const service = run.one(T.service);
    expect(run.waitsFor(service, run.one(T.job))).toBe(true);
    for (const name of ['scim-bridge-service-scimsession', 'scim-bridge-service-db-password'])
      expect(run.waitsFor(service, run.one(T.secretIam, name))).toBe(true);
    for (const name of ['scim-bridge-service-scimsession', 'scim-bridge-db-app-password'])
      expect(run.waitsFor(service, run.one(T.secretVersion, name))).toBe(true);
  });

  test('the bootstrap job waits for its grants, the versions it reads, the database, its administrator, the endpoint and the DNS name', () => {
    const job = run.one(T.job);
    for (const name of ['scim-bridge-bootstrap-admin-url', 'scim-bridge-bootstrap-app-password'])
      expect(run.waitsFor(job, run.one(T.secretIam, name))).toBe(true);
    for (const name of ['scim-bridge-db-admin-url', 'scim-bridge-db-app-password']) expect(run.waitsFor(job, run.one(T.secretVersion, name))).toBe(true);
    for (const r of [run.one(T.sqlDatabase), run.one(T.sqlUser), run.one(T.forwardingRule), run.one(T.recordSet, 'scim-bridge-db-dns')])
      expect([r.name, run.waitsFor(job, r)]).toEqual([r.name, true]);
  });

  test('the endpoint targets the instance attachment, inside the subnet the service uses', () => {
    expect(run.waitsFor(run.one(T.forwardingRule), run.one(T.sqlInstance))).toBe(true);
    expect(run.waitsFor(run.one(T.internalAddress), run.one(T.subnetwork))).toBe(true);
  });

  test('the bootstrap runs again exactly when the image or the app password changes (runExecutionToken)', async () => {
    const token = (r: Run) => r.one(T.job).inputs.runExecutionToken;
    const same = await runGcpStack({ config: BASE });
    expect(token(same)).toBe(token(run));
    const newImage = await runGcpStack({ config: { ...BASE, image: 'example/scim-bridge:2' } });
    expect(token(newImage)).not.toBe(token(run));
  });
});
