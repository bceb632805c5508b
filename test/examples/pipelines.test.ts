/**
 * The pipeline examples under examples/pipelines, checked the way GitHub and GitLab would read them: strict YAML,
 * GitHub's workflow schema (SchemaStore's, through @action-validator/core, offline), every action pinned by commit
 * SHA with inputs and outputs that exist in that version's action.yml (test/examples/actions.json, read from each
 * action's repository at the pinned tag), and each cloud's documented keyless login:
 * - AWS: aws-actions/configure-aws-credentials with role-to-assume and `id-token: write`
 *   (github.com/aws-actions/configure-aws-credentials#oidc);
 * - GCP: google-github-actions/auth with workload_identity_provider and service_account
 *   (github.com/google-github-actions/auth#indirect-wif);
 * - Azure: azure/login with client-id, tenant-id and subscription-id and no secret (github.com/Azure/login#login-with-openid-connect-oidc-recommended),
 *   azure-native through ARM_USE_OIDC;
 * - DigitalOcean (no OIDC): an API token from secrets (github.com/digitalocean/action-doctl);
 * - Pulumi Cloud: pulumi/auth-actions (OIDC) instead of a stored PULUMI_ACCESS_TOKEN.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { parseDocument } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const GITHUB_DIR = join(ROOT, 'examples', 'pipelines', 'github');
const GITLAB_DIR = join(ROOT, 'examples', 'pipelines', 'gitlab');
const ACTIONS: Record<string, { version: string; sha: string; inputs: string[]; outputs: string[]; required: string[] }> = JSON.parse(
  readFileSync(join(__dirname, 'actions.json'), 'utf8'),
);
const CLOUDS = ['aws', 'gcp', 'digitalocean', 'azure'] as const;
type Cloud = (typeof CLOUDS)[number];

type Step = { name?: string; id?: string; uses?: string; run?: string; with?: Record<string, any>; env?: Record<string, any>; if?: string };
type Job = {
  permissions?: Record<string, string>;
  steps: Step[];
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  if?: string;
  needs?: string | string[];
  environment?: any;
  container?: any;
};
type Workflow = { on: Record<string, any>; permissions?: Record<string, string>; jobs: Record<string, Job>; env?: Record<string, string> };

/** Strict YAML: duplicate keys, bad indentation, tabs and `: ` in plain scalars are errors, and warnings count too. */
function parseStrict(path: string): any {
  const doc = parseDocument(readFileSync(path, 'utf8'), { strict: true, uniqueKeys: true, prettyErrors: true });
  expect([...doc.errors, ...doc.warnings].map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

const workflow = (cloud: Cloud): Workflow => parseStrict(join(GITHUB_DIR, `${cloud}.yml`));
const text = (cloud: Cloud) => readFileSync(join(GITHUB_DIR, `${cloud}.yml`), 'utf8');
const actionOf = (step: Step) => step.uses?.split('@')[0];
const stepsUsing = (job: Job, action: string) => job.steps.filter((s) => actionOf(s) === action);
const allSteps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps);
/** The jobs that reach the cloud (preview/diff and deploy). */
const cloudJobs = (wf: Workflow) => Object.entries(wf.jobs).filter(([name]) => name !== 'test');

describe('examples/pipelines: the files there are the ones tested here', () => {
  it('has one GitHub workflow per cloud and the GitLab example', () => {
    expect(readdirSync(GITHUB_DIR).sort()).toEqual(CLOUDS.map((c) => `${c}.yml`).sort());
    expect(readdirSync(GITLAB_DIR)).toEqual(['aws.gitlab-ci.yml']);
  });
});

describe.each(CLOUDS)('GitHub workflow for %s', (cloud) => {
  const wf = workflow(cloud);

  it('passes the workflow schema (@action-validator/core, SchemaStore)', () => {
    expect(validateWorkflow(text(cloud)).errors).toEqual([]);
  });

  it('pins every action by full commit SHA, with the version tag as a comment, and uses only inputs and outputs that version has', () => {
    const lines = text(cloud)
      .split('\n')
      .filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const match = /uses:\s+([\w.-]+\/[\w.-]+)@([0-9a-f]{40})\s+#\s+(v\d+\.\d+\.\d+)\s*$/.exec(line);
      expect(match).not.toBeNull();
      const [, action, sha, version] = match!;
      expect(ACTIONS[action]).toBeDefined();
      expect({ action, sha, version }).toEqual({ action, sha: ACTIONS[action].sha, version: ACTIONS[action].version });
    }
    for (const step of allSteps(wf).filter((s) => s.uses)) {
      const known = ACTIONS[actionOf(step)!];
      for (const input of Object.keys(step.with ?? {})) expect(`${actionOf(step)} input ${input}: ${known.inputs.includes(input)}`).toMatch(/: true$/);
      for (const input of known.required) expect(step.with?.[input]).toBeDefined();
    }
    // steps.<id>.outputs.<name> names an output the step's action declares.
    const byId = new Map(Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.id).map((s) => [s.id!, s] as const)));
    for (const [, id, output] of text(cloud).matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const step = byId.get(id);
      expect(step).toBeDefined();
      if (step!.uses) expect(`${id}.${output}: ${ACTIONS[actionOf(step!)!].outputs.includes(output)}`).toMatch(/: true$/);
      else expect(step!.run).toContain(`${output}=`); // a run step writes it to $GITHUB_OUTPUT
    }
  });

  it('grants nothing at the top and only contents:read (plus id-token:write where a cloud login happens) per job', () => {
    expect(wf.permissions).toEqual({});
    for (const [name, job] of Object.entries(wf.jobs)) {
      const logsIn = job.steps.some((s) =>
        ['aws-actions/configure-aws-credentials', 'google-github-actions/auth', 'azure/login', 'pulumi/auth-actions'].includes(actionOf(s)!),
      );
      expect({ name, permissions: job.permissions }).toEqual({ name, permissions: logsIn ? { contents: 'read', 'id-token': 'write' } : { contents: 'read' } });
      for (const checkout of stepsUsing(job, 'actions/checkout')) expect(checkout.with?.['persist-credentials']).toBe(false);
    }
  });

  it('keeps long-lived cloud keys out: no access keys, key files, client secrets or stored Pulumi tokens', () => {
    const source = text(cloud);
    for (const banned of [
      /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/,
      /credentials_json|GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS:/,
      /\bcreds:|client-secret|ARM_CLIENT_SECRET|AZURE_CREDENTIALS/,
      /PULUMI_ACCESS_TOKEN/,
    ]) {
      expect(source).not.toMatch(banned);
    }
  });

  it('runs the tests (.ci/run) on pull requests and on main, and the diff or preview only on same-repository pull requests', () => {
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    expect(wf.on.push.branches).toEqual(['main']);
    const test = wf.jobs.test;
    expect(test.if).toBeUndefined();
    expect(test.steps.map((s) => s.run).join('\n')).toMatch(/^bash \.ci\/run$/m);
    const [, preview] = cloudJobs(wf).find(([name]) => name !== 'deploy')!;
    expect(preview.if).toMatch(/github\.event_name == 'pull_request'/);
    expect(preview.if).toMatch(/head\.repo\.full_name == github\.repository/);
    expect(preview.steps.map((s) => s.run ?? '').join('\n')).toMatch(cloud === 'aws' ? /npx cdk diff --method template/ : /pulumi preview --stack "\$STACK"/);
  });

  it('deploys only from main, after the tests, in the protected environment, one at a time and never cancelled', () => {
    const deploy = wf.jobs.deploy;
    expect(deploy.if).toMatch(/github\.ref == 'refs\/heads\/main'/);
    expect(deploy.needs).toBe('test');
    expect(deploy.environment).toBe('production');
    expect(deploy.concurrency).toEqual({ group: `scim-bridge-${cloud}-production`, 'cancel-in-progress': false });
    const [, preview] = cloudJobs(wf).find(([name]) => name !== 'deploy')!;
    expect(preview.concurrency).toEqual({
      group: expect.stringMatching(new RegExp(`^scim-bridge-${cloud}-\\w+-\\$\\{\\{ github\\.event\\.pull_request\\.number \\}\\}$`)),
      'cancel-in-progress': true,
    });
  });

  it("logs in the cloud's documented way in every job that reaches it", () => {
    for (const [name, job] of cloudJobs(wf)) {
      const context = `${cloud} job ${name}`;
      if (cloud === 'aws') {
        const [login] = stepsUsing(job, 'aws-actions/configure-aws-credentials');
        expect({ context, with: login?.with }).toEqual({
          context,
          with: {
            'role-to-assume': expect.stringMatching(/^\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}$/),
            'aws-region': '${{ vars.AWS_REGION }}',
            'role-session-name': expect.any(String),
          },
        });
      }
      if (cloud === 'gcp') {
        const [login] = stepsUsing(job, 'google-github-actions/auth');
        expect(login?.with).toMatchObject({
          workload_identity_provider: '${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}',
          service_account: expect.stringMatching(/^\$\{\{ vars\.GCP_\w+_SERVICE_ACCOUNT \}\}$/),
        });
      }
      if (cloud === 'azure') {
        const [login] = stepsUsing(job, 'azure/login');
        expect({ context, with: login?.with }).toEqual({
          context,
          with: {
            'client-id': expect.stringMatching(/^\$\{\{ vars\.AZURE_\w*CLIENT_ID \}\}$/),
            'tenant-id': '${{ vars.AZURE_TENANT_ID }}',
            'subscription-id': '${{ vars.AZURE_SUBSCRIPTION_ID }}',
          },
        });
        expect(wf.env).toMatchObject({
          ARM_USE_OIDC: 'true',
          ARM_TENANT_ID: '${{ vars.AZURE_TENANT_ID }}',
          ARM_SUBSCRIPTION_ID: '${{ vars.AZURE_SUBSCRIPTION_ID }}',
        });
        // The provider runs as the same application azure/login signed in with.
        const pulumiStep = job.steps.find((s) => /pulumi (preview|up) /.test(s.run ?? ''))!;
        expect(pulumiStep.env?.ARM_CLIENT_ID).toBe(login.with!['client-id']);
      }
      if (cloud === 'digitalocean') {
        const tokens = job.steps.flatMap((s) => [s.with?.token, s.env?.DIGITALOCEAN_TOKEN]).filter(Boolean);
        expect(tokens.length).toBeGreaterThan(0);
        for (const token of tokens) expect(token).toMatch(/^\$\{\{ secrets\.DIGITALOCEAN_\w*TOKEN \}\}$/);
        // The preview gets the read-only token; only the environment-protected deploy has the deploy token.
        expect(tokens.every((t) => (name === 'deploy' ? t === '${{ secrets.DIGITALOCEAN_TOKEN }}' : t === '${{ secrets.DIGITALOCEAN_PREVIEW_TOKEN }}'))).toBe(
          true,
        );
      }
      if (cloud !== 'aws') {
        const [pulumiLogin] = stepsUsing(job, 'pulumi/auth-actions');
        expect(pulumiLogin?.with).toMatchObject({ organization: '${{ vars.PULUMI_ORG }}', 'requested-token-type': 'urn:pulumi:token-type:access_token:team' });
        expect(job.steps.indexOf(pulumiLogin)).toBeLessThan(job.steps.findIndex((s) => /pulumi (preview|up) /.test(s.run ?? '')));
      }
    }
  });

  it('builds the image once per deploy, pushes it, and passes that digest to the cloud', () => {
    const deploy = wf.jobs.deploy;
    const builds = stepsUsing(deploy, 'docker/build-push-action');
    expect(builds).toHaveLength(1);
    expect(builds[0].with).toMatchObject({ context: '.', file: 'bridge/Dockerfile', push: true });
    expect(builds[0].id).toBe('image');
    const deployStep = deploy.steps.find((s) => s.id === 'deploy')!;
    expect(deployStep.env?.IMAGE).toMatch(/@\$\{\{ steps\.image\.outputs\.digest \}\}$/);
    expect(deployStep.run).toMatch(
      cloud === 'aws' ? /npx cdk deploy --require-approval never -c imageUri="\$IMAGE"/ : /pulumi config set image "\$IMAGE" --stack "\$STACK"/,
    );
    // The pull request builds the same Dockerfile without pushing.
    const [, preview] = cloudJobs(wf).find(([name]) => name !== 'deploy')!;
    expect(stepsUsing(preview, 'docker/build-push-action').map((s) => s.with)).toEqual([expect.objectContaining({ file: 'bridge/Dockerfile', push: false })]);
  });

  it('runs scim-bridge doctor --write-check after the deploy, with the token from a secret and never on the command line', () => {
    const steps = wf.jobs.deploy.steps;
    const deployAt = steps.findIndex((s) => s.id === 'deploy');
    const doctorAt = steps.findIndex((s) => /scim-bridge doctor/.test(s.run ?? ''));
    expect(deployAt).toBeGreaterThan(-1);
    expect(doctorAt).toBe(steps.length - 1);
    expect(doctorAt).toBeGreaterThan(deployAt);
    const doctor = steps[doctorAt];
    expect(doctor.run).toMatch(/npx --no-install scim-bridge doctor "\$URL" --write-check/);
    expect(doctor.run).not.toMatch(/--token/);
    expect(doctor.env).toMatchObject({ SCIM_DOCTOR_TOKEN: '${{ secrets.SCIM_DOCTOR_TOKEN }}', URL: '${{ steps.deploy.outputs.url }}' });
  });

  if (cloud !== 'aws') {
    it('names a stack of this project that has a stack file here', () => {
      // (Pulumi.yaml's own strict parse is the cloud suites' and `npm run synth`'s job.)
      const project = /^name:\s*(\S+)\s*$/m.exec(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8'))![1];
      expect(wf.env?.STACK).toBe(`\${{ vars.PULUMI_ORG }}/${project}/${cloud}`);
      expect(parseStrict(join(ROOT, `Pulumi.${cloud}.yaml`)).config['scim-bridge:cloud']).toBe(cloud);
    });
  }
});

