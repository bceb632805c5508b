/**
 * `npm run synth`'s offline preview (scripts/pulumi-preview.ts) and the keys the pipelines pass to the programs.
 *
 * The preview reads stack configuration the way the Pulumi CLI does (docs: pulumi.com/docs/iac/concepts/config:
 * project-level declarations with `type` and `default`, keys without a namespace taking the project's name, the
 * stack file winning over defaults, a declared key without a default required), and runs the program under mocks.
 * A fixture project (test/examples/fixtures/preview-project) checks each rule; the real stacks then run with the
 * `image` setting the workflows pass, which must stop the program from building an image of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { stackFiles } from '../../scripts/synth';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'preview-project');
const TSX = require.resolve('tsx/cli');

async function preview(stack: string, extra: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSX, join(ROOT, 'scripts', 'pulumi-preview.ts'), stack, '--json', ...extra], {
      cwd: ROOT,
      timeout: 60_000,
    });
    return { code: 0, result: JSON.parse(stdout.trim().split('\n').pop()!), stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    let result: any;
    try {
      result = JSON.parse(e.stdout.trim().split('\n').pop()!);
    } catch {
      result = undefined;
    }
    return { code: e.code, result, stderr: e.stderr };
  }
}

describe('scripts/pulumi-preview.ts on a fixture project', () => {
  it('hands the program the configuration the CLI would: namespaces, project defaults, typed and structured values, secrets', async () => {
    const { code, result } = await preview('dev', ['--root', FIXTURE]);
    expect(code).toBe(0);
    expect(result.outputs).toEqual({
      greeting: 'hello', // project default (short form)
      size: 5, // the stack's value over the declared default
      required: 'from-the-stack',
      enabled: true, // a YAML boolean, passed as "true"
      tags: { team: 'identity' }, // an object, passed as JSON
      region: 'eu-west-1', // another namespace's default from Pulumi.yaml
      token: '[secret]', // encrypted in the stack file: a placeholder that stays secret
      petId: '(known after deploy)', // computed by the cloud: unknown, as in a real first preview
      childHex: '(known after deploy)',
      retainedLength: 12,
    });
    expect(result.placeholders).toEqual(['fixture:token']);
    expect(result.problems).toEqual([]);
  });

  it('lists every resource with the options a destroy acts on (protect, retainOnDelete, deletedWith)', async () => {
    const { result } = await preview('dev', ['--root', FIXTURE]);
    const table = Object.fromEntries(result.resources.filter((r: { custom: boolean }) => r.custom).map((r: any) => [r.name, r]));
    expect(Object.keys(table).sort()).toEqual(['child', 'kept', 'retained', 'wrapped']);
    expect(table.kept).toMatchObject({ type: 'random:index/randomPet:RandomPet', protect: true, retainOnDelete: false });
    expect(table.retained).toMatchObject({ protect: false, retainOnDelete: true });
    expect(table.child.deletedWith).toMatch(/::kept$/);
    expect(table.wrapped.inputs.keepers).toBe('[secret]'); // a map holding a secret is a secret as a whole
  });

  it('fails like the CLI on a missing required key, a value of the wrong type and YAML that does not parse strictly', async () => {
    const missing = await preview('missing', ['--root', FIXTURE]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Stack 'missing' is missing configuration value 'fixture:required'/);
    expect((await preview('badtype', ['--root', FIXTURE])).stderr).toMatch(/configuration key 'fixture:size' must be of type 'integer'/);
    expect((await preview('badyaml', ['--root', FIXTURE])).stderr).toMatch(/Pulumi\.badyaml\.yaml is not valid YAML/);
    expect((await preview('nostack', ['--root', FIXTURE])).stderr).toMatch(/Pulumi\.nostack\.yaml does not exist/);
  });

  it('fails when the program throws, and when a secret of the stack reaches a resource input in plain text', async () => {
    const throws = await preview('throws', ['--root', FIXTURE]);
    expect(throws.code).toBe(1);
    expect(throws.stderr).toMatch(/the program fails on purpose/);
    const leak = await preview('leak', ['--root', FIXTURE]);
    expect(leak.code).toBe(1);
    expect(leak.result.problems).toEqual([expect.stringMatching(/RandomPet "leaky": input prefix holds a secret of the stack in plain text/)]);
  });
});

describe('the pipelines pass what the programs read', () => {
  it('npm run synth previews every stack file there is', () => {
    expect(stackFiles(ROOT)).toEqual(['azure', 'digitalocean', 'gcp']);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.synth).toBe('tsx scripts/synth.ts');
  });

  // The workflows run `pulumi config set image REF`: with it, the program builds nothing and runs REF.
  it.each(['gcp', 'digitalocean', 'azure'])('stack %s runs the image the pipeline passes and builds none of its own', async (stack) => {
    const ref =
      stack === 'gcp'
        ? `europe-west1-docker.pkg.dev/my-project/scim-bridge/scim-bridge@sha256:${'a'.repeat(64)}`
        : stack === 'digitalocean'
          ? `registry.digitalocean.com/acme/scim-bridge@sha256:${'a'.repeat(64)}`
          : `scimbridgeabc123.azurecr.io/scim-bridge@sha256:${'a'.repeat(64)}`;
    const { code, result, stderr } = await preview(stack, ['--set', `scim-bridge:image=${ref}`]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const types = result.resources.map((r: { type: string }) => r.type);
    expect(types).not.toContain('docker-build:index:Image');
    if (stack === 'digitalocean') {
      // Nothing to push to: no registry of the stack's own and no push credentials (the pipeline pushed already).
      expect(types.filter((t: string) => /containerRegistry/.test(t))).toEqual([]);
    } else {
      expect(result.outputs.imageRef).toBe(ref);
    }
    // The outputs the workflows read after `pulumi up`.
    expect(Object.keys(result.outputs)).toContain('scimBaseUrl');
    if (stack === 'azure') expect(Object.keys(result.outputs)).toContain('registryLoginServer');
  });

  it('AWS: the context key the workflows pass (-c imageUri=ECR@digest) is read, and the output the doctor step reads exists', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'scim-cdk-out-'));
    try {
      const { createApp } = require('../../stacks/aws') as typeof import('../../stacks/aws');
      const context = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context;
      const image = `111122223333.dkr.ecr.${context.region}.amazonaws.com/scim-bridge@sha256:${'b'.repeat(64)}`;
      const assembly = createApp(new App({ context: { ...context, imageUri: image }, outdir })).synth();
      const stack = assembly.stacks[0];
      const template = stack.template as { Outputs: Record<string, unknown>; Resources: Record<string, { Type: string; Properties: any }> };
      // The workflows' jq reads the shared output name, the same on every cloud.
      expect(Object.keys(template.Outputs)).toContain('scimBaseUrl');
      const taskDefinitions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition');
      expect(JSON.stringify(taskDefinitions)).toContain(`sha256:${'b'.repeat(64)}`);
      // No image asset: `cdk deploy` in the pipeline builds nothing (the image was built once, before).
      const assets = JSON.parse(readFileSync(join(outdir, `${stack.stackName}.assets.json`), 'utf8'));
      expect(Object.keys(assets.dockerImages ?? {})).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
