import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { addAwsSolutionsChecks, ScimBridge, type ScimBridgeProps } from '../../constructs/aws';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The context of cdk.json (settings and feature flags), so tests build what `cdk synth` builds. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
}

/** Only the feature flags of cdk.json: construct tests set their own props. */
export function featureFlags(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cdkJsonContext()).filter(([key]) => key.startsWith('@aws-cdk')));
}

export const ZONE = { hostedZoneId: 'Z0123456789EXAMPLEAB', zoneName: 'example.com' };
export const REGISTRY_IMAGE = 'public.ecr.aws/example/scim-bridge:1.0.0';

export interface Built {
  app: App;
  stack: Stack;
  bridge: ScimBridge;
}

/**
 * A stack holding one ScimBridge (with cdk-nag on the app); `props` override the test defaults, and may be a
 * function of the stack for props that are constructs themselves.
 */
export function build(
  props: Partial<ScimBridgeProps> | ((stack: Stack) => Partial<ScimBridgeProps>) = {},
  opts: { region?: string | null; nag?: boolean; zone?: boolean } = {},
): Built {
  // Path metadata as the CLI writes it, so tests can find resources by construct path.
  const app = new App({ context: { ...featureFlags(), 'aws:cdk:enable-path-metadata': true } });
  const region = opts.region === null ? undefined : (opts.region ?? 'eu-west-1');
  const stack = new Stack(app, 'Test', { env: region ? { region } : undefined });
  const hostedZone = opts.zone === false ? undefined : route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', ZONE);
  const bridge = new ScimBridge(stack, 'Bridge', {
    domain: 'scim.example.com',
    hostedZone,
    // A registry image keeps most tests free of asset staging; the default (asset) has its own tests.
    image: ecs.ContainerImage.fromRegistry(REGISTRY_IMAGE),
    ...(typeof props === 'function' ? props(stack) : props),
  });
  if (opts.nag !== false) addAwsSolutionsChecks(app);
  return { app, stack, bridge };
}

/** The template, after a full synthesis (which runs cdk-nag and CloudFormation validation and throws on a finding). */
export function template(built: Built): Template {
  built.app.synth();
  return Template.fromStack(built.stack);
}

/** The one resource of `type` in the template (fails when there are several). */
export function only(t: Template, type: string): { id: string; props: any; resource: any } {
  const found = t.findResources(type);
  const ids = Object.keys(found);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return { id: ids[0], props: found[ids[0]].Properties, resource: found[ids[0]] };
}

export function container(t: Template, name: string): any {
  const defs = only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions as any[];
  const found = defs.find((c) => c.Name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

export function envOf(c: any): Record<string, unknown> {
  return Object.fromEntries((c.Environment ?? []).map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
}

/** All statements of the inline policies attached to the role with logical id `roleId`. */
export function policyStatementsOf(t: Template, roleId: string): any[] {
  const attached = Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles ?? []).some((r: { Ref: string }) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const inline = (t.findResources('AWS::IAM::Role')[roleId]?.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  return [...attached, ...inline];
}

export function taskRoleId(t: Template): string {
  return only(t, 'AWS::ECS::TaskDefinition').props.TaskRoleArn['Fn::GetAtt'][0];
}

export function executionRoleId(t: Template): string {
  return only(t, 'AWS::ECS::TaskDefinition').props.ExecutionRoleArn['Fn::GetAtt'][0];
}

/** The logical id of the resource whose construct path ends with `suffix`. */
export function idByPath(t: Template, suffix: string): string {
  const resources = t.toJSON().Resources as Record<string, any>;
  const ids = Object.keys(resources).filter((id) => String(resources[id].Metadata?.['aws:cdk:path'] ?? '').endsWith(suffix));
  if (ids.length !== 1) throw new Error(`expected one resource at *${suffix}, found ${ids.length}`);
  return ids[0];
}

export interface LintFinding {
  Rule: { Id: string };
  Message: string;
  Filename: string;
  Location: { Path?: (string | number)[] };
}

/**
 * Runs the machine's cfn-lint (what CI runs on `cdk synth`'s output) over templates, in a child process so the caller
 * can go on synthesizing meanwhile; resolves to its findings per name. cfn-lint's exit code is a bit mask
 * (2 errors, 4 warnings, 8 informational), so a non-zero exit with JSON on stdout is a normal answer.
 */
export function cfnLint(templates: Record<string, object>): Promise<Record<string, LintFinding[]>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  const files = Object.entries(templates).map(([name, body]) => {
    const file = path.join(dir, `${name}.template.json`);
    fs.writeFileSync(file, JSON.stringify(body));
    return file;
  });
  return new Promise((resolve, reject) => {
    execFile('cfn-lint', ['-f', 'json', ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true });
      const status = (error as { code?: unknown } | null)?.code;
      if (error && (typeof status !== 'number' || status > 15)) return reject(new Error(`cfn-lint did not run: ${error.message} ${stderr}`));
      const byName: Record<string, LintFinding[]> = Object.fromEntries(Object.keys(templates).map((name) => [name, []]));
      for (const f of JSON.parse(stdout || '[]') as LintFinding[]) byName[path.basename(f.Filename).replace(/\.template\.json$/, '')]?.push(f);
      resolve(byName);
    });
  });
}
