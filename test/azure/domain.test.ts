/**
 * The custom domain on the shared `domain` arg, phase by phase. A managed certificate can be created only once its
 * host name is on an app in the environment (RequireCustomHostnameInEnvironment), so `bind` issues it before the app
 * binds it (the host name went on in `hostname`), and `auto` (bindingType "Auto", API 2024-10-02-preview and later)
 * issues it after the app (learn.microsoft.com/azure/container-apps/custom-domains-managed-certificates).
 */
import { APP_FQDN, BASE, T, VERIFICATION_ID, runAzure } from './mocks';
import type { Run } from './mocks';

const withZone = { ...BASE, dnsZone: 'example.com', dnsZoneResourceGroup: 'dns-rg' };
const customDomains = (run: Run) => run.one(T.app).inputs.configuration.ingress.customDomains;
const RECORDS = [
  { name: 'scim.example.com', type: 'CNAME', value: APP_FQDN, purpose: 'traffic' },
  { name: 'asuid.scim.example.com', type: 'TXT', value: VERIFICATION_ID, purpose: 'domain ownership' },
];

function expectZoneRecords(run: Run): void {
  const record = (type: string) => run.ofType(T.record).find((r) => r.inputs.recordType === type)!.inputs;
  expect(run.ofType(T.record)).toHaveLength(2);
  expect(record('CNAME')).toMatchObject({
    resourceGroupName: 'dns-rg',
    zoneName: 'example.com',
    relativeRecordSetName: 'scim',
    cnameRecord: { cname: APP_FQDN },
  });
  expect(record('TXT')).toMatchObject({
    resourceGroupName: 'dns-rg',
    zoneName: 'example.com',
    relativeRecordSetName: 'asuid.scim',
    txtRecords: [{ value: [VERIFICATION_ID] }],
  });
  expect(run.outputs.dnsRecords).toEqual(RECORDS);
}

test('with an Azure DNS zone, the first run (hostname): records, then the host name on the app unbound, no certificate yet', async () => {
  const run = await runAzure(withZone);
  expectZoneRecords(run);
  expect(customDomains(run)).toEqual([{ name: 'scim.example.com', bindingType: 'Disabled' }]);
  for (const r of run.ofType(T.record)) expect(run.waitsFor(run.one(T.app), r)).toBe(true);
  expect(run.ofType(T.cert)).toHaveLength(0);
  expect(run.outputs.scimBaseUrl).toBe(`https://${APP_FQDN}/scim/v2`);
  expect(run.outputs.customDomainPhase).toBe('hostname');
  expect(run.outputs.nextSteps).toContain('pulumi config set customDomainPhase bind -s azure && pulumi up -s azure');
  expect(run.outputs.nextSteps).not.toContain('at your DNS provider');
});

test('bind: the certificate, validated by CNAME, comes first and is bound with SNI; identity providers get the domain', async () => {
  const run = await runAzure({ ...withZone, customDomainPhase: 'bind' });
  expectZoneRecords(run);
  const cert = run.one(T.cert);
  expect(cert.inputs).toMatchObject({
    environmentName: 'scim-bridge-env-env',
    properties: { subjectName: 'scim.example.com', domainControlValidation: 'CNAME' },
  });
  expect(customDomains(run)).toEqual([{ name: 'scim.example.com', bindingType: 'SniEnabled', certificateId: cert.id }]);
  expect(run.waitsFor(run.one(T.app), cert)).toBe(true);
  expect(run.waitsFor(cert, run.one(T.app))).toBe(false);
  expect(run.outputs.scimBaseUrl).toBe('https://scim.example.com/scim/v2');
  expect(run.outputs.nextSteps).not.toContain('customDomainPhase');
});

test('auto: one run; the Auto binding on the app, the certificate after it', async () => {
  const run = await runAzure({ ...withZone, customDomainPhase: 'auto' });
  expect(customDomains(run)).toEqual([{ name: 'scim.example.com', bindingType: 'Auto' }]);
  const cert = run.one(T.cert);
  expect(run.waitsFor(cert, run.one(T.app))).toBe(true);
  expect(run.waitsFor(run.one(T.app), cert)).toBe(false);
  expect(run.outputs.scimBaseUrl).toBe('https://scim.example.com/scim/v2');
});

test('DNS hosted elsewhere: records (the default) shows what to create and leaves the app alone; then hostname and bind as with a zone', async () => {
  const records = await runAzure({ ...BASE });
  expect(records.ofType(T.record)).toHaveLength(0);
  expect(customDomains(records)).toBeUndefined();
  expect(records.outputs.customDomainPhase).toBe('records');
  expect(records.outputs.dnsRecords).toEqual(RECORDS);
  expect(records.outputs.nextSteps).toContain(
    `Create these DNS records at your DNS provider: scim.example.com CNAME ${APP_FQDN} (traffic); asuid.scim.example.com TXT ${VERIFICATION_ID}`,
  );
  expect(records.outputs.nextSteps).toContain('pulumi config set customDomainPhase hostname -s azure');

  const bind = await runAzure({ ...BASE, customDomainPhase: 'bind' });
  expect(bind.ofType(T.record)).toHaveLength(0);
  expect(customDomains(bind)).toEqual([{ name: 'scim.example.com', bindingType: 'SniEnabled', certificateId: bind.one(T.cert).id }]);
  expect(bind.outputs.scimBaseUrl).toBe('https://scim.example.com/scim/v2');
});
