/**
 * A bridge whose secret holds no scimsession yet (the AWS stack creates the secret empty; an operator pushes one)
 * waits for it, then picks it up without a restart, or gives up after SCIM_SESSION_WAIT_SECONDS with one line naming
 * the secret, so a task never polls a placeholder forever while the deployment looks alive.
 */
import { once } from 'node:events';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningBridge, serve } from '../../bridge/src/server';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { SessionHolder, type SessionSource, awsSecretSource } from '../../bridge/src/session/source';
import { readSessionFromAwsSecret } from '../../bridge/src/session/aws-secrets';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/session-AbCdEf';
const noValueYet = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} });

function flakySource(failures: number, text: string): SessionSource & { loads: number } {
  const source = {
    description: 'test source',
    pollMs: 20,
    tolerateInvalidAtStart: true,
    loads: 0,
    load: async () => {
      source.loads++;
      if (source.loads <= failures) throw new Error('not there yet');
      return text;
    },
  };
  return source;
}

describe('waiting for a first scimsession', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());
  afterAll(() => sm.restore());

  it('an empty secret is reported as "no scimsession yet" with the command that fills it, not as a wrong name', async () => {
    sm.on(GetSecretValueCommand).rejects(noValueYet());
    await expect(readSessionFromAwsSecret({ secretId: ARN, region: 'eu-west-1' })).rejects.toThrow(
      `secret ${ARN} holds no scimsession yet; put one with: scim-bridge session push-aws --secret-id ${ARN}`,
    );
  });

  it('picks the scimsession up as soon as it appears, then follows at the source interval', async () => {
    const source = flakySource(3, serializeSession(createSession().session));
    const holder = new SessionHolder(source);
    const reloaded = once(holder, 'reload');
    await holder.startPolling(60_000);
    expect(holder.loaded).toBe(false);
    await reloaded;
    expect(holder.loaded).toBe(true);
    holder.stop();
  });

  it('gives up once, after the wait, and stops looking', async () => {
    const source = flakySource(Infinity, '');
    const holder = new SessionHolder(source, { onReloadError: () => undefined });
    const gaveUp = once(holder, 'gaveUp');
    await holder.startPolling(60);
    const [waitedMs] = await gaveUp;
    expect(waitedMs).toBeGreaterThanOrEqual(60);
    const loadsAtGiveUp = source.loads;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(source.loads).toBe(loadsAtGiveUp);
  });

  describe('serve', () => {
    let dir: string;
    let running: RunningBridge | undefined;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'scim-wait-'));
    });
    afterAll(async () => {
      await running?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers /ping while it waits and ends with one line naming the secret and the setting', async () => {
      sm.on(GetSecretValueCommand).rejects(noValueYet());
      let fatal: (message: string) => void = () => undefined;
      const ended = new Promise<string>((resolve) => (fatal = resolve));
      running = await serve({
        env: {
          SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
          AWS_REGION: 'eu-west-1',
          SCIM_SESSION_WAIT_SECONDS: '1',
        },
        sessionSource: awsSecretSource(ARN, 100),
        print: () => undefined,
        onFatal: (message) => fatal(message),
      });
      const url = running.url.replace('localhost', '127.0.0.1');
      expect((await fetch(`${url}/ping`)).status).toBe(200);
      expect((await fetch(`${url}/health`)).status).toBe(503);
      const message = await ended;
      expect(message).toContain(`no valid scimsession in AWS Secrets Manager secret ${ARN}`);
      expect(message).toContain('SCIM_SESSION_WAIT_SECONDS');
    });
  });
});
