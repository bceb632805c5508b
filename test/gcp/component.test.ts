/**
 * ScimBridgeGcp used directly (not through the stack): its own guarantees and argument checks.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type { ScimBridgeGcpArgs } from '../../constructs/gcp';
import { DOMAIN, PROJECT, REGION, SESSION, T, isSecretInput, runProgram } from './harness';

const ARGS: ScimBridgeGcpArgs = { project: PROJECT, region: REGION, domain: DOMAIN, image: 'example/scim-bridge:1' };

function build(args: ScimBridgeGcpArgs) {
  return runProgram({ config: {}, secretKeys: [] }, () => {
    const { ScimBridgeGcp } = require('../../constructs/gcp');
    const bridge = new ScimBridgeGcp('bridge', args);
    return { bridgeUrl: bridge.bridgeUrl };
  });
}

// The component wraps it, and @pulumi/gcp marks secretData sensitive too: either keeps it out of plain state.
test('a scimsession passed as a plain string still reaches Secret Manager as a Pulumi secret', async () => {
  const run = await build({ ...ARGS, scimSession: SESSION });
  const version = run.one(T.secretVersion, 'bridge-scimsession');
  expect(isSecretInput(version.raw.secretData)).toBe(true);
  expect(version.inputs.secretData).toBe(SESSION);
  expect(run.outputs.bridgeUrl).toBe(`https://${DOMAIN}/scim/v2`);
});

test('the service is not deletion-protected by default (it holds no state); the database is', async () => {
  const run = await build({ ...ARGS, scimSession: SESSION });
  expect(run.one(T.service).inputs.deletionProtection).toBe(false);
  expect(run.one(T.sqlInstance).inputs.deletionProtection).toBe(true);
});

describe('argument checks', () => {
  const refuse = (args: ScimBridgeGcpArgs) => build(args).then(
    () => {
      throw new Error('expected ScimBridgeGcp to refuse these arguments');
    },
    (err: Error) => err.message,
  );

  test('exactly one scimsession source', async () => {
    expect(await refuse(ARGS)).toMatch(/exactly one of scimSession .* and scimSessionSecretId/);
    expect(await refuse({ ...ARGS, scimSession: SESSION, scimSessionSecretId: 's' })).toMatch(/exactly one of scimSession/);
  });

  test('replica bounds and concurrency', async () => {
    expect(await refuse({ ...ARGS, scimSession: SESSION, minReplicas: 3, maxReplicas: 2 })).toMatch(/maxReplicas must be at least minReplicas \(3\)/);
    expect(await refuse({ ...ARGS, scimSession: SESSION, concurrency: 0 })).toMatch(/concurrency must be a whole number from 1 to 1000/);
  });

  test('Cloud Run needs a whole vCPU for concurrency above 1', async () => {
    expect(await refuse({ ...ARGS, scimSession: SESSION, cpu: 0.5, concurrency: 50 })).toMatch(/cpu must be at least 1 when concurrency is above 1/);
  });
});
