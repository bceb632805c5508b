/**
 * The ScimBridge construct's template, against the rules AWS and CDK document (each test that encodes one cites it).
 * Every build synthesizes the whole app: cdk-nag (AwsSolutions, validation plugin) and CloudFormation validation
 * throw on any unacknowledged finding.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { ADMIN_USER, LIFECYCLE_RESOURCE_TYPE } from '../../constructs/aws';
import { build, container, envOf, executionRoleId, idByPath, only, policyStatementsOf, taskRoleId, template, ZONE } from './helpers';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/session-AbCdEf';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const CERT_ARN = 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

describe('ScimBridge with default props', () => {
  let t: Template;
  let json: string;
  beforeAll(() => {
    t = template(build());
    json = JSON.stringify(t.toJSON());
  });

  describe('TLS, DNS and the front door', () => {
    it('serves HTTPS on 443 with the ACM certificate and a TLS 1.2+/1.3 policy; HTTP redirects with 301', () => {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'HTTPS',
        Port: 443,
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
        Certificates: [{ CertificateArn: { Ref: only(t, 'AWS::CertificateManager::Certificate').id } }],
      });
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
      });
    });

    it('validates the certificate by DNS in the zone and points an alias A record at the load balancer; no records to create', () => {
      t.hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: 'scim.example.com',
        ValidationMethod: 'DNS',
        DomainValidationOptions: [{ DomainName: 'scim.example.com', HostedZoneId: ZONE.hostedZoneId }],
      });
      const lbId = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').id;
      t.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'scim.example.com.',
        Type: 'A',
        HostedZoneId: ZONE.hostedZoneId,
        AliasTarget: Match.objectLike({ HostedZoneId: { 'Fn::GetAtt': [lbId, 'CanonicalHostedZoneID'] } }),
      });
      expect(t.toJSON().Outputs.dnsRecords.Value).toBe('[]');
    });

    it('answers /metrics at the listener with a fixed 404, before any forward rule', () => {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [BRIDGE_PATHS.metrics, `${BRIDGE_PATHS.metrics}/*`] } }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not Found' } }],
      });
    });

    it('appends to X-Forwarded-For (ALB default, stated) and the bridge trusts exactly that one hop, with metrics behind the token', () => {
      // docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html: "append" adds the
      // client address at the right; what is left of it came from the client.
      const lb = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').props;
      expect(lb.LoadBalancerAttributes).toEqual(
        expect.arrayContaining([
          { Key: 'routing.http.xff_header_processing.mode', Value: 'append' },
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
        ]),
      );
      const env = envOf(container(t, 'bridge'));
      expect(env[BRIDGE_ENV.trustProxy]).toBe('1');
      expect(env[BRIDGE_ENV.metricsRequireToken]).toBe('true');
    });

    it('opens the load balancer on 443 and 80 only, with no WAF unless asked', () => {
      const sg = t.findResources('AWS::EC2::SecurityGroup');
      const lbSg = Object.values(sg).find((r) => String(r.Properties.GroupDescription).startsWith('SCIM bridge load balancer'))!;
      expect(lbSg.Properties.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort])).toEqual([
        ['0.0.0.0/0', 443],
        ['0.0.0.0/0', 80],
      ]);
      t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    });
  });

  describe('the scimsession secret', () => {
    it('is created with no value in the template: no SecretString and no GenerateSecretString, so no template edit can overwrite a pushed scimsession', () => {
      // AWS::SecretsManager::Secret: "If you omit both GenerateSecretString and SecretString, you create an empty secret."
      const session = t.findResources('AWS::SecretsManager::Secret')[idByPath(t, 'Secrets/Session/Resource')];
      expect(session.Properties.SecretString).toBeUndefined();
      expect(session.Properties.GenerateSecretString).toBeUndefined();
      expect(session.Properties.Description).toContain('push-aws');
    });

    it('is never injected: no container has SCIM_SESSION; the bridge gets the ARN and reads the secret itself', () => {
      for (const name of ['bridge', 'db-bootstrap']) {
        const c = container(t, name);
        const names = [...(c.Environment ?? []), ...(c.Secrets ?? [])].map((e: { Name: string }) => e.Name);
        expect(names).not.toContain(BRIDGE_ENV.session);
        expect(names).not.toContain(BRIDGE_ENV.sessionFile);
      }
      expect(envOf(container(t, 'bridge'))[BRIDGE_ENV.sessionAwsSecretArn]).toEqual({ Ref: idByPath(t, 'Secrets/Session/Resource') });
      expect(envOf(container(t, 'db-bootstrap'))[BRIDGE_ENV.sessionAwsSecretArn]).toBeUndefined();
    });

    it('is readable by the task role only (the bridge calls Secrets Manager); the execution role has no use for it', () => {
      const session = idByPath(t, 'Secrets/Session/Resource');
      const task = policyStatementsOf(t, taskRoleId(t));
      expect(task).toEqual([{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: session } }]);
      const exec = policyStatementsOf(t, executionRoleId(t));
      expect(JSON.stringify(exec)).not.toContain(session);
    });

    it('holds no plaintext secret anywhere in the template: every password is a {{resolve:secretsmanager}} reference', () => {
      expect(json).not.toMatch(/"SecretString"\s*:\s*"/);
      expect(json).not.toMatch(/"(MasterUserPassword|Password|password)"\s*:\s*"/);
      expect(/"verifiers"|\\"salt\\"|PRIVATE KEY/.test(json)).toBe(false);
      for (const c of only(t, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions) {
        for (const e of c.Environment ?? []) expect(e.Name.replace('_REQUIRE_TOKEN', '')).not.toMatch(/SESSION$|PASSWORD|TOKEN|ADMIN_URL|CREDENTIALS$/);
      }
    });
  });

  describe('the database and its roles', () => {
    it('runs the bootstrap as an init container the bridge waits for (dependsOn SUCCESS), holding the admin URL the bridge never sees', () => {
      // ECS: "SUCCESS ... can't be set on an essential container".
      const bootstrap = container(t, 'db-bootstrap');
      const bridge = container(t, 'bridge');
      expect(bootstrap).toMatchObject({
        Essential: false,
        Command: ['db', 'bootstrap'],
        ReadonlyRootFilesystem: true,
        User: `${BRIDGE_IMAGE.uid}:${BRIDGE_IMAGE.gid}`,
      });
      expect(bridge.DependsOn).toEqual([{ ContainerName: 'db-bootstrap', Condition: 'SUCCESS' }]);
      const adminUrl = idByPath(t, 'Database/AdminUrl/Resource');
      expect(bootstrap.Secrets).toEqual(expect.arrayContaining([{ Name: BRIDGE_ENV.databaseAdminUrl, ValueFrom: { Ref: adminUrl } }]));
      expect(JSON.stringify(bridge)).not.toContain(adminUrl);
      expect(JSON.stringify(bridge)).not.toContain(idByPath(t, 'Database/AdminSecret/Resource'));
      expect([...(bridge.Environment ?? []), ...(bridge.Secrets ?? [])].map((e: any) => e.Name)).not.toContain(BRIDGE_ENV.databaseAdminUrl);
    });

    it('connects the bridge as scim_bridge with verify-full against the RDS CA bundle in the image, the password as PGPASSWORD', () => {
      for (const name of ['bridge', 'db-bootstrap']) {
        const c = container(t, name);
        const url = JSON.stringify(envOf(c)[BRIDGE_ENV.databaseUrl]);
        expect(url).toContain('postgres://scim_bridge@');
        expect(url).toContain(`/scim_bridge?sslmode=verify-full&sslrootcert=${BRIDGE_IMAGE.caBundles.awsRds}`);
        expect(url).not.toMatch(/sslmode=require/);
        expect(envOf(c)[BRIDGE_ENV.pgSslRootCert]).toBe(BRIDGE_IMAGE.caBundles.awsRds);
        expect(c.Secrets).toEqual(
          expect.arrayContaining([
            { Name: BRIDGE_ENV.pgPassword, ValueFrom: { 'Fn::Join': ['', [{ Ref: idByPath(t, 'Database/AppSecret/Resource') }, ':password::']] } },
          ]),
        );
      }
    });

    it('generates the app password and an administrator password safe to stand unescaped in a URL', () => {
      const app = t.findResources('AWS::SecretsManager::Secret')[idByPath(t, 'Database/AppSecret/Resource')].Properties.GenerateSecretString;
      expect(app).toMatchObject({ GenerateStringKey: 'password', ExcludePunctuation: true, SecretStringTemplate: JSON.stringify({ username: 'scim_bridge' }) });
      const admin = t.findResources('AWS::SecretsManager::Secret')[idByPath(t, 'Database/AdminSecret/Resource')].Properties.GenerateSecretString;
      expect(JSON.parse(admin.SecretStringTemplate)).toEqual({ username: ADMIN_USER });
      // Every character the generator may still use keeps its meaning in a URL's user-info.
      const printable = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');
      const left = [...printable].filter((c) => !admin.ExcludeCharacters.includes(c) && !/[A-Za-z0-9]/.test(c));
      expect(left.every((c) => encodeURIComponent(c) === c)).toBe(true);
    });

    it('assembles the admin URL from dynamic references to the master secret only', () => {
      const secret = t.findResources('AWS::SecretsManager::Secret')[idByPath(t, 'Database/AdminUrl/Resource')].Properties;
      const parts = secret.SecretString['Fn::Join'][1] as unknown[];
      const text = JSON.stringify(parts);
      expect(text).toContain(':SecretString:username::}}');
      expect(text).toContain(':SecretString:password::}}');
      expect(text).toContain('sslmode=verify-full');
      // No literal password: the only string parts are the scheme, separators, host attributes and the path.
      for (const part of parts) if (typeof part === 'string') expect(part).not.toMatch(/^[A-Za-z0-9]{20,}$/);
    });

    it('lets the execution role read the app and admin URL secrets, the task role none of the database secrets', () => {
      const exec = JSON.stringify(policyStatementsOf(t, executionRoleId(t)));
      expect(exec).toContain(idByPath(t, 'Database/AppSecret/Resource'));
      expect(exec).toContain(idByPath(t, 'Database/AdminUrl/Resource'));
      const task = JSON.stringify(policyStatementsOf(t, taskRoleId(t)));
      for (const suffix of ['Database/AppSecret/Resource', 'Database/AdminUrl/Resource', 'Database/AdminSecret/Resource']) {
        expect(task).not.toContain(idByPath(t, suffix));
      }
    });

    it('is an encrypted, backed-up, private single-AZ PostgreSQL 17 (shared default) with log exports and Performance Insights', () => {
      const db = only(t, 'AWS::RDS::DBInstance');
      expect(db.props).toMatchObject({
        Engine: 'postgres',
        EngineVersion: '17',
        DBInstanceClass: 'db.t4g.micro',
        StorageEncrypted: true,
        StorageType: 'gp3',
        AllocatedStorage: '20',
        MaxAllocatedStorage: 100,
        BackupRetentionPeriod: 7,
        PubliclyAccessible: false,
        MultiAZ: false,
        DBName: 'scim_bridge',
        CACertificateIdentifier: 'rds-ca-rsa2048-g1',
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
        // RDS for PostgreSQL has no instance-class restriction for Performance Insights (USER_PerfInsights.Overview.Engines).
        EnablePerformanceInsights: true,
        PerformanceInsightsRetentionPeriod: 7,
        DatabaseInsightsMode: 'standard',
      });
      const id = db.props.DBInstanceIdentifier;
      for (const log of ['postgresql', 'upgrade']) {
        t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/rds/instance/${id}/${log}`, RetentionInDays: 30 });
      }
      expect(db.resource.DependsOn).toEqual(expect.arrayContaining([idByPath(t, 'Database/Logs-postgresql/Resource')]));
    });

    it('lives in the isolated subnets and admits only the service security group on its port', () => {
      const group = only(t, 'AWS::RDS::DBSubnetGroup').props;
      const subnets = t.findResources('AWS::EC2::Subnet');
      for (const ref of group.SubnetIds) expect(subnets[ref.Ref].Properties.Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
      const db = only(t, 'AWS::RDS::DBInstance');
      const dbSg = db.props.VPCSecurityGroups[0]['Fn::GetAtt'][0];
      const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).filter((r) => r.Properties.GroupId['Fn::GetAtt'][0] === dbSg);
      expect(ingress).toHaveLength(1);
      expect(ingress[0].Properties.SourceSecurityGroupId).toEqual({ 'Fn::GetAtt': [idByPath(t, 'Service/SecurityGroup/Resource'), 'GroupId'] });
    });
  });

  describe('lifecycle: a failed first deploy rolls back cleanly, protection starts once the service is healthy', () => {
    it('creates the instance without deletion protection (a protected instance blocks the rollback of a failed create)', () => {
      // The RDS handler deletes without lifting protection (aws-cloudformation-resource-providers-rds DeleteHandler),
      // and sends DeletionProtection on update only when the template's value changes (Translator.modifyDbInstanceRequest).
      const db = only(t, 'AWS::RDS::DBInstance');
      expect(db.props.DeletionProtection).toBeUndefined();
      expect(db.resource.DeletionPolicy).toBe('Snapshot');
      expect(db.resource.UpdateReplacePolicy).toBe('Snapshot');
    });

    it('switches deletion protection on with a lifecycle step that waits for the stable service', () => {
      const step = t.findResources(LIFECYCLE_RESOURCE_TYPE)[idByPath(t, 'Lifecycle/DatabaseProtection/Default')];
      expect(step.Properties).toMatchObject({
        Action: 'DatabaseProtection',
        Protect: 'true',
        DBInstanceIdentifier: only(t, 'AWS::RDS::DBInstance').props.DBInstanceIdentifier,
      });
      expect(step.DependsOn).toEqual(expect.arrayContaining([only(t, 'AWS::ECS::Service').id, only(t, 'AWS::RDS::DBInstance').id]));
      const policy = t.findResources('AWS::IAM::Policy')[idByPath(t, 'Lifecycle/DatabasePolicy/Resource')].Properties.PolicyDocument.Statement;
      expect(policy).toEqual([
        expect.objectContaining({
          Action: expect.arrayContaining(['rds:ModifyDBInstance', 'rds:DescribeDBInstances']),
          Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }),
        }),
      ]);
      expect(JSON.stringify(policy)).toContain(`:db:${only(t, 'AWS::RDS::DBInstance').props.DBInstanceIdentifier}`);
    });

    it('creates the termination guard before everything else (every other resource of the bridge depends on it)', () => {
      const guard = idByPath(t, 'Lifecycle/TerminationGuard/Default');
      const resources = t.toJSON().Resources as Record<string, any>;
      const outside = Object.entries(resources).filter(([, r]) => {
        const p = String(r.Metadata?.['aws:cdk:path'] ?? '');
        return p.startsWith('Test/Bridge/') && !p.startsWith('Test/Bridge/Lifecycle/');
      });
      expect(outside.length).toBeGreaterThan(50);
      for (const [id, r] of outside) expect([id, r.DependsOn ?? []]).toEqual([id, expect.arrayContaining([guard])]);
      expect(resources[guard].DependsOn).toBeUndefined();
    });

    it('keeps the secrets, log groups and bucket on delete but removes them on a creation rollback (RetainExceptOnCreate)', () => {
      // CloudFormation DeletionPolicy: "RetainExceptOnCreate behaves like Retain ... except for the stack operation
      // that initially created the resource. If the stack operation that created the resource is rolled back,
      // CloudFormation deletes the resource."
      const kept = [
        'Secrets/Session/Resource',
        'Database/AdminSecret/Resource',
        'Database/AppSecret/Resource',
        'Database/AdminUrl/Resource',
        'Service/Logs/Resource',
        'Network/FlowLogs/Resource',
        'FrontDoor/AccessLogs/Resource',
      ];
      const resources = t.toJSON().Resources as Record<string, any>;
      for (const suffix of kept) expect([suffix, resources[idByPath(t, suffix)].DeletionPolicy]).toEqual([suffix, 'RetainExceptOnCreate']);
      for (const [id, r] of Object.entries(resources)) {
        if (r.DeletionPolicy === 'Retain') throw new Error(`${id} is Retain: a failed first deploy would leave it behind`);
      }
    });

    it('empties the access-log bucket on a creation rollback, after the load balancer that writes to it is gone', () => {
      // ELB writes a test object when access logging is enabled; a non-empty bucket cannot be deleted.
      const step = idByPath(t, 'Lifecycle/EmptyBucket/Default');
      const props = t.findResources(LIFECYCLE_RESOURCE_TYPE)[step].Properties;
      expect(props).toMatchObject({ Action: 'EmptyBucket', OnDelete: 'rollback', Bucket: { Ref: idByPath(t, 'FrontDoor/AccessLogs/Resource') } });
      expect(only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').resource.DependsOn).toEqual(expect.arrayContaining([step]));
    });

    it('runs the lifecycle steps on the newest Node.js runtime with a role scoped to this stack', () => {
      const fn = t.findResources('AWS::Lambda::Function')[idByPath(t, 'Lifecycle/Function/Resource')].Properties;
      expect(fn.Runtime).toBe('nodejs24.x');
      const role = t.findResources('AWS::IAM::Role')[fn.Role['Fn::GetAtt'][0]].Properties;
      const statements = role.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: expect.arrayContaining(['cloudformation:DescribeStacks', 'cloudformation:UpdateTerminationProtection']),
          Resource: { Ref: 'AWS::StackId' },
        }),
      );
      expect(role.ManagedPolicyArns).toBeUndefined();
    });
  });

  describe('the service', () => {
    it('runs as the unprivileged user on a read-only root filesystem with a /ping health check in the task definition', () => {
      // ECS ignores an image's HEALTHCHECK; only the task definition's counts (HealthCheck in ContainerDefinition).
      const bridge = container(t, 'bridge');
      expect(bridge).toMatchObject({ User: '10001:10001', ReadonlyRootFilesystem: true, Essential: true });
      expect(bridge.PortMappings).toEqual([expect.objectContaining({ ContainerPort: BRIDGE_PORT })]);
      expect(bridge.HealthCheck).toEqual({
        Command: ['CMD', 'node', '-e', expect.stringContaining(`http://127.0.0.1:${BRIDGE_PORT}${BRIDGE_PATHS.liveness}`)],
        Interval: 15,
        Timeout: 5,
        Retries: 3,
        StartPeriod: 60,
      });
    });

    it('limits task egress to HTTPS and the database port (DNS to the VPC resolver is not filtered by security groups)', () => {
      // docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html: security groups do not filter traffic to
      // Amazon DNS, DHCP, instance metadata or ECS task metadata endpoints.
      const serviceSg = idByPath(t, 'Service/SecurityGroup/Resource');
      const sg = t.findResources('AWS::EC2::SecurityGroup')[serviceSg].Properties;
      expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
      const egress = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')).filter((r) => r.Properties.GroupId['Fn::GetAtt'][0] === serviceSg);
      expect(egress).toHaveLength(1);
      expect(egress[0].Properties).toMatchObject({
        IpProtocol: 'tcp',
        DestinationSecurityGroupId: { 'Fn::GetAtt': [idByPath(t, 'Database/SecurityGroup/Resource'), 'GroupId'] },
      });
      // In: the load balancer only, on the bridge's port.
      const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).filter((r) => r.Properties.GroupId['Fn::GetAtt'][0] === serviceSg);
      expect(ingress.map((r) => [r.Properties.SourceSecurityGroupId, r.Properties.FromPort])).toEqual([
        [{ 'Fn::GetAtt': [idByPath(t, 'FrontDoor/SecurityGroup/Resource'), 'GroupId'] }, BRIDGE_PORT],
      ]);
    });

    it('rolls a failed deployment back, keeps full capacity while deploying and checks /ping at the target group', () => {
      t.hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100 }),
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: BRIDGE_PORT, HealthCheckPath: '/ping', Matcher: { HttpCode: '200' } });
    });

    it('scales between min and max replicas on CPU and on ALB requests per target', () => {
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: BRIDGE_SIZING.minReplicas,
        MaxCapacity: BRIDGE_SIZING.maxReplicas,
      });
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          TargetValue: 60,
        }),
      });
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
          TargetValue: 3000,
        }),
      });
    });
  });

  describe('operations', () => {
    it('raises alarms on 5xx, unhealthy and missing tasks, CPU, database storage and connections, to one topic', () => {
      const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      const metrics = alarms.map((a) => a.MetricName).sort();
      expect(metrics).toEqual([
        'CPUUtilization',
        'CPUUtilization',
        'DatabaseConnections',
        'FreeStorageSpace',
        'HTTPCode_ELB_5XX_Count',
        'HTTPCode_Target_5XX_Count',
        'HealthyHostCount',
        'UnHealthyHostCount',
        'scim_bridge_feed_holds_started',
      ]);
      const topic = only(t, 'AWS::SNS::Topic').id;
      for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: topic }]);
      t.resourceCountIs('AWS::SNS::Subscription', 0);
      // ~72 usable connections on t4g.micro: alarm at 80 %.
      expect(alarms.find((a) => a.MetricName === 'DatabaseConnections').Threshold).toBe(57);
      expect(alarms.find((a) => a.MetricName === 'FreeStorageSpace')).toMatchObject({ ComparisonOperator: 'LessThanThreshold', Threshold: 1024 ** 3 });
    });

    it('puts a NAT gateway in each of the two zones', () => {
      t.resourceCountIs('AWS::EC2::NatGateway', 2);
      t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    });

    it('tags every resource that takes tags with app=scim-bridge', () => {
      const resources = Object.values(t.toJSON().Resources as Record<string, any>);
      const tagged = resources.filter((r) => Array.isArray(r.Properties?.Tags));
      for (const type of [
        'AWS::RDS::DBInstance',
        'AWS::ECS::Service',
        'AWS::ElasticLoadBalancingV2::LoadBalancer',
        'AWS::EC2::VPC',
        'AWS::SecretsManager::Secret',
        'AWS::Logs::LogGroup',
        'AWS::S3::Bucket',
        'AWS::Lambda::Function',
        'AWS::SNS::Topic',
        'AWS::CloudWatch::Alarm',
      ]) {
        expect([type, tagged.some((r) => r.Type === type)]).toEqual([type, true]);
      }
      for (const r of tagged) expect(r.Properties.Tags).toContainEqual({ Key: 'app', Value: 'scim-bridge' });
    });

    it('outputs the shared outputs under their shared names, and the session secret for push-aws', () => {
      const outputs = t.toJSON().Outputs;
      expect(Object.keys(outputs)).toEqual(['scimBaseUrl', 'dnsRecords', 'nextSteps', 'sessionSecretArn', 'loadBalancerDnsName', 'alarmTopicArn']);
      expect(outputs.scimBaseUrl.Value).toBe('https://scim.example.com/scim/v2');
      expect(JSON.stringify(outputs.nextSteps.Value)).toContain('scim-bridge session push-aws --secret-id');
    });
  });
});

describe('ScimBridge options', () => {
  it('imported secret with a customer managed key: kms:Decrypt for the task role, through Secrets Manager in the region only', () => {
    // grantRead of an imported secret with an imported key adds no kms: statement (aws/aws-cdk#10160, #20087).
    const t = template(
      build((stack) => ({
        sessionSecret: secretsmanager.Secret.fromSecretAttributes(stack, 'Session', {
          secretCompleteArn: SECRET_ARN,
          encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
        }),
      })),
    );
    const task = policyStatementsOf(t, taskRoleId(t));
    expect(task).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY_ARN,
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    });
    expect(task).toContainEqual(expect.objectContaining({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: SECRET_ARN }));
    expect(envOf(container(t, 'bridge'))[BRIDGE_ENV.sessionAwsSecretArn]).toBe(SECRET_ARN);
    t.resourceCountIs('AWS::SecretsManager::Secret', 3); // only the database's
  });

  it('Google Workspace: settings in the plain environment, the key as SCIM_GOOGLE_CREDENTIALS, kms:Decrypt for the execution role', () => {
    const googleArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/google-AbCdEf';
    const t = template(
      build((stack) => ({
        googleWorkspace: { adminEmail: 'admin@example.com', groups: ['eng@example.com'] },
        googleCredentials: secretsmanager.Secret.fromSecretAttributes(stack, 'Google', {
          secretCompleteArn: googleArn,
          encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
        }),
      })),
    );
    const bridge = container(t, 'bridge');
    expect(envOf(bridge)).toMatchObject({ [BRIDGE_ENV.googleAdminEmail]: 'admin@example.com', [BRIDGE_ENV.googleGroups]: 'eng@example.com' });
    expect(bridge.Secrets).toContainEqual({ Name: BRIDGE_ENV.googleCredentials, ValueFrom: googleArn });
    expect(policyStatementsOf(t, executionRoleId(t))).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: KEY_ARN }));
    expect(JSON.stringify(policyStatementsOf(t, taskRoleId(t)))).not.toContain(googleArn);
  });

  it('DNS managed elsewhere: the given certificate, no Route 53 record, and the record to create as an output', () => {
    const t = template(build((stack) => ({ certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN) }), { zone: false }));
    t.resourceCountIs('AWS::Route53::RecordSet', 0);
    t.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Certificates: [{ CertificateArn: CERT_ARN }] });
    const outputs = t.toJSON().Outputs;
    const lbId = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').id;
    expect(JSON.stringify(outputs.dnsRecords.Value)).toContain('\\"name\\":\\"scim.example.com\\",\\"type\\":\\"CNAME\\"');
    expect(JSON.stringify(outputs.dnsRecords.Value)).toContain(lbId);
    expect(JSON.stringify(outputs.nextSteps.Value)).toContain('Create these DNS records at your DNS provider: scim.example.com CNAME');
  });

  it('a Route 53 zone with an imported certificate: the alias record, no new certificate', () => {
    const t = template(build((stack) => ({ certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN) })));
    t.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    t.resourceCountIs('AWS::Route53::RecordSet', 1);
  });

  it('allow-list through a WAF IP set with the rate-based rule: 100 ranges, still two security-group rules', () => {
    // A security group holds 60 inbound rules; a WAF IP set up to 10,000 addresses.
    const cidrs = Array.from({ length: 100 }, (_, i) => `198.51.${i}.0/24`);
    const t = template(build({ allowedIngressCidrs: cidrs, wafRateLimit: 500 }));
    expect(only(t, 'AWS::WAFv2::IPSet').props).toMatchObject({ Scope: 'REGIONAL', IPAddressVersion: 'IPV4', Addresses: cidrs });
    const acl = only(t, 'AWS::WAFv2::WebACL').props;
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    expect(acl.Rules[0]).toMatchObject({
      Action: { Block: {} },
      Statement: { NotStatement: { Statement: { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [only(t, 'AWS::WAFv2::IPSet').id, 'Arn'] } } } } },
    });
    expect(acl.Rules[1]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
    });
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: { Ref: only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').id } });
    const rules = Object.values(t.findResources('AWS::EC2::SecurityGroup')).flatMap((r) => r.Properties.SecurityGroupIngress ?? []);
    expect(rules.length).toBeLessThanOrEqual(3);
  });

  it('deletionProtection: false removes everything on destroy: database without snapshot, its secrets, logs, the emptied bucket', () => {
    const t = template(build({ deletionProtection: false }));
    const db = only(t, 'AWS::RDS::DBInstance');
    expect(db.resource.DeletionPolicy).toBe('Delete');
    expect(db.props.DeletionProtection).toBeUndefined();
    for (const r of Object.values(t.toJSON().Resources as Record<string, any>)) expect([r.Type, r.DeletionPolicy ?? 'Delete']).toEqual([r.Type, 'Delete']);
    const steps = t.findResources(LIFECYCLE_RESOURCE_TYPE);
    expect(steps[idByPath(t, 'Lifecycle/DatabaseProtection/Default')].Properties.Protect).toBe('false');
    expect(steps[idByPath(t, 'Lifecycle/EmptyBucket/Default')].Properties.OnDelete).toBe('always');
  });

  it('accessLogs: false has no bucket and no clean-up step (and synthesizes: ELB2 is acknowledged)', () => {
    const t = template(build({ accessLogs: false }));
    t.resourceCountIs('AWS::S3::Bucket', 0);
    expect(
      Object.values(t.findResources(LIFECYCLE_RESOURCE_TYPE))
        .map((r) => r.Properties.Action)
        .sort(),
    ).toEqual(['DatabaseChange', 'DatabaseProtection', 'TerminationGuard']);
  });

  it('sizes, high availability, one NAT gateway, TLS policy, metrics exposed, tags and an e-mail', () => {
    const t = template(
      build({
        minReplicas: 3,
        maxReplicas: 10,
        cpu: 1,
        memoryMiB: 2048,
        natGateways: 1,
        sslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' as never,
        exposeMetrics: true,
        database: { size: 't4g.medium', storageGiB: 50, highAvailability: true, version: '16' },
        tags: { team: 'identity' },
        alarmEmail: 'ops@example.com',
        logRetention: 90,
      }),
    );
    expect(only(t, 'AWS::ECS::TaskDefinition').props).toMatchObject({ Cpu: '1024', Memory: '2048' });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 10 });
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { SslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    expect(only(t, 'AWS::RDS::DBInstance').props).toMatchObject({
      DBInstanceClass: 'db.t4g.medium',
      AllocatedStorage: '50',
      MaxAllocatedStorage: 250,
      MultiAZ: true,
      EngineVersion: '16',
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::RDS::DBInstance', { Tags: Match.arrayWith([{ Key: 'team', Value: 'identity' }]) });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('builds the image from bridge/Dockerfile at deploy time, with a digest-pinned base when given', () => {
    const base = `node:24-alpine@sha256:${'a'.repeat(64)}`;
    const built = build({ image: undefined, baseImage: base });
    const assembly = built.app.synth();
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Test.assets.json'), 'utf8'));
    const images = Object.values(manifest.dockerImages) as any[];
    expect(images).toHaveLength(1);
    expect(images[0].source).toMatchObject({ dockerFile: 'bridge/Dockerfile', platform: 'linux/amd64', dockerBuildArgs: { NODE_IMAGE: base } });
    const staged = fs.readdirSync(path.join(assembly.directory, images[0].source.directory));
    expect(staged.filter((entry: string) => entry !== '.dockerignore').sort()).toEqual(['bridge', 'contract']);
    // The Dockerfile's own pin is by digest too, so a rebuild is the same base until dependency updates bump it.
    expect(fs.readFileSync(path.join(__dirname, '..', '..', 'bridge', 'Dockerfile'), 'utf8')).toMatch(/^ARG NODE_IMAGE=node:[\w.-]+@sha256:[0-9a-f]{64}$/m);
  });
});

describe('ScimBridge prop validation (each error names the prop)', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['domain outside the zone', { domain: 'scim.example.net' }, /ScimBridge: domain 'scim.example.net' is not in the hosted zone 'example.com'/],
    ['domain with a scheme', { domain: 'https://scim.example.com' }, /ScimBridge: domain must be a host name/],
    ['minReplicas zero (ECS keeps no task)', { minReplicas: 0 }, /minReplicas must be a whole number from 1/],
    ['maxReplicas below minReplicas', { minReplicas: 4, maxReplicas: 3 }, /maxReplicas must be at least minReplicas \(4\), got 3/],
    ['cpu not a Fargate size', { cpu: 3 }, /cpu must be a Fargate size: 0.25, 0.5, 1, 2, 4, 8, 16 vCPU, got 3/],
    ['memory outside the Fargate table', { cpu: 0.5, memoryMiB: 8192 }, /memoryMiB must be one Fargate allows with 0.5 vCPU: 1024, 2048, 3072 or 4096 MiB/],
    ['a bad CIDR', { allowedIngressCidrs: ['10.0.0.0/33'] }, /allowedIngressCidrs\[0\] must be an IPv4 CIDR/],
    ['no NAT gateway', { natGateways: 0 }, /natGateways must be 1 or 2/],
    ['too little storage for gp3', { database: { storageGiB: 10 } }, /database.storageGiB must be at least 20/],
    ['a database size that is no instance class', { database: { size: 'large' } }, /database.size must be an RDS instance class/],
    ['a TLS policy that allows TLS 1.0', { sslPolicy: 'ELBSecurityPolicy-TLS13-1-0-2021-06' }, /sslPolicy .* accepts TLS 1.0 or 1.1/],
    ['an unknown TLS policy', { sslPolicy: 'ELBSecurityPolicy-Made-Up' }, /sslPolicy must be an ELB security policy name/],
    ["a rate limit below AWS WAF's 10", { wafRateLimit: 5 }, /wafRateLimit must be a whole number from 10/],
    ['a bad alarm e-mail', { alarmEmail: 'ops' }, /alarmEmail must be an e-mail address/],
    ['a base image without digest', { image: undefined, baseImage: 'node:24-alpine' }, /baseImage must be an image pinned by digest/],
    [
      'Google Workspace without credentials',
      { googleWorkspace: { adminEmail: 'a@example.com', groups: ['g@example.com'] } },
      /googleCredentials is required with googleWorkspace/,
    ],
  ])('refuses %s', (_name, props, message) => {
    expect(() => build(props as never, { nag: false })).toThrow(message);
  });

  it('refuses no zone and no certificate, naming certificate', () => {
    expect(() => build({}, { nag: false, zone: false })).toThrow(/ScimBridge: certificate is required when there is no hostedZone/);
  });

  it('refuses access logs in a stack without a region, naming accessLogs', () => {
    expect(() => build({}, { region: null, nag: false })).toThrow(/accessLogs needs a stack with a concrete region/);
    expect(() => build({ accessLogs: false }, { region: null, nag: false })).not.toThrow();
  });

  it("connection budget: refuses maxReplicas whose pools exceed the instance class's max_connections, naming a size that fits", () => {
    // RDS: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000) (CHAP_Limits.html#RDS_Limits.MaxConnections).
    // t4g.micro (1 GiB): about 77 less 5 reserved; 8 tasks × 5 × 2 + 1 = 81.
    expect(() => build({ maxReplicas: 7 }, { nag: false })).not.toThrow();
    expect(() => build({ maxReplicas: 8 }, { nag: false })).toThrow(
      /ScimBridge: maxReplicas \(8\) needs up to 81 database connections .* but db\.t4g\.micro allows about 72 .* choose a larger database.size \(t4g\.small fits\)/,
    );
    expect(() => build({ maxReplicas: 8, database: { size: 't4g.small' } }, { nag: false })).not.toThrow();
  });

  it('passes an unresolved value (a CfnParameter) through instead of refusing it', () => {
    const { CfnParameter } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    expect(() => build((stack) => ({ maxReplicas: new CfnParameter(stack, 'Max', { type: 'Number' }).valueAsNumber }), { nag: false })).not.toThrow();
  });
});
