/**
 * Day two on AWS: what a second deploy, a version change, a scale event and a destroy do with the template, against
 * the rule AWS documents for each (cited in each test).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { BRIDGE_SIZING } from '../../contract';
import { App } from 'aws-cdk-lib';
import { DEFAULTS, LIFECYCLE_RESOURCE_TYPE } from '../../constructs/aws';
import { createApp } from '../../stacks/aws';
import { build, cdkJsonContext, idByPath, only, REPO_ROOT, template } from './helpers';

/** A literal (not a reference) name property of a resource, if it has one. */
const NAME_PROPERTIES = ['LogGroupName', 'BucketName', 'DBInstanceIdentifier', 'TopicName', 'FunctionName', 'RoleName', 'Name'];
function literalName(resource: any): string | undefined {
  for (const p of NAME_PROPERTIES) {
    const value = resource.Properties?.[p];
    if (typeof value === 'string' && resource.Type !== 'AWS::Route53::RecordSet') return `${p}=${value}`;
  }
  return undefined;
}

describe('day two on AWS', () => {
  let t: Template;
  let open: Template;
  beforeAll(() => {
    t = template(build());
    open = template(build({ deletionProtection: false }));
  });

  it.each(['15', '16', '17'] as const)(
    'database.version %s: major upgrades allowed (AllowMajorVersionUpgrade), downgrades refused before RDS is asked',
    (version) => {
      // AWS::RDS::DBInstance AllowMajorVersionUpgrade: "Major version upgrades must be allowed when specifying a value for
      // the EngineVersion parameter that's a different major version than the DB instance's current version."
      const tv = version === '17' ? t : template(build({ database: { version } }, { nag: false }));
      const db = only(tv, 'AWS::RDS::DBInstance');
      expect(db.props).toMatchObject({ EngineVersion: version, AllowMajorVersionUpgrade: true });
      // RDS never downgrades a major version: the DatabaseChange step compares with the running engine first.
      const stepId = idByPath(tv, 'Lifecycle/DatabaseChange/Default');
      const step = tv.findResources(LIFECYCLE_RESOURCE_TYPE)[stepId];
      expect(step.Properties).toMatchObject({
        Action: 'DatabaseChange',
        Version: version,
        StorageGiB: '20',
        DBInstanceIdentifier: db.props.DBInstanceIdentifier,
      });
      expect(db.resource.DependsOn).toEqual(expect.arrayContaining([stepId]));
    },
  );

  it('no DesiredCount beside autoscaling: a deploy leaves the task count to the scalable target', () => {
    // With DesiredCount in the template every deploy that touches the service resets the count to it, under load too
    // (aws/containers-roadmap#493, aws/aws-cdk#3919). AWS::ECS::Service: "For existing services, if a desired count is
    // not specified, it is omitted from the operation."
    expect(only(t, 'AWS::ECS::Service').props.DesiredCount).toBeUndefined();
    expect(only(t, 'AWS::ApplicationAutoScaling::ScalableTarget').props).toMatchObject({
      MinCapacity: BRIDGE_SIZING.minReplicas,
      MaxCapacity: BRIDGE_SIZING.maxReplicas,
    });
  });

  it("every custom resource has a ServiceTimeout beyond its function's own limit, well under the default hour", () => {
    // AWS::CloudFormation::CustomResource ServiceTimeout: "The maximum time, in seconds, that can elapse before a custom
    // resource operation times out. The value must be an integer from 1 to 3600. The default value is 3600 seconds."
    const resources = t.toJSON().Resources as Record<string, any>;
    const custom = Object.entries(resources).filter(([, r]) => String(r.Type).startsWith('Custom::'));
    expect(custom.length).toBeGreaterThanOrEqual(4);
    for (const [id, r] of custom) {
      const fn = resources[r.Properties.ServiceToken['Fn::GetAtt'][0]];
      const timeout = Number(r.Properties.ServiceTimeout); // CDK renders it as a string
      expect([id, timeout > fn.Properties.Timeout && timeout <= 1000]).toEqual([id, true]);
    }
  });

  it.each([
    ['protected', () => t],
    ['protection off', () => open],
  ])('%s: no resource with a literal name is kept by a delete (a kept one makes a redeploy fail with AlreadyExists)', (_name, get) => {
    const kept = Object.entries(get().toJSON().Resources as Record<string, any>)
      .filter(([, r]) => literalName(r) !== undefined && /^Retain/.test(r.DeletionPolicy ?? ''))
      .map(([id, r]) => `${id} ${literalName(r)} ${r.DeletionPolicy}`);
    expect(kept).toEqual([]);
    // The RDS log groups are the named ones; RDS fixes their names (/aws/rds/instance/<id>/<log>).
    const rdsLogs = Object.values(get().findResources('AWS::Logs::LogGroup')).filter((r) => String(r.Properties.LogGroupName ?? '').startsWith('/aws/rds/'));
    expect(rdsLogs.map((r) => r.DeletionPolicy)).toEqual(['Delete', 'Delete']);
  });

  it('the default security group provider logs to a log group the stack owns, removed by a destroy', () => {
    // Lambda creates /aws/lambda/<function> itself when nothing else did: no retention, and a destroy leaves it.
    const resources = open.toJSON().Resources as Record<string, any>;
    const handler = Object.keys(resources).find((id) => id.startsWith('CustomVpcRestrictDefaultSGCustomResourceProviderHandler'))!;
    const group = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::Logs::LogGroup' && JSON.stringify(r.Properties.LogGroupName ?? '').includes(handler),
    );
    expect(group).toBeDefined();
    const [groupId, logGroup] = group!;
    expect(logGroup.Properties).toMatchObject({ LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: handler }]] }, RetentionInDays: 30 });
    expect(logGroup.DeletionPolicy).toBe('Delete');
    const restrict = Object.values(resources).find((r) => r.Type === 'Custom::VpcRestrictDefaultSG');
    expect(restrict.DependsOn).toEqual(expect.arrayContaining([groupId]));
  });

  it('destroy with protection off leaves no log group of its own behind: every one is in the template with DeletionPolicy Delete', () => {
    // Lambda functions of the stack: each has a log group of the stack (the lifecycle's own, the provider's above).
    const resources = open.toJSON().Resources as Record<string, any>;
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const groups = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    for (const [id, fn] of functions) {
      const owned = groups.some(
        (g) =>
          JSON.stringify(g.Properties.LogGroupName ?? '').includes(`"Ref":"${id}"`) || JSON.stringify(fn.Properties.LoggingConfig ?? '').includes('LogGroup'),
      );
      expect([id, owned]).toEqual([id, true]);
    }
    for (const g of groups) expect(g.DeletionPolicy).toBe('Delete');
  });
});

