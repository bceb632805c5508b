/**
 * The ScimBridge construct's custom resource (Custom::ScimBridgeLifecycle): the steps CloudFormation cannot
 * express, so that a failed first deploy rolls back cleanly and protection only starts once the service is healthy.
 *
 * - TerminationGuard: created before everything else, deleted after everything else. When it is deleted by the
 *   rollback of a failed stack creation (stack status ROLLBACK_IN_PROGRESS), it turns the stack's termination
 *   protection off again, so `cdk deploy` can delete the failed stack and retry, and `cdk destroy` can remove it.
 * - EmptyBucket: deleted before its bucket; empties it on a creation rollback (the load balancer writes a test
 *   object as soon as logging is on) or, with OnDelete=always (deletion protection off), on every delete.
 * - DatabaseProtection: created after the service is stable; sets the instance's deletion protection to Protect.
 *   When a creation rollback deletes it, it turns deletion protection off, so CloudFormation can delete the instance.
 * - DatabaseChange: runs before every change of the instance; refuses what RDS cannot do in place, so the deploy
 *   stops before RDS is asked: a PostgreSQL major version below the running one (RDS upgrades, it never downgrades),
 *   and a storage size below the instance's (storage only grows; storage autoscaling may have grown it already).
 *
 * A Delete answers SUCCESS even when its step failed (a failed clean-up must not wedge a rollback); the error is
 * logged. The exception is a bucket that still holds objects when time runs out: the bucket's own deletion would fail
 * next, so the step says so (FAILED) instead of claiming the bucket is empty.
 * Runs on Lambda's Node.js runtime, whose AWS SDK v3 it uses.
 */
const https = require('node:https');
const http = require('node:http');
const { CloudFormationClient, DescribeStacksCommand, UpdateTerminationProtectionCommand } = require('@aws-sdk/client-cloudformation');
const { RDSClient, DescribeDBInstancesCommand, ModifyDBInstanceCommand } = require('@aws-sdk/client-rds');
const { S3Client, DeleteObjectsCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3');

const CREATE_ROLLBACK = 'ROLLBACK_IN_PROGRESS';

/**
 * Milliseconds between retries, the longest a step waits, and how long an emptied access-log bucket must stay empty:
 * the load balancer publishes a log file per node every 5 minutes and may deliver the last one after it is deleted
 * (docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html; aws/aws-cdk#21776).
 * Overridable for tests.
 */
const timing = { retryMs: 5000, waitMs: 10 * 60 * 1000, settleMs: 5.5 * 60 * 1000 };

/** An error that fails a Delete too. */
class DeleteFailure extends Error {
  constructor(message) {
    super(message);
    this.name = 'DeleteFailure';
  }
}

function log(message, fields) {
  console.log(JSON.stringify({ message, ...fields }));
}

async function stackStatus(cfn, stackId) {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackId }));
  return out.Stacks?.[0] ? out.Stacks[0].StackStatus : undefined;
}

/** Retries `fn` while it throws one of `names` (a state RDS is still leaving, IAM not yet propagated). */
async function retrying(fn, names, deadline) {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!names.includes(error?.name) || Date.now() + timing.retryMs > deadline) throw error;
      log('retrying', { reason: error.name });
      await new Promise((resolve) => setTimeout(resolve, timing.retryMs));
    }
  }
}

async function setDeletionProtection(rds, id, protect, deadline, wait) {
  await retrying(
    () => rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, DeletionProtection: protect, ApplyImmediately: true })),
    ['InvalidDBInstanceStateFault', 'InvalidDBInstanceState', 'AccessDenied', 'AccessDeniedException'],
    deadline,
  );
  log('deletion protection set', { instance: id, protect });
  if (!wait) return;
  // CloudFormation deletes the instance next: wait until RDS reports the change.
  while (Date.now() + timing.retryMs <= deadline) {
    const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const db = out.DBInstances?.[0];
    if (!db || (db.DeletionProtection === protect && db.DBInstanceStatus === 'available')) return;
    await new Promise((resolve) => setTimeout(resolve, timing.retryMs));
  }
}

/**
 * Deletes every object, then keeps looking until the bucket has stayed empty for `timing.settleMs` from the start, so
 * a log file the load balancer delivers after its deletion is removed too. Out of time with objects left: fails.
 */
async function emptyBucket(s3, bucket, deadline) {
  const quietFrom = Date.now() + timing.settleMs;
  let deleted = 0;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (page.Contents || []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      deleted += keys.length;
      if (Date.now() >= deadline) {
        throw new DeleteFailure(`bucket ${bucket} still received objects when the time ran out (${deleted} deleted): empty it and retry the delete`);
      }
      continue;
    }
    if (Date.now() >= quietFrom || Date.now() + timing.retryMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, timing.retryMs));
  }
  log('bucket emptied', { bucket, deleted });
}

