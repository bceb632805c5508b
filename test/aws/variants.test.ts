/**
 * Every variant docs/aws.md documents, synthesized once as `cdk deploy` would build it: the command's `-c` switches
 * over the context of cdk.json, the app with cdk-nag (any unacknowledged finding fails synthesis), then cfn-lint (as
 * CI runs it) over all the templates at once, with 0 errors. The commands are read from the document itself, so a
 * switch documented there cannot go untested.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../stacks/aws';
import { cdkJsonContext, cfnLint, type LintFinding, REPO_ROOT } from './helpers';

interface Variant {
  readonly title: string;
  readonly command: string;
  readonly context: Record<string, string>;
}

/** The `### ` subsections of `## Variants`, each with its `npx cdk deploy` command and that command's `-c` switches. */
export function documentedVariants(markdown: string): Variant[] {
  const section = markdown.split(/^## Variants\s*$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('docs/aws.md has no "## Variants" section');
  return section
    .split(/^### /m)
    .slice(1)
    .map((block) => {
      const title = block.split('\n')[0].trim();
      const code = /```sh\n([\s\S]*?)```/.exec(block)?.[1];
      if (!code) throw new Error(`variant "${title}" has no sh block`);
      const command = code
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .find((line) => line.startsWith('npx cdk deploy'));
      if (!command) throw new Error(`variant "${title}" has no npx cdk deploy command`);
      const context: Record<string, string> = {};
      const words = command.split(/\s+/);
      for (let i = 0; i < words.length; i++) {
        if (words[i] !== '-c') continue;
        // A JSON value is quoted for the shell: -c 'webhooks=[...]' (without spaces inside).
        const pair = words[++i].replace(/^'(.*)'$/, '$1');
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new Error(`variant "${title}": "-c ${pair}" is not key=value`);
        context[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return { title, command, context };
    });
}

const variants = documentedVariants(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'aws.md'), 'utf8'));
const templates: Record<string, any> = {};
const terminationProtection: Record<string, boolean | undefined> = {};
let lint: Record<string, LintFinding[]>;

const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

beforeAll(async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-variants-'));
  // cfn-lint runs in batches beside the synthesis (two cores: one process lints while the next templates build).
  const batches: Promise<Record<string, LintFinding[]>>[] = [];
  let batch: Record<string, object> = {};
  const batchSize = Math.ceil(variants.length / 2);
  try {
    for (const v of variants) {
      // `-c k=v` arrives as a string over cdk.json's context, exactly like the CLI passes it.
      const app = new App({ context: { ...cdkJsonContext(), ...v.context }, outdir: path.join(outdir, slug(v.title)) });
      const assembly = createApp(app).synth(); // throws on cdk-nag findings and CloudFormation validation errors
      const stack = assembly.stacks[0];
      templates[slug(v.title)] = stack.template;
      terminationProtection[slug(v.title)] = stack.terminationProtection;
      batch[slug(v.title)] = stack.template;
      if (Object.keys(batch).length >= batchSize) {
        batches.push(cfnLint(batch));
        batch = {};
      }
    }
    if (Object.keys(batch).length > 0) batches.push(cfnLint(batch));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  lint = Object.assign({}, ...(await Promise.all(batches)));
  // About 20 s on an idle two-core machine (cfn-lint is most of it); several times that when every suite runs at once.
}, 240_000);

it('documents the variants the issue names, each as one command', () => {
  const titles = variants.map((v) => v.title).join('\n');
  for (const needed of [/KMS key/, /DNS managed elsewhere/, /Allow-list/, /Tear down/, /access logs/i, /pre-built image/i, /patched base/i])
    expect(titles).toMatch(needed);
  const switches = new Set(variants.flatMap((v) => Object.keys(v.context)));
  for (const key of [
    'deletionProtection',
    'accessLogs',
    'certificateArn',
    'hostedZoneId',
    'sessionSecretKmsKeyArn',
    'cpu',
    'memoryMiB',
    'sslPolicy',
    'database.storageGiB',
    'natGateways',
    'allowedIngressCidrs',
    'imageUri',
    'baseImage',
    'alarmEmail',
    'tags',
    'waf',
    'wafRateLimit',
    'exposeMetrics',
    'googleCredentialsSecretArn',
  ]) {
    expect([key, switches.has(key)]).toEqual([key, true]);
  }
});

it('reads every key of the context table in docs/aws.md (stacks/aws.ts names it)', () => {
  const markdown = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'aws.md'), 'utf8');
  const table = markdown.split(/^## Configuration \(context\)\s*$/m)[1].split(/^## /m)[0];
  const keys = table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1].matchAll(/`([\w.]+)`/g)].map((m) => m[1]));
  expect(keys.length).toBeGreaterThan(30);
  const source = fs.readFileSync(path.join(REPO_ROOT, 'stacks', 'aws.ts'), 'utf8');
  for (const key of keys) expect([key, source.includes(`'${key}'`)]).toEqual([key, true]);
});

describe.each(variants.map((v) => [v.title, v] as const))('%s', (_title, variant) => {
  it('synthesizes with cdk-nag and passes cfn-lint with 0 errors', () => {
    const name = slug(variant.title);
    expect(templates[name]).toBeDefined();
    const errors = lint[name].filter((f) => f.Rule.Id.startsWith('E')).map((f) => `${f.Rule.Id} ${f.Message} at ${(f.Location.Path ?? []).join('/')}`);
    expect(errors).toEqual([]);
  });
});

describe('what the variants change', () => {
  const t = (title: RegExp) => {
    const v = variants.find((x) => title.test(x.title));
    if (!v) throw new Error(`no variant ${title}`);
    return Template.fromJSON(templates[slug(v.title)]);
  };

  it('DNS managed elsewhere: no Route 53 record, the given certificate, the record to create in dnsRecords', () => {
    const dns = t(/DNS managed elsewhere/);
    dns.resourceCountIs('AWS::Route53::RecordSet', 0);
    dns.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    expect(JSON.stringify(dns.toJSON().Outputs.dnsRecords.Value)).toContain('CNAME');
  });

  it('tear down: no resource is kept, and the stack is not termination-protected', () => {
    const v = variants.find((x) => /Tear down/.test(x.title))!;
    const down = Template.fromJSON(templates[slug(v.title)]);
    for (const r of Object.values(down.toJSON().Resources as Record<string, any>)) expect([r.Type, r.DeletionPolicy ?? 'Delete']).toEqual([r.Type, 'Delete']);
    expect(terminationProtection[slug(v.title)]).toBe(false);
    const defaults = variants.find((x) => /^Default/.test(x.title))!;
    expect(terminationProtection[slug(defaults.title)]).toBe(true);
  });

  it('allow-list: a WAF IP set holds the ranges; KMS: kms:Decrypt with kms:ViaService', () => {
    expect(Object.values(t(/Allow-list/).findResources('AWS::WAFv2::IPSet'))[0].Properties.Addresses).toEqual(['198.51.100.0/24', '203.0.113.0/24']);
    expect(JSON.stringify(t(/KMS key/).findResources('AWS::IAM::Policy'))).toContain('"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"');
  });
});
