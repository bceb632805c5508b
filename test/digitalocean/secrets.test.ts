/**
 * A changed scimsession always reaches App Platform, and an unchanged one shows no change.
 *
 * App Platform returns SECRET values encrypted (`EV[1:…]`) and keeps a value when its encrypted form is sent back
 * (digitalocean/terraform-provider-digitalocean#514, #1137); the provider compares the state's encrypted form with
 * the program's value (#1603), so "no diff" means: the value sent equals what the last update left in state.
 * Each run reads the stack's own `sealedSecrets` output from the last update (a self StackReference).
 */
import { BRIDGE_ENV } from '../../contract';
import { digest, envSecret, isSealed, sealedSecrets, secretValue } from '../../constructs/digitalocean';
import type { Run } from '../support/pulumi-harness';
import { BASE_CONFIG, GOOGLE_KEY, IMAGE_CREDENTIALS, SESSION, T, appOf, envOf, jobOf, runDigitalOceanStack, serviceOf } from './mocks';

const ROTATED = SESSION.replace('"t1"', '"t2"');
const GOOGLE = { googleWorkspace: JSON.stringify({ adminEmail: 'admin@example.com', groups: ['eng@example.com'] }), googleCredentials: GOOGLE_KEY };
const PRIVATE_IMAGE = { image: 'ghcr.io/acme/scim-bridge:1.4.2', imageCredentials: IMAGE_CREDENTIALS };
const ALL_SECRETS = ['scimSession', 'googleCredentials', 'imageCredentials'];

/** The spec App Platform holds after `run` (the App's state). */
const stateSpec = (run: Run) => appOf(run).state.spec;
/** The secrets a run sends, by where they sit. */
function sentSecrets(spec: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of ['services', 'jobs'] as const) {
    for (const c of spec[kind] ?? []) {
      for (const e of c.envs ?? []) if (e.type === 'SECRET') out[`${kind}/${c.name}/${e.key}`] = e.value;
      if (c.image?.registryCredentials) out[`${kind}/${c.name}/image.registryCredentials`] = c.image.registryCredentials;
    }
  }
  return out;
}

/** Deploys `config`, then runs it again as the next `pulumi preview`/`up` does: with the first run's outputs. */
async function twice(first: Record<string, string>, second: Record<string, string> = first) {
  const before = await runDigitalOceanStack(first, { secretKeys: ALL_SECRETS });
  const after = await runDigitalOceanStack(second, { secretKeys: ALL_SECRETS, previousOutputs: { sealedSecrets: before.outputs.sealedSecrets } });
  return { before, after };
}

describe('the same secrets on the next run: no change to the app', () => {
  test('every secret is sent in the encrypted form App Platform holds, so the spec equals the state', async () => {
    const config = { ...BASE_CONFIG, ...GOOGLE, ...PRIVATE_IMAGE };
    const { before, after } = await twice(config);
    const held = sentSecrets(stateSpec(before));
    expect(Object.keys(held).sort()).toEqual([
      'jobs/db-bootstrap/SCIM_DATABASE_ADMIN_URL',
      'jobs/db-bootstrap/image.registryCredentials',
      'services/bridge/SCIM_GOOGLE_CREDENTIALS',
      'services/bridge/SCIM_SESSION',
      'services/bridge/image.registryCredentials',
    ]);
    expect(Object.values(held).every(isSealed)).toBe(true);
    expect(sentSecrets(appOf(after).inputs.spec)).toEqual(held);
    // The whole spec, not just the secrets: nothing else drifts between the runs either.
    expect(appOf(after).inputs.spec).toEqual(stateSpec(before));
  });

  test('the first run of a new stack sends the plain values (nothing is held yet)', async () => {
    const run = await runDigitalOceanStack(BASE_CONFIG);
    expect(envOf(serviceOf(run), BRIDGE_ENV.session).value).toBe(SESSION);
    expect(run.one(T.stackReference).inputs.name).toBe('organization/scim-bridge/digitalocean');
  });
});

