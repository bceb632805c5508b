import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { build, only, template, ZONE } from './helpers';

describe('ScimBridge with default props', () => {
  let t: Template;
  let json: string;
  beforeAll(() => {
    // The app carries the cdk-nag AwsSolutions plugin: synthesis throws on any unacknowledged finding.
    t = template(build());
    json = JSON.stringify(t.toJSON());
  });

  describe('TLS and DNS', () => {
    it('serves HTTPS on 443 with the ACM certificate and a TLS 1.2+/1.3 policy', () => {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'HTTPS',
        Port: 443,
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
        Certificates: [{ CertificateArn: { Ref: only(t, 'AWS::CertificateManager::Certificate').id } }],
        DefaultActions: [Match.objectLike({ Type: 'forward' })],
      });
    });

    it('redirects HTTP on 80 to HTTPS with a permanent redirect', () => {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
        ],
      });
      t.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    });

    it('runs an internet-facing load balancer that drops invalid headers and writes access logs', () => {
      const lb = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').props;
      expect(lb.Scheme).toBe('internet-facing');
      expect(lb.LoadBalancerAttributes).toEqual(
        expect.arrayContaining([
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
        ]),
      );
      t.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      });
    });

    it('validates the certificate by DNS in the given hosted zone', () => {
      t.hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: 'scim.example.com',
        ValidationMethod: 'DNS',
        DomainValidationOptions: [{ DomainName: 'scim.example.com', HostedZoneId: ZONE.hostedZoneId }],
      });
    });

    it('points an alias A record for the domain at the load balancer', () => {
      const lbId = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').id;
      t.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'scim.example.com.',
        Type: 'A',
        HostedZoneId: ZONE.hostedZoneId,
        AliasTarget: {
          DNSName: { 'Fn::Join': ['', ['dualstack.', { 'Fn::GetAtt': [lbId, 'DNSName'] }]] },
          HostedZoneId: { 'Fn::GetAtt': [lbId, 'CanonicalHostedZoneID'] },
        },
      });
    });

    it('outputs the SCIM base URL and the next steps', () => {
      const outputs = t.toJSON().Outputs;
      const values = Object.values(outputs).map((o: any) => JSON.stringify(o.Value));
      expect(values).toContain(JSON.stringify('https://scim.example.com/scim/v2'));
      expect(values.some((v) => v.includes('scim-bridge session push-aws --secret-id'))).toBe(true);
    });
  });

  describe('the scimsession secret', () => {
    it('creates a secret whose value Secrets Manager generates: no value in the template', () => {
      const secrets = t.findResources('AWS::SecretsManager::Secret');
      for (const secret of Object.values(secrets)) {
        expect(secret.Properties.SecretString).toBeUndefined();
        expect(secret.Properties.GenerateSecretString).toBeDefined();
      }
      expect(Object.keys(secrets)).toHaveLength(2); // the session and the database credentials
    });

    it('injects the session and the database password as ECS secrets, never as environment values', () => {
      const sessionId = sessionSecretId(t);
      const container = only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
      expect(container.Secrets).toEqual([
        { Name: BRIDGE_ENV.session, ValueFrom: { Ref: sessionId } },
        { Name: BRIDGE_ENV.pgPassword, ValueFrom: { 'Fn::Join': ['', [{ Ref: expect.any(String) }, ':password::']] } },
      ]);
      const envNames = container.Environment.map((e: { Name: string }) => e.Name);
      expect(envNames).not.toContain(BRIDGE_ENV.session);
      expect(envNames).not.toContain(BRIDGE_ENV.pgPassword);
      expect(envNames).not.toContain(BRIDGE_ENV.sessionFile);
    });

    it('passes the secret ARN (not its value) so the bridge can re-read it for rotation', () => {
      const container = only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
      expect(container.Environment).toContainEqual({ Name: BRIDGE_ENV.sessionAwsSecretArn, Value: { Ref: sessionSecretId(t) } });
      expect(container.Environment).toContainEqual({ Name: 'AWS_REGION', Value: 'eu-west-1' });
    });

    it('holds no plaintext secret anywhere in the template', () => {
      // The only password in the template is a dynamic reference resolved by CloudFormation at deploy time.
      const db = only(t, 'AWS::RDS::DBInstance').props;
      expect(JSON.stringify(db.MasterUserPassword)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",\{"Ref":"[^"]+"\},":SecretString:password::\}\}"\]\]\}$/);
      expect(json).not.toMatch(/"SecretString"\s*:/);
      expect(json).not.toMatch(/"(MasterUserPassword|Password|password)"\s*:\s*"/);
      // Nothing shaped like a scimsession document or a key.
      expect(/"verifiers"|\\"salt\\"|PRIVATE KEY/.test(json)).toBe(false);
      // The placeholder template of the new session secret is a fixed, non-secret notice.
      const sessionSecret = t.findResources('AWS::SecretsManager::Secret')[sessionSecretId(t)].Properties;
      expect(JSON.parse(sessionSecret.GenerateSecretString.SecretStringTemplate)).toEqual({
        placeholder: expect.stringContaining('push-aws'),
      });
      for (const e of only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0].Environment) {
        expect(e.Name).not.toMatch(/SESSION$|PASSWORD|TOKEN|SECRET$/);
      }
    });

    it('lets the task role read only the session secret', () => {
      const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
      const statements = policyStatementsOf(t, taskDef.TaskRoleArn['Fn::GetAtt'][0]);
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: { Ref: sessionSecretId(t) },
        },
      ]);
    });

    it('lets the execution role read only the session and database secrets', () => {
      const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
      const statements = policyStatementsOf(t, taskDef.ExecutionRoleArn['Fn::GetAtt'][0]);
      const secretStatements = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
      expect(secretStatements).toHaveLength(1);
      const attachment = only(t, 'AWS::SecretsManager::SecretTargetAttachment').id;
      expect(secretStatements[0].Resource).toEqual(expect.arrayContaining([{ Ref: sessionSecretId(t) }, { Ref: attachment }]));
      expect(secretStatements[0].Resource).toHaveLength(2);
      for (const s of statements) {
        if (s.Resource === '*') expect(s.Action).toBe('ecr:GetAuthorizationToken');
      }
    });
  });

  describe('the database', () => {
    it('is an encrypted, backed-up, deletion-protected, private Multi-AZ PostgreSQL kept as a snapshot on removal', () => {
      const db = only(t, 'AWS::RDS::DBInstance');
      expect(db.props).toMatchObject({
        Engine: 'postgres',
        StorageEncrypted: true,
        BackupRetentionPeriod: 7,
        DeletionProtection: true,
        PubliclyAccessible: false,
        MultiAZ: true,
        DBName: 'scim_bridge',
        MasterUsername: 'scim_bridge',
      });
      expect(db.resource.DeletionPolicy).toBe('Snapshot');
      expect(db.resource.UpdateReplacePolicy).toBe('Snapshot');
    });

    it('lives in the isolated subnets', () => {
      const group = only(t, 'AWS::RDS::DBSubnetGroup').props;
      const subnets = t.findResources('AWS::EC2::Subnet');
      for (const ref of group.SubnetIds) {
        const tags = subnets[ref.Ref].Properties.Tags;
        expect(tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
      }
    });

    it('admits only the service security group on the database port', () => {
      const db = only(t, 'AWS::RDS::DBInstance');
      const dbSg = db.props.VPCSecurityGroups[0]['Fn::GetAtt'][0];
      const serviceSg = only(t, 'AWS::ECS::Service').props.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]['Fn::GetAtt'][0];
      const sg = t.findResources('AWS::EC2::SecurityGroup')[dbSg].Properties;
      expect(sg.SecurityGroupIngress).toBeUndefined();
      const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).filter(
        (r) => r.Properties.GroupId['Fn::GetAtt'][0] === dbSg,
      );
      expect(ingress).toHaveLength(1);
      expect(ingress[0].Properties).toMatchObject({
        IpProtocol: 'tcp',
        SourceSecurityGroupId: { 'Fn::GetAtt': [serviceSg, 'GroupId'] },
        FromPort: { 'Fn::GetAtt': [db.id, 'Endpoint.Port'] },
        ToPort: { 'Fn::GetAtt': [db.id, 'Endpoint.Port'] },
      });
      expect(ingress[0].Properties.CidrIp).toBeUndefined();
    });

    it('gives the bridge a postgres:// URL with TLS required and the user, but no password', () => {
      const env = only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0].Environment;
      const url = env.find((e: { Name: string }) => e.Name === BRIDGE_ENV.databaseUrl).Value['Fn::Join'][1];
      expect(url[0]).toBe('postgres://scim_bridge@');
      expect(url[url.length - 1]).toBe('/scim_bridge?sslmode=require');
      expect(JSON.stringify(url)).toContain('Endpoint.Address');
    });
  });

  describe('the service', () => {
    it('runs the image as the unprivileged user with a read-only root filesystem', () => {
      const container = only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
      expect(container.User).toBe(`${BRIDGE_IMAGE.uid}:${BRIDGE_IMAGE.gid}`);
      expect(container.ReadonlyRootFilesystem).toBe(true);
      expect(container.PortMappings).toEqual([expect.objectContaining({ ContainerPort: BRIDGE_PORT })]);
    });

    it('rolls a failed deployment back and keeps full capacity while deploying', () => {
      t.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DesiredCount: BRIDGE_SIZING.minReplicas,
        DeploymentConfiguration: Match.objectLike({
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
        }),
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
    });

    it('enables Container Insights on the cluster', () => {
      t.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
    });

    it('checks task health on the liveness path, so a database outage does not replace tasks', () => {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: BRIDGE_PORT,
        Protocol: 'HTTP',
        TargetType: 'ip',
        HealthCheckPath: BRIDGE_PATHS.liveness,
        Matcher: { HttpCode: '200' },
      });
      expect(BRIDGE_PATHS.liveness).toBe('/ping');
    });

    it('logs to CloudWatch with a retention period', () => {
      const container = only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
      expect(container.LogConfiguration.LogDriver).toBe('awslogs');
      const groupId = container.LogConfiguration.Options['awslogs-group'].Ref;
      expect(t.findResources('AWS::Logs::LogGroup')[groupId].Properties.RetentionInDays).toBe(30);
      for (const group of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
        expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
      }
    });

    it('scales between min and max tasks on CPU and on ALB requests per target', () => {
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: BRIDGE_SIZING.minReplicas,
        MaxCapacity: BRIDGE_SIZING.maxReplicas,
        ScalableDimension: 'ecs:service:DesiredCount',
      });
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          TargetValue: BRIDGE_SIZING.targetCpuPercent,
        }),
      });
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
          TargetValue: BRIDGE_SIZING.targetRequestsPerMinute,
        }),
      });
    });

    it('records a VPC flow log', () => {
      t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    });
  });
});