describe('a second deploy and a scale-down', () => {
  it('a second synth with no change is the same template: nothing for CloudFormation to change', () => {
    const synth = () =>
      createApp(new App({ context: cdkJsonContext() }))
        .synth()
        .getStackByName('ScimBridge').template;
    expect(JSON.stringify(synth())).toBe(JSON.stringify(synth()));
  });

  it('fewer replicas never change the database: class and storage stay (RDS storage only grows)', () => {
    const db = (maxReplicas: number) => only(template(build({ minReplicas: 1, maxReplicas }, { nag: false })), 'AWS::RDS::DBInstance').props;
    const [small, large] = [db(2), db(7)];
    expect([small.DBInstanceClass, small.AllocatedStorage, small.MaxAllocatedStorage]).toEqual([
      large.DBInstanceClass,
      large.AllocatedStorage,
      large.MaxAllocatedStorage,
    ]);
  });
});

describe('what the docs say matches the template', () => {
  it('README and docs/aws.md name the default TLS policy and say it allows TLS 1.2 as well as 1.3', () => {
    // ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09: TLS 1.3 and TLS 1.2 (Elastic Load Balancing, "Security policies for
    // your Application Load Balancer"). "A TLS 1.3 policy" told readers TLS 1.2 was off.
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(DEFAULTS.sslPolicy).toBe('ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09');
    expect(readme).not.toMatch(/a TLS 1\.3 policy/);
    expect(readme).toContain(`\`${DEFAULTS.sslPolicy}\` (TLS 1.3, and TLS 1.2`);
  });

  it("docs/aws.md states the Elastic IPs the NAT gateways take from the region's default quota of five", () => {
    // Amazon VPC quotas: 5 Elastic IP addresses per Region by default; each NAT gateway holds one.
    const eips = Object.keys(template(build({}, { nag: false })).findResources('AWS::EC2::EIP')).length;
    expect(eips).toBe(2);
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'aws.md'), 'utf8');
    expect(doc).toContain("the two use two of the region's default quota of five Elastic IPs");
  });
});

