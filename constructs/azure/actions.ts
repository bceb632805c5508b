/**
 * Two deploy-time steps Azure has no resource for, as Pulumi dynamic resources (run by `pulumi up`, never by a preview):
 * - Pause waits once after new role assignments: Azure RBAC takes minutes to reach Key Vault and the registry, and
 *   Container Apps checks an app's or a job's Key Vault references and registry identity when it is created
 *   (microsoft/azure-container-apps#1174, "Unable to get value using Managed identity").
 * - JobRun starts a Container Apps job (Jobs - Start) and waits until its execution has succeeded; it runs again when
 *   one of its triggers changes. The app depends on it, so `scim-bridge db bootstrap` finishes before a new revision.
 * The providers are serialized into the state and run in the engine's provider host: they use only globals (fetch,
 * setTimeout) and what they are handed, never an import.
 */
import * as pulumi from '@pulumi/pulumi';

// Module-local names only inside the providers: an exported const would be read through `exports` and drag the whole
// module into the serialized provider.
const API = '2024-03-01';
/** Container Apps REST API version for Jobs - Start and Job Executions - Get. */
export const JOBS_API_VERSION = API;

export interface JobRunRequest {
  /** Resource Manager endpoint, e.g. https://management.azure.com. */
  readonly armEndpoint: string;
  /** ARM id of the job. */
  readonly jobId: string;
  /** The deployer's Resource Manager access token. */
  readonly token: string;
  /** Give up after this long. */
  readonly timeoutSeconds: number;
  /** Seconds between status reads. */
  readonly pollSeconds: number;
}

export interface JobRunResult {
  readonly execution: string;
  readonly status: string;
}

/** Starts the job and waits for its execution to end; throws, naming the execution and its log, unless it succeeded. */
export async function runJob(
  req: JobRunRequest,
  fetchImpl: typeof fetch = fetch,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<JobRunResult> {
  const api = `api-version=${API}`;
  const headers = { authorization: `Bearer ${req.token}`, 'content-type': 'application/json' };
  const job = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/jobs\/([^/]+)$/i.exec(req.jobId);
  const [group, jobName] = job ? [job[1], job[2]] : ['<resource group>', req.jobId];
  const deadline = Date.now() + req.timeoutSeconds * 1000;
  // Only an execution's name and status are read from Resource Manager's answers; anything else there is ignored.
  const read = async (response: Response): Promise<{ name?: string; status?: string }> => {
    const text = await response.text();
    if (!response.ok) throw new Error(`Container Apps job ${jobName}: HTTP ${response.status} from Resource Manager: ${text.slice(0, 500)}`);
    let doc: unknown;
    try {
      doc = text ? JSON.parse(text) : {};
    } catch {
      doc = {};
    }
    return { name: stringOrUndefined(field(doc, 'name')), status: stringOrUndefined(field(field(doc, 'properties'), 'status')) };
  };

  const started = await fetchImpl(`${req.armEndpoint}${req.jobId}/start?${api}`, { method: 'POST', headers, body: '{}' });
  let execution: string | undefined = (await read(started)).name;
  // 202 Accepted may carry only a Location to poll until the execution is named.
  const location = started.headers.get('location');
  while (!execution && location && Date.now() < deadline) {
    await sleep(req.pollSeconds * 1000);
    const polled = await fetchImpl(location, { headers });
    if (polled.status !== 202) execution = (await read(polled)).name;
  }
  if (!execution) throw new Error(`Container Apps job ${jobName}: Resource Manager started no execution`);

  const logs = `az containerapp job logs show --name ${jobName} --resource-group ${group} --execution ${execution} --container bootstrap`;
  for (;;) {
    const body = await read(await fetchImpl(`${req.armEndpoint}${req.jobId}/executions/${execution}?${api}`, { headers }));
    const status = body.status ?? 'Unknown';
    if (status === 'Succeeded') return { execution, status };
    if (status === 'Failed' || status === 'Stopped' || status === 'Degraded') {
      throw new Error(`Container Apps job ${jobName}: execution ${execution} ended ${status}. Its log: ${logs}`);
    }
    if (Date.now() >= deadline)
      throw new Error(`Container Apps job ${jobName}: execution ${execution} still ${status} after ${req.timeoutSeconds} s. Its log: ${logs}`);
    await sleep(req.pollSeconds * 1000);
  }
}

/** A member of a parsed JSON object, or undefined when the value is not an object. */
function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

const stringOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const changed = (olds: { triggers?: unknown }, news: { triggers?: unknown }) => JSON.stringify(olds.triggers ?? []) !== JSON.stringify(news.triggers ?? []);

const jobRunProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const result = await runJob(inputs);
    // The token is not kept in the outputs.
    return { id: result.execution, outs: { jobId: inputs.jobId, triggers: inputs.triggers, ...result } };
  },
  // Only a changed trigger runs the job again: a fresh token on every `pulumi up` does not.
  async diff(_id, olds, news) {
    return { changes: changed(olds, news) };
  },
  async update(_id, _olds, news) {
    const result = await runJob(news);
    return { outs: { jobId: news.jobId, triggers: news.triggers, ...result } };
  },
};

export interface JobRunArgs {
  readonly armEndpoint: pulumi.Input<string>;
  readonly jobId: pulumi.Input<string>;
  /** Kept a secret. */
  readonly token: pulumi.Input<string>;
  /** Anything whose change must run the job again (the image, the passwords' versions). */
  readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
  /** @default 900 */
  readonly timeoutSeconds?: number;
  /** @default 10 */
  readonly pollSeconds?: number;
}

export class JobRun extends pulumi.dynamic.Resource {
  declare public readonly execution: pulumi.Output<string>;
  declare public readonly status: pulumi.Output<string>;

  constructor(name: string, args: JobRunArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = { timeoutSeconds: 900, pollSeconds: 10, ...args, token: pulumi.secret(args.token), execution: undefined, status: undefined };
    super(jobRunProvider, name, inputs, opts);
  }
}

const sleepSeconds = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

const pauseProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    await sleepSeconds(inputs.seconds);
    return { id: 'pause', outs: inputs };
  },
  async diff(_id, olds, news) {
    return { changes: changed(olds, news) };
  },
  async update(_id, _olds, news) {
    await sleepSeconds(news.seconds);
    return { outs: news };
  },
};

export interface PauseArgs {
  readonly seconds: number;
  /** Pause again when one of these changes (the ids of the role assignments waited for). */
  readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
}

export class Pause extends pulumi.dynamic.Resource {
  constructor(name: string, args: PauseArgs, opts?: pulumi.CustomResourceOptions) {
    super(pauseProvider, name, { ...args }, opts);
  }
}
