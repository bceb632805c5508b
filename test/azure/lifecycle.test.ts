/**
 * What a real `pulumi destroy` or replacement does, read from the resource options the harness records (mocks never
 * see them). The rules encoded:
 * - azure-native creates and reads keyvault.Secret through Resource Manager but deletes it through the vault's data
 *   plane (pulumi/pulumi-azure-native#354; the 401/403 of #2374), which Owner or Contributor + RBAC Administrator
 *   lack on an RBAC vault: so secrets are `deletedWith` their vault, and the deployer holds Key Vault Secrets Officer
 *   on that vault for a secret removed on its own.
 * - `protect` refuses a destroy or a replacement (pulumi.com/docs/iac/concepts/options/protect); a CanNotDelete lock
 *   refuses deletion from anywhere, and only Owner or User Access Administrator may write locks
 *   (learn.microsoft.com/rest/api/resources/management-locks), so the lock is opt-in.
 * - Purge protection cannot be turned off once on (the API takes no `false`) and a soft-deleted vault or secret keeps
 *   its name (pulumi/pulumi-azure-native#1174): names are random so a re-deploy never meets one.
 * - Role assignments take minutes to propagate, and Container Apps checks Key Vault references when an app or job is
 *   created (microsoft/azure-container-apps#1174): the app and the job wait for a pause after every grant.
 */
import { AZURE_ROLES, principalTypeOfToken } from '../../constructs/azure';
import { BASE, DEPLOYER, SUBSCRIPTION, SUFFIX, T, runAzure } from './mocks';
import type { Run } from './mocks';

const role = (id: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const names = (rs: { name: string }[]) => rs.map((r) => r.name).sort();
const GOOGLE = {
  googleCredentials: '{"type":"service_account"}',
  googleWorkspace: JSON.stringify({ adminEmail: 'admin@example.com', groups: ['eng@example.com'] }),
};

describe('by default the data is protected', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runAzure({ ...BASE });
  });

  test('the server, its database and the vault holding its passwords refuse deletion and replacement; nothing else does', () => {
    expect(names(run.protectedResources())).toEqual(['scim-bridge-db', 'scim-bridge-kv', 'scim-bridge-pg']);
    expect(run.resources.filter((r) => r.options.retainOnDelete)).toEqual([]);
  });

  test('no management lock unless asked for (it needs Owner or User Access Administrator)', () => {
    expect(run.ofType(T.lock)).toHaveLength(0);
  });

  test('every Key Vault secret is deleted with its vault, so a destroy needs no data-plane right', () => {
    const vault = run.one(T.vault);
    expect(run.ofType(T.secret).length).toBeGreaterThanOrEqual(3);
    for (const secret of run.ofType(T.secret)) expect(run.deletedWith(secret)).toBe(vault);
  });

  test('the deployer holds Key Vault Secrets Officer on this vault for a secret removed on its own, and secrets are deleted before it', () => {
    const officer = run.ofType(T.role).filter((r) => r.inputs.roleDefinitionId === role(AZURE_ROLES.keyVaultSecretsOfficer));
    expect(officer).toHaveLength(1);
    // The mocks' token is not a user's: a pipeline's service principal (azure-native would otherwise send "User").
    expect(officer[0].inputs).toEqual(expect.objectContaining({ scope: run.one(T.vault).id, principalId: DEPLOYER, principalType: 'ServicePrincipal' }));
    for (const secret of run.ofType(T.secret)) expect(run.waitsFor(secret, officer[0])).toBe(true);
  });

  test('the vault: RBAC, soft delete and purge protection on; its name random per stack', () => {
    const vault = run.one(T.vault).inputs;
    expect(vault.properties).toMatchObject({
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      enablePurgeProtection: true,
    });
    expect(vault.properties.accessPolicies).toBeUndefined();
    expect(vault.vaultName).toBe(`scim-kv-${SUFFIX}`);
    expect(run.waitsFor(run.one(T.vault), run.one('random:index/randomString:RandomString', 'scim-bridge-suffix'))).toBe(true);
  });
});