describe('ScimBridge options', () => {
  it('uses an imported session secret and scopes both roles to its ARN only', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/session-AbCdEf';
    const t = template(build((stack) => ({ sessionSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Session', arn) })));
    const secrets = Object.values(t.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1); // only the database credentials
    const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
    expect(taskDef.ContainerDefinitions[0].Secrets[0]).toEqual({ Name: BRIDGE_ENV.session, ValueFrom: arn });
    expect(taskDef.ContainerDefinitions[0].Environment).toContainEqual({ Name: BRIDGE_ENV.sessionAwsSecretArn, Value: arn });
    const taskStatements = policyStatementsOf(t, taskDef.TaskRoleArn['Fn::GetAtt'][0]);
    expect(taskStatements).toEqual([expect.objectContaining({ Resource: arn })]);
  });

  it('narrows load balancer ingress to the allowed ranges', () => {
    const t = template(build({ allowedIngressCidrs: ['203.0.113.0/24'] }));
    const sg = Object.values(t.findResources('AWS::EC2::SecurityGroup')).find((r) =>
      String(r.Properties.GroupDescription).startsWith('SCIM bridge load balancer'),
    )!;
    const cidrs = sg.Properties.SecurityGroupIngress.map((r: { CidrIp: string }) => r.CidrIp);
    expect(new Set(cidrs)).toEqual(new Set(['203.0.113.0/24']));
  });

  it('applies sizes, retention, allowed domains and log level', () => {
    const t = template(
      build({ minTasks: 3, maxTasks: 10, cpu: 1, memoryMiB: 2048, allowedDomains: ['example.com', 'example.org'], logLevel: 'debug', logRetention: 90 }),
    );
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 10 });
    const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
    expect(taskDef).toMatchObject({ Cpu: '1024', Memory: '2048' });
    expect(taskDef.ContainerDefinitions[0].Environment).toEqual(
      expect.arrayContaining([
        { Name: BRIDGE_ENV.allowedDomains, Value: 'example.com,example.org' },
        { Name: BRIDGE_ENV.logLevel, Value: 'debug' },
      ]),
    );
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('builds the image from bridge/Dockerfile at deploy time (synthesis only stages the build context)', () => {
    const built = build({ image: undefined });
    const assembly = built.app.synth();
    const manifest = JSON.parse(
      require('node:fs').readFileSync(require('node:path').join(assembly.directory, 'Test.assets.json'), 'utf8'),
    );
    const images = Object.values(manifest.dockerImages) as any[];
    expect(images).toHaveLength(1);
    expect(images[0].source).toMatchObject({ dockerFile: 'bridge/Dockerfile', platform: 'linux/amd64' });
    const staged = require('node:fs').readdirSync(require('node:path').join(assembly.directory, images[0].source.directory));
    // The bridge (with its own lock file) and the contract: no kit dependency, doc or stack file reaches the build.
    expect(staged.filter((entry: string) => entry !== '.dockerignore').sort()).toEqual(['bridge', 'contract']);
    const bridgeDir = require('node:path').join(assembly.directory, images[0].source.directory, 'bridge');
    expect(require('node:fs').readdirSync(bridgeDir)).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'Dockerfile', 'src']));
    expect(require('node:fs').readdirSync(bridgeDir)).not.toContain('node_modules');
  });

  it('fails synthesis when cdk-nag finds an unacknowledged problem (the checks are live)', () => {
    const built = build({ deletionProtection: false });
    expect(() => built.app.synth()).toThrow(/AwsSolutions-RDS10/);
  });

  it('acknowledges single-AZ explicitly when the database is not Multi-AZ', () => {
    const t = template(build({ databaseMultiAz: false }));
    t.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
  });
});

