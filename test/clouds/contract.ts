/**
 * The cloud contract: what every Pulumi cloud of the kit promises, written once and run against each cloud's mocks
 * (as test/store/contract.ts is for the stores). Each cloud's file calls `cloudContract(adapter)`.
 *
 * - protection and destroy: the database refuses deletion by default; with deletionProtection off a destroy is refused
 *   by nothing and leaves nothing behind whose name a redeploy would meet;
 * - replicas and scaling: the shared minReplicas/maxReplicas reach the platform;
 * - environment and secrets: the shared plain environment, the scimsession and the webhook signing secrets only in the
 *   cloud's secret store, the change feed's settings (webhooks, deprovisionGuard, schemaExtensions);
 * - outputs: the shared names, and what the next run reads back;
 * - day two: a second run plans what the first did (no value that changes by itself); scaling down never shrinks
 *   the database; a database version moves only forward, in place; a preview calls only the data sources, and the
 *   program assigns only the roles, that docs/pipelines.md (and docs/pipelines.roles.json beside it) document.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_ENV } from '../../contract';
import { OUTPUT_NAMES, PREVIOUS_DEPLOYMENT_OUTPUTS } from '../../constructs/common';
import { type Recorded, type Run, SESSION, redact } from '../support/pulumi-harness';
import type { CloudAdapter } from './adapters';
import { destroyPlan } from './destroy';

const ROLES = JSON.parse(readFileSync(join(__dirname, '../../docs/pipelines.roles.json'), 'utf8'));
const PIPELINES_DOC = readFileSync(join(__dirname, '../../docs/pipelines.md'), 'utf8');

export const WEBHOOKS = [{ name: 'app', url: 'https://app.example.com/hooks/scim', events: ['user.*', 'group.*'] }];
export const WEBHOOK_SECRETS = '{"app":"whsec_c2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz"}';
export const SCHEMA_EXTENSIONS =
  '[{"id":"urn:example:params:scim:schemas:extension:acme:2.0:User","name":"Acme","attributes":[{"name":"costCenter","type":"string"}]}]';

/** Every place a string occurs in a run's inputs outside a Pulumi secret. */
function plainOccurrences(run: Run, needle: string): string[] {
  return run.resources.filter((r) => JSON.stringify(redact(r.wire)).includes(needle)).map((r) => `${r.type} ${r.name}`);
}

/** Inputs by URN, for comparing two runs (stack references read the previous run: left out). */
function inputsByUrn(run: Run): Map<string, any> {
  return new Map(run.resources.filter((r) => r.type !== 'pulumi:pulumi:StackReference').map((r) => [r.urn, r.inputs]));
}

