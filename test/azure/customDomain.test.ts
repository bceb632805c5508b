/**
 * The custom domain, phase by phase: DNS records, host name on the app, managed certificate, SNI binding,
 * and the order each phase needs (a certificate only exists once its host name is on an app).
 */
import { ENV_DOMAIN, Run, SESSION, T, VERIFICATION_ID, runAzureStack } from './harness';

const APP_FQDN = `scim-bridge.${ENV_DOMAIN}`;
const withZone = { location: 'westeurope', scimSession: SESSION, domain: 'scim.example.com', dnsZoneName: 'example.com', dnsZoneResourceGroup: 'dns-rg' };
const noZone = { location: 'westeurope', scimSession: SESSION, domain: 'scim.example.com' };

const customDomains = (run: Run) => run.one(T.app).inputs.configuration.ingress.customDomains;
const record = (run: Run, type: string) => run.ofType(T.record).find((r) => r.inputs.recordType === type)!;

function expectZoneRecords(run: Run): void {
  expect(run.ofType(T.record)).toHaveLength(2);
  expect(record(run, 'CNAME').inputs).toMatchObject({
    resourceGroupName: 'dns-rg',
    zoneName: 'example.com',
    relativeRecordSetName: 'scim',
    cnameRecord: { cname: APP_FQDN },
  });
  expect(record(run, 'TXT').inputs).toMatchObject({
    resourceGroupName: 'dns-rg',
    zoneName: 'example.com',
    relativeRecordSetName: 'asuid.scim',
    txtRecords: [{ value: [VERIFICATION_ID] }],
  });
}

describe('with an Azure DNS zone: step 1, hostname (the default)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runAzureStack(withZone);
  });

  test('creates the CNAME to the app and the asuid TXT with the environment verification id', () => {
    expectZoneRecords(run);
  });

  test('puts the host name on the app unbound, after both records exist, and issues no certificate yet', () => {
    expect(customDomains(run)).toEqual([{ name: 'scim.example.com', bindingType: 'Disabled' }]);
    for (const r of run.ofType(T.record)) expect(run.dependsOn(run.one(T.app), r)).toBe(true);
    expect(run.ofType(T.cert)).toHaveLength(0);
  });

  test('keeps giving the default host name to identity providers and says how to bind', () => {
    expect(run.outputs.bridgeUrl).toBe(`https://${APP_FQDN}/scim/v2`);
    expect(run.outputs.customDomainPhase).toBe('hostname');
    expect(run.outputs.nextSteps).toContain('pulumi config set customDomainPhase bind -s azure && pulumi up -s azure');
  });
});

describe('with an Azure DNS zone: step 2, bind', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runAzureStack({ ...withZone, customDomainPhase: 'bind' });
  });

  test('keeps the records and issues a managed certificate validated by CNAME', () => {
    expectZoneRecords(run);
    expect(run.one(T.cert).inputs).toMatchObject({
      environmentName: 'scim-bridge-env-env',
      properties: { subjectName: 'scim.example.com', domainControlValidation: 'CNAME' },
    });
    for (const r of run.ofType(T.record)) expect(run.dependsOn(run.one(T.cert), r)).toBe(true);
  });

  test('binds the certificate with SNI; the certificate comes first (the host name is already on the app)', () => {
    const cert = run.one(T.cert);
    expect(customDomains(run)).toEqual([{ name: 'scim.example.com', bindingType: 'SniEnabled', certificateId: cert.id }]);
    expect(run.dependsOn(run.one(T.app), cert)).toBe(true);
    expect(run.dependsOn(cert, run.one(T.app))).toBe(false);
  });

  test('gives identity providers the custom domain', () => {
    expect(run.outputs.bridgeUrl).toBe('https://scim.example.com/scim/v2');
    expect(run.outputs.nextSteps).not.toContain('customDomainPhase');
  });
});

describe('with an Azure DNS zone: auto, one run (preview binding type)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runAzureStack({ ...withZone, customDomainPhase: 'auto' });
  });

  test('adds the host name with the Auto binding and requests the certificate after the app has it', () => {
    expectZoneRecords(run);
    expect(customDomains(run)).toEqual([{ name: 'scim.example.com', bindingType: 'Auto' }]);
    const cert = run.one(T.cert);
    expect(cert.inputs.properties).toEqual({ subjectName: 'scim.example.com', domainControlValidation: 'CNAME' });
    expect(run.dependsOn(cert, run.one(T.app))).toBe(true);
    expect(run.dependsOn(run.one(T.app), cert)).toBe(false);
    expect(run.outputs.bridgeUrl).toBe('https://scim.example.com/scim/v2');
  });
});

describe('without a zone (DNS hosted elsewhere)', () => {
  test('records (the default) prints the records to add and changes nothing on the app', async () => {
    const run = await runAzureStack(noZone);
    expect(run.ofType(T.record)).toHaveLength(0);
    expect(run.ofType(T.cert)).toHaveLength(0);
    expect(customDomains(run)).toBeUndefined();
    expect(run.outputs.customDomainPhase).toBe('records');
    expect(run.outputs.dnsRecords).toEqual([
      { type: 'CNAME', name: 'scim.example.com', value: APP_FQDN },
      { type: 'TXT', name: 'asuid.scim.example.com', value: VERIFICATION_ID },
    ]);
    expect(run.outputs.nextSteps).toContain('add the CNAME and TXT records from the dnsRecords output');
    expect(run.outputs.nextSteps).toContain('pulumi config set customDomainPhase hostname -s azure');
  });

  test('hostname then bind work the same, without managing records', async () => {
    const hostname = await runAzureStack({ ...noZone, customDomainPhase: 'hostname' });
    expect(hostname.ofType(T.record)).toHaveLength(0);
    expect(customDomains(hostname)).toEqual([{ name: 'scim.example.com', bindingType: 'Disabled' }]);

    const bind = await runAzureStack({ ...noZone, customDomainPhase: 'bind' });
    expect(bind.ofType(T.record)).toHaveLength(0);
    expect(customDomains(bind)).toEqual([{ name: 'scim.example.com', bindingType: 'SniEnabled', certificateId: bind.one(T.cert).id }]);
    expect(bind.outputs.bridgeUrl).toBe('https://scim.example.com/scim/v2');
  });
});