describe('ScimBridge prop validation', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['domainName outside the zone', { domainName: 'scim.example.net' }, /domainName .*not in the hosted zone 'example.com'/],
    ['domainName not a host name', { domainName: 'https://scim.example.com' }, /domainName must be a lower-case DNS host name/],
    ['minTasks zero', { minTasks: 0 }, /minTasks must be a whole number from 1/],
    ['maxTasks below minTasks', { minTasks: 4, maxTasks: 3 }, /maxTasks \(3\) must not be below minTasks \(4\)/],
    ['fractional maxTasks', { maxTasks: 2.5 }, /maxTasks must be a whole number/],
    ['cpu not a Fargate size', { cpu: 3 }, /cpu must be one of 0.25, 0.5, 1, 2, 4, 8, 16/],
    ['targetCpuPercent out of range', { targetCpuPercent: 100 }, /targetCpuPercent must be a whole number from 10 to 90/],
    ['targetRequestsPerMinute zero', { targetRequestsPerMinute: 0 }, /targetRequestsPerMinute/],
    ['a bad CIDR', { allowedIngressCidrs: ['10.0.0.0/33'] }, /allowedIngressCidrs holds '10.0.0.0\/33'/],
    ['no CIDR', { allowedIngressCidrs: [] }, /allowedIngressCidrs must name at least one range/],
    ['a bad allowed domain', { allowedDomains: ['@example.com'] }, /allowedDomains holds '@example.com'/],
    ['no backups', { databaseBackupRetentionDays: 0 }, /databaseBackupRetentionDays must be a whole number from 1 to 35/],
    ['no NAT gateway', { natGateways: 0 }, /natGateways must be a whole number from 1 to 2/],
    ['too little storage', { databaseAllocatedStorageGiB: 5 }, /databaseAllocatedStorageGiB/],
  ])('refuses %s, naming the prop', (_name, props, message) => {
    expect(() => build(props as never, { nag: false })).toThrow(message);
  });

  it('refuses access logs in a stack without a region, naming accessLogs', () => {
    expect(() => build({}, { region: null, nag: false })).toThrow(/accessLogs needs a stack with a concrete region/);
    expect(() => build({ accessLogs: false }, { region: null, nag: false })).not.toThrow();
  });
});

function sessionSecretId(t: Template): string {
  const secrets = t.findResources('AWS::SecretsManager::Secret');
  const id = Object.keys(secrets).find((k) => String(secrets[k].Properties.Description).startsWith('scimsession'));
  if (!id) throw new Error('no session secret');
  return id;
}

/** All statements of the inline policies attached to the role with logical id `roleId`. */
function policyStatementsOf(t: Template, roleId: string): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