async function refusal(adapter: CloudAdapter, config: Record<string, string>, options?: Parameters<CloudAdapter['run']>[1]): Promise<string> {
  try {
    await adapter.run(config, options);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the stack to refuse this configuration');
}

export function cloudContract(adapter: CloudAdapter): void {
  const base = adapter.base;
  const roles = ROLES[adapter.cloud];

  describe(`${adapter.cloud}: protection and destroy`, () => {
    let open: Run;
    beforeAll(async () => {
      open = await adapter.run({ ...base, deletionProtection: 'false' });
    });

    test('by default the database refuses deletion (protect)', async () => {
      const run = await adapter.run(base);
      expect(adapter.database(run).options.protect).toBe(true);
      expect(destroyPlan(run).refused).toContain(adapter.database(run));
    });

    test('with deletionProtection off nothing refuses a destroy', () => {
      expect(open.protectedResources().map((r) => `${r.type} ${r.name}`)).toEqual([]);
      expect(destroyPlan(open).refused).toEqual([]);
    });

    test('a destroy leaves nothing behind whose name a redeploy would meet (what it keeps is named from the random suffix)', () => {
      for (const kept of destroyPlan(open).retained) {
        const names = ['name', 'accountId', 'secretId', 'repositoryId'].map((k) => kept.inputs[k]).filter((v) => typeof v === 'string');
        expect(names.length).toBeGreaterThan(0);
        for (const name of names) expect(adapter.suffix && name.includes(adapter.suffix)).toBeTruthy();
      }
    });

    test('what goes with another resource goes with one that is itself deleted', () => {
      const plan = destroyPlan(open);
      const gone = new Set<Recorded>([...plan.deleted, ...plan.takenAlong]);
      for (const r of plan.takenAlong) expect(gone.has(open.deletedWith(r)!)).toBe(true);
    });
  });

  describe(`${adapter.cloud}: replicas and scaling`, () => {
    test('minReplicas and maxReplicas reach the platform', async () => {
      expect(adapter.scaling(await adapter.run({ ...base, minReplicas: '2', maxReplicas: '4' }))).toEqual({ min: 2, max: 4 });
      expect(adapter.scaling(await adapter.run({ ...base, minReplicas: '3', maxReplicas: '3' }))).toEqual({ min: 3, max: 3 });
    });
  });

  describe(`${adapter.cloud}: environment and secrets`, () => {
    let run: Run;
    beforeAll(async () => {
      run = await adapter.run({
        ...base,
        webhooks: JSON.stringify(WEBHOOKS),
        webhookSecrets: WEBHOOK_SECRETS,
        deprovisionGuard: JSON.stringify({ count: 25, percent: 5, windowSeconds: 600, settleSeconds: 30 }),
        schemaExtensions: SCHEMA_EXTENSIONS,
        undeclaredExtensions: 'keep',
      });
    });

    test('the shared plain environment: trust in front, metrics behind the token, log level', () => {
      const env = adapter.environment(run);
      expect(env[BRIDGE_ENV.metricsRequireToken]).toBe('true');
      expect(env[BRIDGE_ENV.logLevel]).toBe('info');
      expect(typeof env[BRIDGE_ENV.trustProxy]).toBe('string');
    });

    test('the change feed: declared endpoints as plain JSON, the guard and the schema extensions as set', () => {
      const env = adapter.environment(run);
      expect(JSON.parse(env[BRIDGE_ENV.webhooks] as string)).toEqual(WEBHOOKS);
      expect(env[BRIDGE_ENV.deprovisionHoldCount]).toBe('25');
      expect(env[BRIDGE_ENV.deprovisionHoldPercent]).toBe('5');
      expect(env[BRIDGE_ENV.deprovisionHoldWindowSeconds]).toBe('600');
      expect(env[BRIDGE_ENV.deprovisionSettleSeconds]).toBe('30');
      expect(JSON.parse(env[BRIDGE_ENV.schemaExtensions] as string)).toEqual(JSON.parse(SCHEMA_EXTENSIONS));
      expect(env[BRIDGE_ENV.undeclaredExtensions]).toBe('keep');
    });

    test('the webhook signing secrets live in the cloud’s secret store, reach the bridge as a secret reference, and nowhere in plain', () => {
      expect(adapter.environment(run)[BRIDGE_ENV.webhookSecrets]).toEqual({ secret: true });
      expect(adapter.inSecretStore(run, WEBHOOK_SECRETS)).toBe(true);
      expect(plainOccurrences(run, 'whsec_')).toEqual([]);
    });

    test('the scimsession likewise', () => {
      expect(adapter.inSecretStore(run, SESSION)).toBe(true);
      expect(plainOccurrences(run, 'aGFzaA')).toEqual([]);
    });

    test('without the change feed nothing of it is set', async () => {
      const env = adapter.environment(await adapter.run(base));
      for (const name of [BRIDGE_ENV.webhooks, BRIDGE_ENV.webhookSecrets, BRIDGE_ENV.deprovisionHoldCount, BRIDGE_ENV.schemaExtensions])
        expect(env[name]).toBeUndefined();
    });

    test('endpoints without signing secrets, secrets in plain text, and bad settings are refused naming the key', async () => {
      expect(await refusal(adapter, { ...base, webhooks: JSON.stringify(WEBHOOKS) })).toMatch(/^scim-bridge:webhookSecrets is required with webhooks/);
      expect(await refusal(adapter, { ...base, webhooks: JSON.stringify(WEBHOOKS), webhookSecrets: WEBHOOK_SECRETS }, { secretKeys: ['scimSession'] })).toMatch(
        /^scim-bridge:webhookSecrets must be set as a secret/,
      );
      expect(await refusal(adapter, { ...base, webhooks: '[{"name":"app","url":"http://app.example.com"}]', webhookSecrets: WEBHOOK_SECRETS })).toMatch(
        /^scim-bridge:webhooks\[0\]\.url must be an https:\/\/ URL/,
      );
      expect(await refusal(adapter, { ...base, deprovisionGuard: '{"percent":150}' })).toMatch(
        /^scim-bridge:deprovisionGuard\.percent must be a number from 0 to 100/,
      );
      expect(await refusal(adapter, { ...base, schemaExtensions: '[{"name":"no id"}]' })).toMatch(
        /^scim-bridge:schemaExtensions\[0\]\.id must be the extension's URN/,
      );
    });
  });

  describe(`${adapter.cloud}: outputs`, () => {
    test('the shared outputs, and what the next run reads back', async () => {
      const run = await adapter.run(base);
      for (const name of Object.values(OUTPUT_NAMES)) expect(run.outputs[name]).toBeDefined();
      expect(run.outputs.scimBaseUrl).toMatch(/^https:\/\/[^/]+\/scim\/v2$/);
      expect(run.outputs[PREVIOUS_DEPLOYMENT_OUTPUTS.databaseVersion]).toBe(adapter.databaseVersion(run));
      expect(run.outputs[PREVIOUS_DEPLOYMENT_OUTPUTS.databaseSize]).toBe(adapter.databaseSize(run));
    });
  });

  describe(`${adapter.cloud}: day two`, () => {
    test('a second run with no change plans the same resources with the same inputs (no perpetual diff)', async () => {
      const first = await adapter.run(base);
      const second = await adapter.run(base, { previousOutputs: first.outputs });
      const third = await adapter.run(base, { previousOutputs: second.outputs });
      expect([...inputsByUrn(second).keys()].sort()).toEqual([...inputsByUrn(first).keys()].sort());
      const before = inputsByUrn(second);
      for (const [urn, inputs] of inputsByUrn(third)) expect({ urn, inputs }).toEqual({ urn, inputs: before.get(urn) });
    });

    test('scaling down keeps the database as large as it is, under the same URN', async () => {
      const large = await adapter.run({ ...base, minReplicas: '2', maxReplicas: '8' });
      const small = await adapter.run({ ...base, minReplicas: '2', maxReplicas: '2' }, { previousOutputs: large.outputs });
      expect(adapter.databaseSize(small)).toBe(adapter.databaseSize(large));
      expect(adapter.database(small).urn).toBe(adapter.database(large).urn);
    });

    test('an unset database.version keeps the running one; an upgrade is in place; a downgrade is refused', async () => {
      const v16 = await adapter.run({ ...base, database: '{"version":"16"}' });
      const unset = await adapter.run(base, { previousOutputs: v16.outputs });
      expect(adapter.databaseVersion(unset)).toBe('16');
      const v17 = await adapter.run({ ...base, database: '{"version":"17"}' }, { previousOutputs: unset.outputs });
      expect(adapter.databaseVersion(v17)).toBe('17');
      expect(adapter.database(v17).urn).toBe(adapter.database(v16).urn);
      expect(adapter.database(v17).options.replaceOnChanges).toEqual([]);
      expect(await refusal(adapter, { ...base, database: '{"version":"15"}' }, { previousOutputs: v17.outputs })).toMatch(
        /^scim-bridge:database\.version is 15, but the database runs PostgreSQL 17: no managed PostgreSQL downgrades/,
      );
    });

    test('a preview calls only data sources whose read role docs/pipelines.md documents', async () => {
      // A preview of an existing stack (every input known, as after a first deploy) and of the variants that read more.
      const options = { preview: true, previousOutputs: (await adapter.run(base)).outputs };
      const runs = [await adapter.run(base, options), await adapter.run({ ...base, ...extraPreviewConfig(adapter) }, options)];
      const documented = roles.previewInvokes as Record<string, string>;
      for (const token of new Set(runs.flatMap((r) => r.invokes.map((i) => i.token))))
        expect({ token, documented: token in documented }).toEqual({ token, documented: true });
      for (const role of Object.values(documented)) if (!role.startsWith('none')) expect(roles.previewRoles).toContain(role);
      for (const role of roles.previewRoles) expect(PIPELINES_DOC).toContain(role);
    });

    test('every role the program assigns is documented, and the deploying identity gets only the documented ones', async () => {
      const run = await adapter.run({ ...base, webhooks: JSON.stringify(WEBHOOKS), webhookSecrets: WEBHOOK_SECRETS });
      const assigned = roles.assignedRoles as Record<string, string>;
      for (const grant of adapter.roleGrants(run)) {
        expect({ role: grant.role, documented: grant.role in assigned }).toEqual({ role: grant.role, documented: true });
        if (grant.principal === adapter.deployer) expect(roles.deployerRoles).toContain(grant.role);
      }
      // The role's id itself: the deploy identity's role-assignment condition must name each one it will be asked for.
      for (const id of Object.keys(assigned)) expect({ id, documented: PIPELINES_DOC.includes(id) }).toEqual({ id, documented: true });
    });
  });
}

/** Settings that make a cloud call the data sources it calls only sometimes (a DNS zone, an existing resource group). */
function extraPreviewConfig(adapter: CloudAdapter): Record<string, string> {
  if (adapter.cloud === 'gcp') return { dnsZone: 'example-zone' };
  if (adapter.cloud === 'azure') return { resourceGroupName: 'existing-rg' };
  return {};
}
