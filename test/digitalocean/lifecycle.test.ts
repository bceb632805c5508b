/**
 * What a real `pulumi destroy` or a replacing change does, read from the resource options the engine receives
 * (mocks never see them; the shared harness records them). The data is protected by default; `deletionProtection:
 * false` is the one opt-out, and then nothing blocks a destroy.
 */
import type { Recorded, Run } from '../support/pulumi-harness';
import { BASE_CONFIG, T, runDigitalOceanStack } from './mocks';

let defaults: Run;
let unprotected: Run;
beforeAll(async () => {
  defaults = await runDigitalOceanStack(BASE_CONFIG);
  unprotected = await runDigitalOceanStack({ ...BASE_CONFIG, deletionProtection: 'false' });
});

const DATA = [T.cluster, T.db, T.user];

describe('deletionProtection (default true)', () => {
  test('the cluster, its database and the bridge role are protected: a destroy, or a change that replaces the cluster, is refused', () => {
    for (const type of DATA) expect(defaults.one(type).options.protect).toBe(true);
    expect(
      defaults
        .protectedResources()
        .map((r) => r.type)
        .sort(),
    ).toEqual([...DATA].sort());
  });

  test('the app, the job and the image are not data: they stay replaceable', () => {
    expect(defaults.one(T.app).options.protect).toBe(false);
    expect(defaults.one(T.image).options.protect).toBe(false);
  });
});

describe('deletionProtection false', () => {
  test('nothing is protected', () => {
    expect(unprotected.protectedResources()).toEqual([]);
  });

  test('the database, the role and the trusted sources go with the cluster (deletedWith), so a destroy never drops a role that owns the tables', () => {
    // DigitalOcean deletes a user with DROP ROLE, which PostgreSQL refuses while the role owns the bridge's tables
    // (the same reason Cloud SQL users need ABANDON); deleting the cluster removes them all.
    const cluster = unprotected.one(T.cluster);
    for (const type of [T.db, T.user, T.firewall]) expect(unprotected.deletedWith(unprotected.one(type))).toBe(cluster);
    expect(unprotected.one(T.cluster).options.deletedWith).toBe('');
  });
});

describe('children of small components, as before under their old parent', () => {
  const componentOf = (run: Run, r: Recorded) => run.byUrn(r.options.parent);

  test('the database resources belong to BridgeDatabase, the image resources to BridgeImage, the app to ScimBridgeDigitalOcean', () => {
    for (const type of [...DATA, T.firewall]) expect(componentOf(defaults, defaults.one(type))?.type).toBe(T.database);
    for (const type of [T.registry, T.image]) expect(componentOf(defaults, defaults.one(type))?.type).toBe(T.bridgeImage);
    expect(componentOf(defaults, defaults.one(T.app))?.type).toBe(T.component);
  });

  test('each moved resource keeps its name and carries an alias to its former parent: an upgrade moves it, never replaces it', () => {
    const top = defaults.one(T.component);
    const expected: Record<string, string> = {
      [T.cluster]: 'scim-bridge-pg',
      [T.db]: 'scim-bridge-db',
      [T.user]: 'scim-bridge-db-user',
      [T.firewall]: 'scim-bridge-pg-firewall',
      [T.registry]: 'scim-bridge-registry',
      [T.image]: 'scim-bridge-image',
    };
    for (const [type, name] of Object.entries(expected)) {
      const r = defaults.one(type);
      expect(r.name).toBe(name);
      expect(r.options.aliases).toEqual([{ parentUrn: top.urn }]);
    }
    expect(defaults.one(T.app).name).toBe('scim-bridge-app');
  });

  test('the cluster stays in the VPC it is in (private_network_uuid forces a replacement), unless vpcId pins one', async () => {
    expect(defaults.one(T.cluster).inputs.privateNetworkUuid).toBeUndefined();
    const pinned = await runDigitalOceanStack({ ...BASE_CONFIG, vpcId: '0b5b5bde-1f4e-4a4a-8cf5-3c1bb2f7c0de' });
    expect(pinned.one(T.cluster).inputs.privateNetworkUuid).toBe('0b5b5bde-1f4e-4a4a-8cf5-3c1bb2f7c0de');
    expect(pinned.one(T.app).inputs.spec.vpcs).toEqual([{ id: '0b5b5bde-1f4e-4a4a-8cf5-3c1bb2f7c0de' }]);
  });
});