test('managementLock puts a CanNotDelete lock on the server; deployerPrincipalType overrides what the token says', async () => {
  const run = await runAzure({ ...BASE, managementLock: 'true', deployerPrincipalType: 'User' });
  expect(run.one(T.lock).inputs).toMatchObject({ scope: run.one(T.server).id, level: 'CanNotDelete' });
  const officer = run.ofType(T.role).find((r) => r.inputs.roleDefinitionId === role(AZURE_ROLES.keyVaultSecretsOfficer))!;
  expect(officer.inputs.principalType).toBe('User');
});

test.each([
  [{ idtyp: 'app', oid: 'x' }, 'ServicePrincipal'],
  [{ idtyp: 'user', scp: 'user_impersonation' }, 'User'],
  [{ scp: 'user_impersonation', upn: 'ops@example.com' }, 'User'],
  [{ roles: [], appid: 'pipeline' }, 'ServicePrincipal'],
])('principalTypeOfToken reads Entra token claims %j as %s', (claims, type) => {
  const jwt = ['{"alg":"none"}', JSON.stringify(claims), ''].map((p) => Buffer.from(p).toString('base64url')).join('.');
  expect(principalTypeOfToken(jwt)).toBe(type);
  expect(principalTypeOfToken('not-a-jwt')).toBe('ServicePrincipal');
});

describe('deletionProtection false, the one opt-out: nothing stands in the way of a destroy', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runAzure({ ...BASE, ...GOOGLE, deletionProtection: 'false', managementLock: 'true' }, ['scimSession', 'googleCredentials']);
  });

  test('no resource is protected and no lock is made, even with managementLock set', () => {
    expect(run.protectedResources()).toEqual([]);
    expect(run.ofType(T.lock)).toHaveLength(0);
  });

  test('every secret, the optional Google key included, is still deleted with the vault', () => {
    const vault = run.one(T.vault);
    expect(names(run.ofType(T.secret))).toEqual(['scim-bridge-google', 'scim-bridge-pg-admin-url', 'scim-bridge-pg-password', 'scim-bridge-scimsession']);
    for (const secret of run.ofType(T.secret)) expect(run.deletedWith(secret)).toBe(vault);
  });

  test('the optional secret gets a fresh name each time it is created, so removing then adding it never meets its soft-deleted self', () => {
    const google = run.one(T.secret, 'scim-bridge-google');
    expect(google.inputs.secretName).toBe('google-credentials-r4nd0m');
    expect(run.waitsFor(google, run.one('random:index/randomString:RandomString', 'scim-bridge-google-name'))).toBe(true);
  });
});

describe('first deploy: grants propagate before anything uses them', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runAzure({ ...BASE, ...GOOGLE, rolePropagationSeconds: '300' }, ['scimSession', 'googleCredentials']);
  });
  const identityRoles = () => run.ofType(T.role).filter((r) => ['app-principal-id', 'bootstrap-principal-id'].includes(r.inputs.principalId));
  const pause = () => run.one(T.dynamic, 'scim-bridge-rbac-propagation');

  test('the pause waits for every role granted to an identity, and pauses again if one is replaced', () => {
    expect(identityRoles()).toHaveLength(7);
    for (const grant of identityRoles()) expect(grant.inputs.principalType).toBe('ServicePrincipal');
    for (const grant of identityRoles()) expect(run.waitsFor(pause(), grant)).toBe(true);
    expect(pause().inputs.triggers.sort()).toEqual(
      identityRoles()
        .map((g) => g.id)
        .sort(),
    );
    expect(pause().inputs.seconds).toBe(300);
  });

  test('the container app and the bootstrap job are created only after the pause', () => {
    expect(run.waitsFor(run.one(T.app), pause())).toBe(true);
    expect(run.waitsFor(run.one(T.job), pause())).toBe(true);
  });

  test('identities are granted single secrets and the registry, never a vault, a group or a subscription', () => {
    const secretIds = run.ofType(T.secret).map((s) => s.id);
    for (const grant of identityRoles()) expect([...secretIds, run.one(T.registry).id]).toContain(grant.inputs.scope);
  });
});
