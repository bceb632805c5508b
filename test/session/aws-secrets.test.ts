import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { putSessionInAwsSecret, readSessionFromAwsSecret } from '../../bridge/src/session/aws-secrets';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/session-AbCdEf';
const SESSION = JSON.stringify({ version: 1, verifiers: [{ id: 'k1', salt: 'c2FsdA', hash: 'aGFzaA' }] });

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });

beforeEach(() => sm.reset());

describe('putSessionInAwsSecret', () => {
  it('puts the session as a new version of the existing secret', async () => {
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: 'v-2' });

    await expect(putSessionInAwsSecret({ secretId: ARN, session: SESSION, client })).resolves.toEqual({
      arn: ARN,
      versionId: 'v-2',
    });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: ARN, SecretString: SESSION });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('accepts a base64-encoded session and stores it unchanged', async () => {
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: 'v-3' });
    const b64 = Buffer.from(SESSION).toString('base64');

    await putSessionInAwsSecret({ secretId: 'scim-bridge/session', session: b64, client });
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString).toBe(b64);
  });

  it('refuses a missing secret without create, and does not create it', async () => {
    sm.on(PutSecretValueCommand).rejects(notFound());

    await expect(putSessionInAwsSecret({ secretId: 'scim-bridge/session', session: SESSION, client })).rejects.toThrow(
      /secret scim-bridge\/session does not exist.*--create/,
    );
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('creates a missing secret by name when create is true', async () => {
    sm.on(PutSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ ARN, VersionId: 'v-1' });

    await expect(putSessionInAwsSecret({ secretId: 'scim-bridge/session', session: SESSION, create: true, client })).resolves.toEqual({
      arn: ARN,
      versionId: 'v-1',
    });
    const input = sm.commandCalls(CreateSecretCommand)[0].args[0].input;
    expect(input.Name).toBe('scim-bridge/session');
    expect(input.SecretString).toBe(SESSION);
  });

  it('cannot create a secret from an ARN', async () => {
    sm.on(PutSecretValueCommand).rejects(notFound());

    await expect(putSessionInAwsSecret({ secretId: ARN, session: SESSION, create: true, client })).rejects.toThrow(/cannot be created from an ARN/);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('explains access denied, and never puts the session into the message', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform secretsmanager:PutSecretValue'), {
      name: 'AccessDeniedException',
    });
    sm.on(PutSecretValueCommand).rejects(denied);

    const error: Error = await putSessionInAwsSecret({ secretId: ARN, session: SESSION, client }).then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: Error) => e,
    );
    expect(error.message).toMatch(/could not put a new version of secret .*AccessDeniedException.*PutSecretValue/);
    expect(error.message).not.toContain('verifiers');
    expect(error.message).not.toContain('aGFzaA');
  });

  it.each([
    ['an empty session', { secretId: ARN, session: '  ' }, /scimsession is empty/],
    ['a bearer token instead of a session', { secretId: ARN, session: 'tok_abc.def$ghi' }, /not a JSON document/],
    ['no secret id', { secretId: ' ', session: SESSION }, /secretId is required/],
  ])('refuses %s before calling AWS', async (_name, args, message) => {
    await expect(putSessionInAwsSecret({ ...args, client })).rejects.toThrow(message);
    expect(sm.calls()).toHaveLength(0);
  });

  it('does not echo a refused value in the error', async () => {
    await expect(putSessionInAwsSecret({ secretId: ARN, session: 'tok_SECRETVALUE', client })).rejects.toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('SECRETVALUE') }),
    );
  });
});

describe('readSessionFromAwsSecret', () => {
  it('returns the current SecretString and its version', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretString: SESSION, VersionId: 'v-7' });

    await expect(readSessionFromAwsSecret({ secretId: ARN, client })).resolves.toEqual({
      session: SESSION,
      versionId: 'v-7',
    });
    expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: ARN });
  });

  it('names the secret when it does not exist', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());

    await expect(readSessionFromAwsSecret({ secretId: 'missing/secret', client })).rejects.toThrow(
      /could not read secret missing\/secret: ResourceNotFoundException.*region/,
    );
  });

  it('refuses a binary or empty secret with a clear message', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretBinary: new Uint8Array([1, 2]), VersionId: 'v-1' });

    await expect(readSessionFromAwsSecret({ secretId: ARN, client })).rejects.toThrow(/holds no text value/);
  });
});
