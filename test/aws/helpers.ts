import * as fs from 'node:fs';
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
  opts: { region?: string | null; nag?: boolean } = {},
): Built {
  const app = new App({ context: featureFlags() });
  const region = opts.region === null ? undefined : (opts.region ?? 'eu-west-1');
  const stack = new Stack(app, 'Test', { env: region ? { region } : undefined });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', ZONE);
  const bridge = new ScimBridge(stack, 'Bridge', {
    domainName: 'scim.example.com',
    hostedZone,
    // A registry image keeps most tests free of asset staging; the default (asset) has its own tests.
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/scim-bridge:1.0.0'),
    ...(typeof props === 'function' ? props(stack) : props),
  });
  if (opts.nag !== false) addAwsSolutionsChecks(app);
  return { app, stack, bridge };
}

export function template(built: Built): Template {
  return Template.fromStack(built.stack);
}

/** The one resource of `type` in the template (fails when there are several). */
export function only(t: Template, type: string): { id: string; props: any; resource: any } {
  const found = t.findResources(type);
  const ids = Object.keys(found);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return { id: ids[0], props: found[ids[0]].Properties, resource: found[ids[0]] };
}