describe('a changed secret is always sent (no switch to flip)', () => {
  test('a rotated scimsession changes the spec: the new plain value goes out, the unchanged admin URL stays encrypted', async () => {
    const { before, after } = await twice(BASE_CONFIG, { ...BASE_CONFIG, scimSession: ROTATED });
    expect(envOf(serviceOf(after), BRIDGE_ENV.session).value).toBe(ROTATED);
    expect(appOf(after).inputs.spec).not.toEqual(stateSpec(before));
    expect(envOf(jobOf(after), BRIDGE_ENV.databaseAdminUrl).value).toBe(envOf(stateSpec(before).jobs[0], BRIDGE_ENV.databaseAdminUrl).value);
  });

  test('after the rotation the next run is quiet again, holding the new value', async () => {
    const first = await runDigitalOceanStack(BASE_CONFIG);
    const rotated = await runDigitalOceanStack({ ...BASE_CONFIG, scimSession: ROTATED }, { previousOutputs: { sealedSecrets: first.outputs.sealedSecrets } });
    const quiet = await runDigitalOceanStack({ ...BASE_CONFIG, scimSession: ROTATED }, { previousOutputs: { sealedSecrets: rotated.outputs.sealedSecrets } });
    expect(appOf(quiet).inputs.spec).toEqual(stateSpec(rotated));
    expect(rotated.outputs.sealedSecrets['services/bridge/SCIM_SESSION']).not.toEqual(first.outputs.sealedSecrets['services/bridge/SCIM_SESSION']);
  });

  test('rolling back to an older scimsession is a change too (the digest, not the age, decides)', async () => {
    const first = await runDigitalOceanStack(BASE_CONFIG);
    const rotated = await runDigitalOceanStack({ ...BASE_CONFIG, scimSession: ROTATED }, { previousOutputs: { sealedSecrets: first.outputs.sealedSecrets } });
    const back = await runDigitalOceanStack(BASE_CONFIG, { previousOutputs: { sealedSecrets: rotated.outputs.sealedSecrets } });
    expect(envOf(serviceOf(back), BRIDGE_ENV.session).value).toBe(SESSION);
  });

  test('changed image credentials are sent to both components', async () => {
    const { after } = await twice({ ...BASE_CONFIG, ...PRIVATE_IMAGE }, { ...BASE_CONFIG, ...PRIVATE_IMAGE, imageCredentials: 'octocat:ghp_new' });
    expect(serviceOf(after).image.registryCredentials).toBe('octocat:ghp_new');
    expect(jobOf(after).image.registryCredentials).toBe('octocat:ghp_new');
  });
});

describe('what travels between runs', () => {
  test('sealedSecrets is a secret stack output of encrypted forms and digests, never a plain value', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, ...GOOGLE }, { secretKeys: ALL_SECRETS });
    expect(run.secretOutputs).toContain('sealedSecrets');
    const text = JSON.stringify(run.outputs.sealedSecrets);
    expect(text).not.toContain('c2FsdA');
    expect(text).not.toContain('MIIgoogle');
    for (const entry of Object.values<any>(run.outputs.sealedSecrets)) {
      expect(isSealed(entry.sealed)).toBe(true);
      expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('a value App Platform did not return encrypted is neither kept nor sent back as if it were', async () => {
    const pulumi = await import('@pulumi/pulumi');
    const resolve = <T>(o: import('@pulumi/pulumi').Output<T>) => new Promise<T>((done) => o.apply(done));
    const placed = envSecret('services', 'bridge', 'SCIM_SESSION', SESSION);
    const plainSpec = { services: [{ name: 'bridge', envs: [{ key: 'SCIM_SESSION', value: SESSION, type: 'SECRET' }] }] };
    expect(await resolve(sealedSecrets(pulumi.output(plainSpec), [placed]))).toEqual({});
    const forged = { [placed.key]: { sha256: digest(placed.key, SESSION), sealed: 'not-encrypted' } };
    expect(await resolve(secretValue(placed.key, SESSION, forged))).toBe(SESSION);
  });

  test('a digest is bound to where the secret sits: the same value elsewhere is not taken for it', () => {
    expect(digest('services/bridge/SCIM_SESSION', 'x')).not.toBe(digest('jobs/db-bootstrap/SCIM_DATABASE_ADMIN_URL', 'x'));
  });

  test('a new project replaces the app (project_id forces a new one): nothing encrypted for the old app is sent to it', async () => {
    const { after } = await twice(BASE_CONFIG, { ...BASE_CONFIG, projectId: '00000000-0000-0000-0000-000000000000' });
    expect(envOf(serviceOf(after), BRIDGE_ENV.session).value).toBe(SESSION);
    expect(isSealed(envOf(jobOf(after), BRIDGE_ENV.databaseAdminUrl).value)).toBe(false);
  });

  test.each([
    ['a string', 'garbage'],
    ['an entry without a digest', { 'services/bridge/SCIM_SESSION': { sealed: 'EV[1:x]' } }],
    ['nothing', null],
  ])('a malformed sealedSecrets output (%s) is ignored: the plain values are sent', async (_what, sealedSecrets) => {
    const run = await runDigitalOceanStack(BASE_CONFIG, { previousOutputs: { sealedSecrets } });
    expect(envOf(serviceOf(run), BRIDGE_ENV.session).value).toBe(SESSION);
  });
});
