/**
 * Zero-downtime token rotation at the HTTP level: a running bridge follows its scimsession (a file, or an AWS
 * Secrets Manager secret) and accepts old and new tokens during the overlap, then only the new one.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bridge/src/cli/main';
import { type RunningBridge, serve } from '../../bridge/src/server';
import { addToken, createSession, parseSession, retireAllButNewest, serializeSession } from '../../bridge/src/session/scimsession';
import { awsSecretSource, sessionSourceFromEnv } from '../../bridge/src/session/source';
import { type TestBridge, startBridge } from '../support/bridge';

const statusWith = async (url: string, token: string) =>
  (await fetch(`${url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` } })).status;

/** Runs the CLI in-process and returns what it printed; the token is the last line. */
async function cli(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await runCli(args, (line) => lines.push(line));
  return lines;
}

describe('rotation with SCIM_SESSION_FILE and the CLI', () => {
  let dir: string;
  let file: string;
  let bridge: TestBridge;
  let first: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-rotate-'));
    file = join(dir, 'scimsession');
    first = (await cli('session', 'create', '--out', file)).at(-1)!;
    bridge = await startBridge({ env: { SCIM_SESSION: '', SCIM_SESSION_FILE: file } });
  });
  afterAll(async () => {
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the old and the new token after a rotate, then only the new one after retire, without a restart', async () => {
    expect(await statusWith(bridge.url, first)).toBe(200);

    // The bridge follows the file (a watcher on its directory, polling as the fallback) and says when it has.
    let reloaded = once(bridge.session, 'reload');
    const second = (await cli('session', 'rotate', '--session-file', file)).at(-1)!;
    expect(second).toMatch(/^scimb_/);
    expect(second).not.toBe(first);
    expect(parseSession(readFileSync(file, 'utf8')).verifiers).toHaveLength(2);
    expect(await reloaded).toEqual([2]);
    expect(await statusWith(bridge.url, second)).toBe(200);
    expect(await statusWith(bridge.url, first)).toBe(200);
    expect((await bridge.request('GET', `${bridge.url}/health`)).body.session).toEqual({ loaded: true, tokens: 2 });

    reloaded = once(bridge.session, 'reload');
    expect((await cli('session', 'retire', '--session-file', file)).at(-1)).toContain('only its newest token');
    expect(await reloaded).toEqual([1]);
    expect(await statusWith(bridge.url, first)).toBe(401);
    expect(await statusWith(bridge.url, second)).toBe(200);
    expect((await bridge.request('GET', `${bridge.url}/health`)).body.session).toEqual({ loaded: true, tokens: 1 });
  });

  it('keeps the last good scimsession when the file is replaced by something broken', async () => {
    const reloaded = once(bridge.session, 'reload');
    const token = (await cli('session', 'rotate', '--session-file', file, '--retire-others')).at(-1)!;
    await reloaded;
    expect(await statusWith(bridge.url, token)).toBe(200);
    const failed = once(bridge.session, 'reloadError');
    writeFileSync(file, '{ half a document');
    const [error] = (await failed) as [Error];
    expect(error.message).toBe('the scimsession is not valid JSON');
    expect(await statusWith(bridge.url, token)).toBe(200);
    expect((await bridge.request('GET', `${bridge.url}/health`)).status).toBe(200);
  });
});

describe('rotation with an AWS Secrets Manager secret', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/session-AbCdEf';
  const sm = mockClient(SecretsManagerClient);
  let dir: string;
  let running: RunningBridge | undefined;
  let current = 'placeholder: replaced after deploy';
  let version = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-rotate-aws-'));
    sm.on(GetSecretValueCommand).callsFake(async () => ({ SecretString: current, VersionId: `v${version}` }));
  });
  afterAll(async () => {
    await running?.stop();
    sm.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-reads the secret every 60 s when configured from the environment', () => {
    const source = sessionSourceFromEnv({ SCIM_SESSION_AWS_SECRET_ARN: ARN, SCIM_SESSION: 'ignored: ECS injects both' })!;
    expect(source.pollMs).toBe(60_000);
    expect(source.tolerateInvalidAtStart).toBe(true);
    expect(source.description).toContain(ARN);
  });

  it('starts unhealthy on the placeholder, then follows new versions: overlap, then only the new token', async () => {
    running = await serve({
      env: { SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', AWS_REGION: 'eu-west-1' },
      sessionSource: awsSecretSource(ARN, 100),
      print: () => undefined,
    });
    const url = running.url.replace('localhost', '127.0.0.1');
    expect((await fetch(`${url}/health`)).status).toBe(503);
    expect((await fetch(`${url}/ping`)).status).toBe(200);

    // Each new version of the secret: wait for the bridge to say it has reloaded, then check the tokens.
    const publish = async (text: string) => {
      const reloaded = once(running!.session, 'reload');
      current = text;
      version++;
      return (await reloaded)[0];
    };
    const created = createSession();
    expect(await publish(serializeSession(created.session))).toBe(1);
    expect(await statusWith(url, created.token)).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);

    const rotated = addToken(created.session);
    expect(await publish(serializeSession(rotated.session))).toBe(2);
    expect(await statusWith(url, rotated.token)).toBe(200);
    expect(await statusWith(url, created.token)).toBe(200);

    expect(await publish(serializeSession(retireAllButNewest(rotated.session)))).toBe(1);
    expect(await statusWith(url, created.token)).toBe(401);
    expect(await statusWith(url, rotated.token)).toBe(200);
    expect(sm.commandCalls(GetSecretValueCommand).every((call) => call.args[0].input.SecretId === ARN)).toBe(true);
  });
});
