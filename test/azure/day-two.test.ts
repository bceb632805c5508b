/**
 * Azure findings of issue 26 ("Day two on every cloud"):
 * - With `customDomainPhase: auto` the managed certificate waits for the app (it can be issued only once the host name
 *   is on an app), so a destroy, which deletes in reverse, deleted the certificate first while the app still bound it:
 *   CertificateInUse. The certificate is a child of its environment (managedEnvironments/managedCertificates) and now
 *   goes with it (`deletedWith`), after the app.
 * - The documented preview role, Reader, has no POST actions, and `getSharedKeys` on the Log Analytics workspace is one
 *   (Microsoft.OperationalInsights/workspaces/sharedKeys/action): every pull request's preview failed with
 *   AuthorizationFailed. The environment sends its logs through a diagnostic setting (`azure-monitor` destination,
 *   learn.microsoft.com/azure/container-apps/log-options) and no key is read.
 */
import { destroyPlan } from '../clouds/destroy';
import { BASE, T, runAzure } from './mocks';

const withZone = { ...BASE, dnsZone: 'example.com', dnsZoneResourceGroup: 'dns-rg' };

test('auto: a destroy deletes the app before its certificate goes, with the environment (no CertificateInUse)', async () => {
  const run = await runAzure({ ...withZone, customDomainPhase: 'auto', deletionProtection: 'false' });
  const cert = run.one(T.cert);
  const app = run.one(T.app);
  const env = run.one(T.env);
  expect(run.waitsFor(cert, app)).toBe(true); // still issued after the host name is on the app
  expect(run.deletedWith(cert)).toBe(env);
  const plan = destroyPlan(run);
  expect(plan.refused).toEqual([]);
  expect(plan.deleted).not.toContain(cert);
  expect(plan.takenAlong).toContain(cert);
  expect(plan.deleted.indexOf(app)).toBeLessThan(plan.deleted.indexOf(env));
});

test('bind: the certificate is bound by the app, so the app goes first either way', async () => {
  const run = await runAzure({ ...withZone, customDomainPhase: 'bind', deletionProtection: 'false' });
  const plan = destroyPlan(run);
  const cert = run.one(T.cert);
  const gone = [...plan.deleted, ...plan.takenAlong];
  expect(gone).toContain(cert);
  expect(plan.deleted.indexOf(run.one(T.app))).toBeLessThan(plan.deleted.indexOf(run.one(T.env)));
});

test('the environment logs through a diagnostic setting: no getSharedKeys (a POST that Reader cannot call), no key in the state', async () => {
  const run = await runAzure(BASE);
  expect(run.invokes.map((i) => i.token)).not.toContain('azure-native:operationalinsights:getSharedKeys');
  const env = run.one(T.env);
  expect(env.inputs.appLogsConfiguration).toEqual({ destination: 'azure-monitor' });
  const setting = run.one('azure-native:monitor:DiagnosticSetting');
  expect(setting.inputs.resourceUri).toBe(env.id);
  expect(setting.inputs.workspaceId).toBe(run.one(T.workspace).id);
  expect(setting.inputs.logs.map((l: { category: string }) => l.category)).toEqual(['ContainerAppConsoleLogs', 'ContainerAppSystemLogs']);
});

test('a preview exchanges no registry token (it builds nothing), so a Reader can run it; `pulumi up` does', async () => {
  const { azureAdapter } = await import('../clouds/adapters');
  const adapter = azureAdapter();
  const preview = (await adapter.run(BASE, { preview: true })) as unknown as { fetchCalls: string[] };
  expect(preview.fetchCalls).toEqual([]);
  const up = (await adapter.run(BASE)) as unknown as { fetchCalls: string[] };
  expect(up.fetchCalls.some((u) => u.endsWith('/oauth2/exchange'))).toBe(true);
});
