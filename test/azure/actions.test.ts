/**
 * The two deploy-time steps Azure has no resource for. JobRun drives the Container Apps REST API (Jobs - Start, then
 * Job Executions - Get until a terminal status: learn.microsoft.com/rest/api/resource-manager/containerapps/jobs/start);
 * both are dynamic providers, which Pulumi serializes into the state and runs in its provider host, so the tests also
 * load the serialized text as a module the way that host does (then handler()), with a `require` that refuses, and drive it.
 */
import { JOBS_API_VERSION, runJob } from '../../constructs/azure';
import { BASE, T, runAzure } from './mocks';

const JOB = '/subscriptions/s/resourceGroups/my-rg/providers/Microsoft.App/jobs/scim-bridge-bootstrap';
const request = { armEndpoint: 'https://management.azure.com', jobId: JOB, token: 'arm-token', timeoutSeconds: 60, pollSeconds: 1 };
const noSleep = async () => undefined;

/** A fake Resource Manager: answers in order, records what was asked. */
function arm(...answers: Response[]) {
  const calls: { url: string; method: string; auth: string }[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    calls.push({ url, method: init?.method ?? 'GET', auth: String((init?.headers as Record<string, string>)?.authorization) });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${url}`);
    return next;
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}
const status = (s: string) => Response.json({ name: 'exec-1', properties: { status: s } });

describe('runJob', () => {
  test('starts the job, then reads the execution until it has succeeded', async () => {
    const { calls, fetchImpl } = arm(
      Response.json({ name: 'exec-1', id: `${JOB}/executions/exec-1` }),
      status('Processing'),
      status('Running'),
      status('Succeeded'),
    );
    await expect(runJob(request, fetchImpl, noSleep)).resolves.toEqual({ execution: 'exec-1', status: 'Succeeded' });
    expect(calls[0]).toEqual({ url: `https://management.azure.com${JOB}/start?api-version=${JOBS_API_VERSION}`, method: 'POST', auth: 'Bearer arm-token' });
    expect(calls.slice(1).map((c) => c.url)).toEqual(Array(3).fill(`https://management.azure.com${JOB}/executions/exec-1?api-version=${JOBS_API_VERSION}`));
  });

  test('a 202 with only a Location is polled until the execution has a name', async () => {
    const accepted = new Response(null, { status: 202, headers: { location: 'https://management.azure.com/operations/op-1' } });
    const { calls, fetchImpl } = arm(
      accepted,
      new Response(null, { status: 202 }),
      Response.json({ name: 'exec-9' }),
      Response.json({ properties: { status: 'Succeeded' } }),
    );
    await expect(runJob(request, fetchImpl, noSleep)).resolves.toEqual({ execution: 'exec-9', status: 'Succeeded' });
    expect(calls[1].url).toBe('https://management.azure.com/operations/op-1');
    expect(calls[3].url).toContain('/executions/exec-9?');
  });

  test.each(['Failed', 'Stopped', 'Degraded'])('an execution that ends %s fails the deploy and says where its log is', async (end) => {
    const { fetchImpl } = arm(Response.json({ name: 'exec-1' }), status('Running'), status(end));
    await expect(runJob(request, fetchImpl, noSleep)).rejects.toThrow(
      `execution exec-1 ended ${end}. Its log: az containerapp job logs show --name scim-bridge-bootstrap --resource-group my-rg --execution exec-1 --container bootstrap`,
    );
  });

  test('a refused start names the status and never echoes the token', async () => {
    const { fetchImpl } = arm(new Response('{"error":{"code":"AuthorizationFailed"}}', { status: 403 }));
    const failure = runJob(request, fetchImpl, noSleep);
    await expect(failure).rejects.toThrow(/HTTP 403 from Resource Manager: .*AuthorizationFailed/);
    await expect(failure).rejects.not.toThrow(/arm-token/);
  });

  test('an execution still running at the deadline fails instead of waiting forever', async () => {
    const { fetchImpl } = arm(Response.json({ name: 'exec-1' }), status('Running'));
    await expect(runJob({ ...request, timeoutSeconds: 0 }, fetchImpl, noSleep)).rejects.toThrow('execution exec-1 still Running after 0 s');
  });
});

describe('the serialized providers, loaded as the provider host loads them', () => {
  let inputs: Record<string, Record<string, any>>;
  const load = (name: string) => {
    const module = { exports: {} as any };
    const refuse = (id: string) => {
      throw new Error(`the serialized provider required ${id}`);
    };
    new Function('exports', 'require', 'module', inputs[name].__provider)(module.exports, refuse, module);
    return module.exports.handler();
  };
  beforeAll(async () => {
    const run = await runAzure({ ...BASE });
    inputs = Object.fromEntries(run.ofType(T.dynamic).map((r) => [r.name, r.inputs]));
  });

  test('they hold their own code only: no module of the program is pulled in', () => {
    for (const text of Object.values(inputs).map((i) => i.__provider as string)) {
      expect(text).not.toMatch(/require\(|exports\.(?!handler =)/);
      expect(text.length).toBeLessThan(10_000);
    }
  });

  test('JobRun runs again only when a trigger changes, not for a fresh token', async () => {
    const provider = load('scim-bridge-run');
    const olds: Record<string, any> = { ...inputs['scim-bridge-run'], execution: 'exec-1', status: 'Succeeded' };
    await expect(provider.diff('exec-1', olds, { ...olds, token: 'a-new-token' })).resolves.toEqual({ changes: false });
    await expect(provider.diff('exec-1', olds, { ...olds, triggers: ['another-image', ...olds.triggers.slice(1)] })).resolves.toEqual({ changes: true });
  });

  test('JobRun create starts the job with the token it was given and keeps no token in its outputs', async () => {
    const provider = load('scim-bridge-run');
    const { calls, fetchImpl } = arm(Response.json({ name: 'exec-7' }), status('Succeeded'));
    const real = globalThis.fetch;
    globalThis.fetch = fetchImpl;
    try {
      const created = await provider.create({ ...inputs['scim-bridge-run'], token: 'live-token', pollSeconds: 0 });
      expect(created.id).toBe('exec-7');
      expect(JSON.stringify(created.outs)).not.toContain('live-token');
      expect(created.outs).toMatchObject({ execution: 'exec-7', status: 'Succeeded', triggers: inputs['scim-bridge-run'].triggers });
    } finally {
      globalThis.fetch = real;
    }
    expect(calls[0]).toMatchObject({ method: 'POST', auth: 'Bearer live-token' });
    expect(calls[0].url).toMatch(/^https:\/\/management\.azure\.com\/subscriptions\/.+\/providers\/Microsoft\.App\/jobs\/scim-bridge-bootstrap\/start\?/);
  });

  test('Pause waits on create and again only when a role assignment it waits for is replaced', async () => {
    const provider = load('scim-bridge-rbac-propagation');
    const olds = inputs['scim-bridge-rbac-propagation'];
    expect(olds.seconds).toBe(120);
    await expect(provider.create({ ...olds, seconds: 0 })).resolves.toMatchObject({ id: 'pause' });
    await expect(provider.diff('pause', olds, { ...olds })).resolves.toEqual({ changes: false });
    await expect(provider.diff('pause', olds, { ...olds, triggers: [...olds.triggers, 'new-role-id'] })).resolves.toEqual({ changes: true });
  });
});