describe('Fargate sizes: the table the ECS developer guide lists', () => {
  // docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html: 256 (.25 vCPU) 512 MiB, 1 GB, 2 GB;
  // 512 (.5 vCPU) 1-4 GB; 1024 (1 vCPU) 2-8 GB; 2048 (2 vCPU) 4-16 GB and 4096 (4 vCPU) 8-30 GB in 1 GB steps;
  // 8192 (8 vCPU) 16-60 GB in 4 GB steps; 16384 (16 vCPU) 32-120 GB in 8 GB steps.
  it.each([
    [0.25, 512],
    [0.25, 1024],
    [0.25, 2048],
    [0.5, 3072],
    [1, 8192],
    [2, 16384],
    [4, 30720],
    [8, 20480],
    [16, 122880],
  ])('accepts %s vCPU with %s MiB', (cpu, memoryMiB) => {
    expect(() => build({ cpu, memoryMiB }, { nag: false }).app.synth()).not.toThrow();
  });

  it.each<[number, number, RegExp]>([
    [0.25, 1536, /memoryMiB must be one Fargate allows with 0.25 vCPU: 512, 1024 or 2048 MiB, got 1536/],
    [0.25, 4096, /memoryMiB must be one Fargate allows with 0.25 vCPU: 512, 1024 or 2048 MiB, got 4096/],
    [0.5, 512, /0.5 vCPU: 1024, 2048, 3072 or 4096 MiB, got 512/],
    [2, 3072, /2 vCPU: 4096 to 16384 MiB in steps of 1024, got 3072/],
    [8, 18432, /8 vCPU: 16384 to 61440 MiB in steps of 4096, got 18432/],
  ])('refuses %s vCPU with %s MiB, quoting the row', (cpu, memoryMiB, message) => {
    expect(() => build({ cpu, memoryMiB }, { nag: false })).toThrow(message);
  });
});

describe('the image asset hash', () => {
  /** The image the task definition runs: its tag is the asset hash. */
  function imageOf(): string {
    const built = build({ image: undefined }, { nag: false });
    const assembly = built.app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Test.assets.json'), 'utf8'));
    return Object.keys(manifest.dockerImages)[0];
  }

  it('ignores what git ignores: a local bridge/data/bridge.db does not change it (a laptop deploy would roll the service)', () => {
    // .gitignore holds data/; the asset hash is taken over the staged context (CDK's fingerprint of the directory less
    // its exclude patterns), so only an exclude keeps the file out.
    const dir = path.join(REPO_ROOT, 'bridge', 'data');
    const created = !fs.existsSync(dir);
    const stray = path.join(dir, `bridge-${process.pid}.db`);
    const before = imageOf();
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(stray, 'SQLite format 3\0 a local directory');
      expect(imageOf()).toBe(before);
    } finally {
      fs.rmSync(created ? dir : stray, { recursive: true, force: true });
    }
  });
});