describe('GitLab CI example (AWS)', () => {
  const path = join(GITLAB_DIR, 'aws.gitlab-ci.yml');
  const ci = parseStrict(path);
  const source = readFileSync(path, 'utf8');
  const RESERVED = new Set(['stages', 'workflow', 'default', 'variables', 'include', 'image', 'services', 'before_script', 'after_script', 'cache']);
  const jobs = Object.entries(ci).filter(([name]) => !RESERVED.has(name) && !name.startsWith('.')) as [string, any][];

  it('has the keys GitLab requires: every job a script and a stage from stages', () => {
    expect(ci.stages).toEqual(['test', 'diff', 'deploy']);
    expect(jobs.map(([n]) => n)).toEqual(['test', 'diff', 'deploy']);
    for (const [, job] of jobs) {
      expect(ci.stages).toContain(job.stage);
      expect(Array.isArray(job.script) && job.script.every((l: unknown) => typeof l === 'string')).toBe(true);
    }
  });

  it("assumes the AWS roles with GitLab's OIDC ID token (audience sts.amazonaws.com), never with keys", () => {
    expect(ci['.aws-oidc'].id_tokens).toEqual({ AWS_ID_TOKEN: { aud: 'sts.amazonaws.com' } });
    expect(ci['.aws-oidc'].before_script.join('\n')).toMatch(/AWS_WEB_IDENTITY_TOKEN_FILE/);
    expect(ci.diff).toMatchObject({ extends: '.aws-oidc', variables: { AWS_ROLE_ARN: '$AWS_DIFF_ROLE_ARN' } });
    expect(ci.deploy).toMatchObject({
      extends: '.aws-oidc',
      variables: { AWS_ROLE_ARN: '$AWS_DEPLOY_ROLE_ARN' },
      resource_group: 'scim-bridge-aws-production',
    });
    expect(source).not.toMatch(/AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws_secret_access_key/);
  });

  it('builds and pushes the image once, deploys it by digest, then runs doctor with the token from the environment', () => {
    const script: string[] = ci.deploy.script;
    const at = (pattern: RegExp) => script.findIndex((l) => pattern.test(l));
    expect(at(/docker push "\$tag"/)).toBeGreaterThan(at(/docker build .*-f bridge\/Dockerfile/));
    expect(at(/npx cdk deploy .*-c imageUri="\$image"/)).toBeGreaterThan(at(/RepoDigests/));
    expect(at(/scim-bridge doctor "\$url" --write-check/)).toBe(script.length - 1);
    expect(script.join('\n')).not.toMatch(/--token/);
    expect(ci.diff.script.join('\n')).toMatch(/npx cdk diff --method template/);
    expect(ci.test.script).toContain('bash .ci/run');
  });
});