/** The major version of an engine version such as 16.4. */
function majorOf(version) {
  return Number.parseInt(String(version).split('.')[0], 10);
}

async function checkDatabaseChange(rds, id, props, oldProps, deadline) {
  let db;
  try {
    // On the first deploy the role's policy may not have propagated yet.
    const describe = () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const out = await retrying(describe, ['AccessDenied', 'AccessDeniedException'], deadline);
    db = out.DBInstances?.[0];
  } catch (error) {
    if (error && error.name === 'DBInstanceNotFoundFault') return; // not created yet
    throw error;
  }
  if (!db) return;
  const storageChanged = oldProps !== undefined && props.StorageGiB !== oldProps.StorageGiB;
  if (storageChanged && Number(props.StorageGiB) < db.AllocatedStorage) {
    throw new Error(
      `RDS cannot shrink storage: the instance has ${db.AllocatedStorage} GiB, database.storageGiB asks for ${props.StorageGiB}. ` +
        `Keep database.storageGiB at ${db.AllocatedStorage} or more (storage autoscaling may have grown it).`,
    );
  }
  const current = db.EngineVersion;
  const version = props.Version;
  if (current !== undefined && version !== undefined && majorOf(current) > majorOf(version)) {
    throw new Error(
      `RDS cannot downgrade PostgreSQL ${current} to ${version}: set database.version back to ${majorOf(current)} (or higher). ` +
        'Going down means a new instance and a pg_dump/pg_restore of the directory.',
    );
  }
  log('database change allowed', { instance: id, version: current, requested: version, storage: db.AllocatedStorage, requestedStorage: props.StorageGiB });
}

/** What one event does; returns the data to answer with. */
async function act(event, clients, deadline) {
  const props = event.ResourceProperties || {};
  const action = props.Action;
  const isDelete = event.RequestType === 'Delete';
  const inCreateRollback = isDelete ? (await stackStatus(clients.cfn, event.StackId)) === CREATE_ROLLBACK : false;
  switch (action) {
    case 'TerminationGuard':
      if (inCreateRollback) {
        await clients.cfn.send(new UpdateTerminationProtectionCommand({ StackName: event.StackId, EnableTerminationProtection: false }));
        log('termination protection off: the stack creation is rolling back', { stack: event.StackId });
      }
      return;
    case 'EmptyBucket':
      if (isDelete && (inCreateRollback || props.OnDelete === 'always')) await emptyBucket(clients.s3, props.Bucket, deadline);
      return;
    case 'DatabaseChange':
      if (!isDelete) await checkDatabaseChange(clients.rds, props.DBInstanceIdentifier, props, event.OldResourceProperties, deadline);
      return;
    case 'DatabaseProtection':
      if (!isDelete) await setDeletionProtection(clients.rds, props.DBInstanceIdentifier, props.Protect === 'true', deadline, false);
      else if (inCreateRollback) await setDeletionProtection(clients.rds, props.DBInstanceIdentifier, false, deadline, true);
      return;
    default:
      throw new Error(`unknown Action ${JSON.stringify(action)}`);
  }
}

function respond(event, body) {
  const url = new URL(event.ResponseURL);
  const payload = JSON.stringify(body);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(payload) } }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', reject);
    request.end(payload);
  });
}

function makeHandler(clients) {
  return async function handler(event, context) {
    const started = Date.now();
    const remaining = context && typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
    // Keep 20 s to answer CloudFormation.
    const deadline = started + Math.min(timing.waitMs, Math.max(0, remaining - 20_000));
    let status = 'SUCCESS';
    let reason = 'done';
    try {
      await act(event, clients, deadline);
    } catch (error) {
      const message = `${error?.name || 'Error'}: ${error?.message || String(error)}`;
      log('step failed', { requestType: event.RequestType, action: event.ResourceProperties?.Action, error: message });
      reason = message.slice(0, 500);
      if (event.RequestType !== 'Delete' || (error && error.name === 'DeleteFailure')) status = 'FAILED';
    }
    await respond(event, {
      Status: status,
      Reason: reason,
      // The same physical id on every update: a new one would make CloudFormation delete the old resource.
      PhysicalResourceId: event.PhysicalResourceId || event.LogicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
      Data: {},
    });
    return status;
  };
}

exports.makeHandler = makeHandler;
exports.timing = timing;
exports.handler = makeHandler({ cfn: new CloudFormationClient({}), rds: new RDSClient({}), s3: new S3Client({}) });
