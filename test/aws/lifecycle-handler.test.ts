/**
 * The lifecycle custom resource's handler, run for real: the AWS SDK v3 clients it uses are mocked
 * (aws-sdk-client-mock), and CloudFormation's pre-signed response URL is a real HTTP server on 127.0.0.1, so the test
 * sees the exact answer CloudFormation would get. What matters is what a rollback or a delete then does.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, DescribeStacksCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

const lifecycle = require('../../constructs/aws/lifecycle-handler/index.js') as {
  handler: (event: unknown, context?: unknown) => Promise<string>;
  timing: { retryMs: number; waitMs: number; settleMs: number };
};

const cfn = mockClient(CloudFormationClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);

const STACK = 'arn:aws:cloudformation:eu-west-1:111122223333:stack/ScimBridge/0a1b2c3d';
let server: http.Server;
let url: string;
let answers: any[];

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined); // the handler's JSON log lines
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      answers.push({ method: req.method, body: JSON.parse(body) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
  answers = [];
  cfn.reset();
  rds.reset();
  s3.reset();
  lifecycle.timing.retryMs = 1;
  lifecycle.timing.waitMs = 5_000;
  lifecycle.timing.settleMs = 0;
});

function event(requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, string>, physical = true) {
  return {
    RequestType: requestType,
    ResponseURL: url,
    StackId: STACK,
    RequestId: 'req-1',
    LogicalResourceId: 'BridgeLifecycleStep',
    ...(physical && requestType !== 'Create' ? { PhysicalResourceId: 'BridgeLifecycleStep' } : {}),
    ResourceType: 'Custom::ScimBridgeLifecycle',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:f', ...properties },
  };
}

function stackIs(status: string) {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'ScimBridge', StackStatus: status as never, CreationTime: new Date() }] });
}

describe('TerminationGuard', () => {
  it('lifts termination protection when a failed stack creation rolls back, so the stack can be deleted and the deploy retried', async () => {
    stackIs('ROLLBACK_IN_PROGRESS');
    await lifecycle.handler(event('Delete', { Action: 'TerminationGuard' }));
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK, EnableTerminationProtection: false },
    ]);
    expect(answers).toEqual([
      { method: 'PUT', body: expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'BridgeLifecycleStep', StackId: STACK, RequestId: 'req-1' }) },
    ]);
  });

  it.each(['DELETE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_IN_PROGRESS'])('leaves protection alone when the stack is %s', async (status) => {
    stackIs(status);
    await lifecycle.handler(event('Delete', { Action: 'TerminationGuard' }));
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it('does nothing on create and keeps one physical id on every update (a new one would make CloudFormation delete the old)', async () => {
    await lifecycle.handler(event('Create', { Action: 'TerminationGuard' }));
    await lifecycle.handler(event('Update', { Action: 'TerminationGuard' }));
    expect(cfn.calls()).toHaveLength(0);
    expect(answers.map((a) => [a.body.Status, a.body.PhysicalResourceId])).toEqual([
      ['SUCCESS', 'BridgeLifecycleStep'],
      ['SUCCESS', 'BridgeLifecycleStep'],
    ]);
  });

  it('answers SUCCESS on a delete even when its call fails: a failed clean-up must not wedge the rollback', async () => {
    stackIs('ROLLBACK_IN_PROGRESS');
    cfn.on(UpdateTerminationProtectionCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDenied' }));
    await lifecycle.handler(event('Delete', { Action: 'TerminationGuard' }));
    expect(answers[0].body).toMatchObject({ Status: 'SUCCESS', Reason: expect.stringContaining('AccessDenied') });
  });
});

describe('EmptyBucket', () => {
  const bucket = { Action: 'EmptyBucket', Bucket: 'scim-logs', OnDelete: 'rollback' };

  it('empties the bucket page by page when a creation rolls back', async () => {
    stackIs('ROLLBACK_IN_PROGRESS');
    const keys = Array.from({ length: 1500 }, (_, i) => `scim-bridge/AWSLogs/111122223333/${i}.log.gz`);
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: keys.slice(0, 1000).map((Key) => ({ Key })) })
      .resolvesOnce({ Contents: keys.slice(1000).map((Key) => ({ Key })) })
      .resolves({ Contents: [] });
    await lifecycle.handler(event('Delete', bucket));
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key));
    expect(deleted).toEqual(keys);
    expect(s3.commandCalls(DeleteObjectsCommand).every((c) => c.args[0].input.Bucket === 'scim-logs')).toBe(true);
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it('keeps the logs on a stack delete while protected (the bucket is retained), empties them when OnDelete is always', async () => {
    stackIs('DELETE_IN_PROGRESS');
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'a' }] })
      .resolves({ Contents: [] });
    await lifecycle.handler(event('Delete', bucket));
    expect(s3.calls()).toHaveLength(0);
    await lifecycle.handler(event('Delete', { ...bucket, OnDelete: 'always' }));
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(1);
  });

  it('keeps looking until the bucket stayed empty for the settle time: a log file the load balancer delivers after its deletion is removed too', async () => {
    // ALB publishes a log file per node every 5 minutes and may deliver the last one after the load balancer is gone
    // (aws/aws-cdk#21776: the bucket's deletion then fails with BucketNotEmpty).
    stackIs('DELETE_IN_PROGRESS');
    lifecycle.timing.settleMs = 200;
    lifecycle.timing.retryMs = 20;
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'first.log.gz' }] })
      .resolvesOnce({ Contents: [] })
      .resolvesOnce({ Contents: [{ Key: 'late.log.gz' }] })
      .resolves({ Contents: [] });
    await lifecycle.handler(event('Delete', { ...bucket, OnDelete: 'always' }));
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key));
    expect(deleted).toEqual(['first.log.gz', 'late.log.gz']);
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it('answers FAILED when objects keep arriving until the time runs out, instead of claiming an empty bucket', async () => {
    stackIs('DELETE_IN_PROGRESS');
    lifecycle.timing.waitMs = 100;
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'again.log.gz' }] });
    await lifecycle.handler(event('Delete', { ...bucket, OnDelete: 'always' }));
    expect(answers[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('bucket scim-logs still received objects when the time ran out'),
    });
  });
});

describe('DatabaseChange', () => {
  // RDS upgrades a major version (with AllowMajorVersionUpgrade) and never downgrades one (USER_UpgradeDBInstance.PostgreSQL).
  const step = { Action: 'DatabaseChange', DBInstanceIdentifier: 'scimbridge-db-2b6161d1', Version: '16', StorageGiB: '20' };

  it('refuses a major version below the running one before RDS is asked, naming both', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ EngineVersion: '17.2' }] });
    await lifecycle.handler(event('Update', step));
    expect(answers[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('RDS cannot downgrade PostgreSQL 17.2 to 16: set database.version back to 17'),
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });

  it.each([['15.8'], ['16.4']])('allows the same or a higher major version (running %s)', async (running) => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ EngineVersion: running }] });
    await lifecycle.handler(event('Update', step));
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it('refuses less storage than the instance has (RDS storage only grows), only when database.storageGiB changed', async () => {
    // RDS: "you can't reduce the amount of storage for a DB instance after storage has been allocated" (USER_PIOPS.ModifyingExisting).
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ EngineVersion: '16.4', AllocatedStorage: 40 }] });
    await lifecycle.handler({ ...event('Update', { ...step, StorageGiB: '30' }), OldResourceProperties: { ...step, StorageGiB: '50' } });
    expect(answers[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('RDS cannot shrink storage: the instance has 40 GiB, database.storageGiB asks for 30'),
    });
    // Storage autoscaling grew it past the template's 20: an update that leaves storageGiB alone still goes through.
    answers = [];
    await lifecycle.handler({ ...event('Update', step), OldResourceProperties: { ...step, Version: '15' } });
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it('allows any version before the instance exists (the first deploy), waiting out a policy not yet propagated', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }))
      .rejects(Object.assign(new Error('not found'), { name: 'DBInstanceNotFoundFault' }));
    await lifecycle.handler(event('Create', step));
    expect(answers[0].body.Status).toBe('SUCCESS');
  });
});

describe('DatabaseProtection', () => {
  const step = { Action: 'DatabaseProtection', DBInstanceIdentifier: 'scimbridge-db-2b6161d1', Protect: 'true' };

  it('switches deletion protection on at create, retrying while RDS is still busy with the new instance', async () => {
    rds
      .on(ModifyDBInstanceCommand)
      .rejectsOnce(Object.assign(new Error('backing-up'), { name: 'InvalidDBInstanceStateFault' }))
      .resolves({});
    await lifecycle.handler(event('Create', step));
    expect(rds.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input)).toEqual([
      { DBInstanceIdentifier: step.DBInstanceIdentifier, DeletionProtection: true, ApplyImmediately: true },
      { DBInstanceIdentifier: step.DBInstanceIdentifier, DeletionProtection: true, ApplyImmediately: true },
    ]);
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it('switches it off on update when deletionProtection is turned off (before a destroy)', async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    await lifecycle.handler(event('Update', { ...step, Protect: 'false' }));
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0].args[0].input.DeletionProtection).toBe(false);
  });

  it('fails the deploy (FAILED, with the reason) when protection cannot be set: a stack must not claim protection it lacks', async () => {
    rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    lifecycle.timing.waitMs = 50;
    await lifecycle.handler(event('Create', step));
    expect(answers[0].body).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('not authorized') });
  });

  it('on a creation rollback, lifts protection and waits until RDS reports it, so CloudFormation can delete the instance', async () => {
    stackIs('ROLLBACK_IN_PROGRESS');
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DeletionProtection: true, DBInstanceStatus: 'modifying' }] })
      .resolves({ DBInstances: [{ DeletionProtection: false, DBInstanceStatus: 'available' }] });
    await lifecycle.handler(event('Delete', step));
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0].args[0].input).toEqual({
      DBInstanceIdentifier: step.DBInstanceIdentifier,
      DeletionProtection: false,
      ApplyImmediately: true,
    });
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    expect(answers[0].body.Status).toBe('SUCCESS');
  });

  it.each(['DELETE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'])(
    'never lifts protection on a stack in %s: a delete of a protected stack stops at the database',
    async (status) => {
      stackIs(status);
      await lifecycle.handler(event('Delete', step));
      expect(rds.calls()).toHaveLength(0);
      expect(answers[0].body.Status).toBe('SUCCESS');
    },
  );
});

it('refuses an unknown action on create with FAILED', async () => {
  await lifecycle.handler(event('Create', { Action: 'Format' }));
  expect(answers[0].body).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('unknown Action') });
});

it("answers before Lambda's timeout: with 20 s left it stops retrying and reports the failure", async () => {
  rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('still creating'), { name: 'InvalidDBInstanceStateFault' }));
  lifecycle.timing.retryMs = 5;
  const started = Date.now();
  await lifecycle.handler(event('Create', { Action: 'DatabaseProtection', DBInstanceIdentifier: 'db', Protect: 'true' }), {
    getRemainingTimeInMillis: () => 20_050,
  });
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(answers[0].body).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('InvalidDBInstanceStateFault') });
});

it("needs nothing beyond what Lambda's Node.js runtime ships (node: built-ins and the AWS SDK v3 clients)", () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const source = fs.readFileSync(require.resolve('../../constructs/aws/lifecycle-handler/index.js'), 'utf8');
  const required = [...source.matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]);
  expect(required.length).toBeGreaterThan(3);
  for (const name of required) expect(name).toMatch(/^(node:|@aws-sdk\/client-)/);
});
