/**
 * The scimsession in AWS Secrets Manager: put a new version (what `scim-bridge session push-aws` runs) and
 * read the current one (what the bridge re-reads from SCIM_SESSION_AWS_SECRET_ARN to follow a rotation).
 * The session value is never logged and never part of an error message.
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

export interface PutSessionArgs {
  /** Secret name or ARN. */
  secretId: string;
  /** The scimsession document (JSON text). */
  session: string;
  /** Create the secret when it does not exist yet; without it a missing secret is an error. */
  create?: boolean;
  /** Client to use; a new one (default credentials chain) otherwise. */
  client?: SecretsManagerClient;
  /** Region for a new client; ignored when `client` is given. */
  region?: string;
}

export interface ReadSessionArgs {
  /** Secret name or ARN. */
  secretId: string;
  client?: SecretsManagerClient;
  region?: string;
}

/** Secrets Manager's own limit on a SecretString. */
const MAX_SECRET_BYTES = 65_536;

/** Stores `session` as the new AWSCURRENT version of an existing secret (or a new secret with `create: true`). */
export async function putSessionInAwsSecret(args: PutSessionArgs): Promise<{ arn: string; versionId: string }> {
  const secretId = requireSecretId(args.secretId);
  const session = args.session?.trim() ?? '';
  if (!session) throw new Error('scimsession is empty: nothing to put into the secret');
  checkIsJson(session);
  if (Buffer.byteLength(session, 'utf8') > MAX_SECRET_BYTES) {
    throw new Error(`scimsession is larger than the ${MAX_SECRET_BYTES} bytes a Secrets Manager secret holds`);
  }
  const client = args.client ?? new SecretsManagerClient(args.region ? { region: args.region } : {});
  try {
    const out = await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: session }));
    return { arn: required(out.ARN, 'ARN'), versionId: required(out.VersionId, 'VersionId') };
  } catch (err) {
    if (errorName(err) !== 'ResourceNotFoundException') throw describe(err, `put a new version of secret ${secretId}`);
    if (!args.create) {
      throw new Error(`secret ${secretId} does not exist; create it by deploying the stack, or pass --create to create it here`);
    }
  }
  if (secretId.startsWith('arn:')) {
    throw new Error(`secret ${secretId} does not exist, and a secret cannot be created from an ARN: give its name`);
  }
  try {
    const out = await client.send(
      new CreateSecretCommand({
        Name: secretId,
        Description: 'scimsession of the SCIM bridge (a salted verifier of its bearer tokens)',
        SecretString: session,
      }),
    );
    return { arn: required(out.ARN, 'ARN'), versionId: required(out.VersionId, 'VersionId') };
  } catch (err) {
    throw describe(err, `create secret ${secretId}`);
  }
}

/** Reads the AWSCURRENT version of the secret as text. */
export async function readSessionFromAwsSecret(args: ReadSessionArgs): Promise<{ session: string; versionId: string }> {
  const secretId = requireSecretId(args.secretId);
  const client = args.client ?? new SecretsManagerClient(args.region ? { region: args.region } : {});
  let out: GetSecretValueCommandOutput;
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (err) {
    // A secret created without a value (the CDK stack makes it so) has no AWSCURRENT version yet: say that, not "wrong name".
    if (errorName(err) === 'ResourceNotFoundException' && /staging label|secret value/i.test(err instanceof Error ? err.message : '')) {
      throw new Error(
        `secret ${secretId} holds no scimsession yet; put one with: scim-bridge session push-aws --secret-id ${secretId} --session-file scimsession`,
        { cause: err },
      );
    }
    throw describe(err, `read secret ${secretId}`);
  }
  if (typeof out.SecretString !== 'string' || out.SecretString.length === 0) {
    throw new Error(`secret ${secretId} holds no text value (SecretString); put a scimsession into it first`);
  }
  return { session: out.SecretString, versionId: required(out.VersionId, 'VersionId') };
}

function requireSecretId(secretId: string | undefined): string {
  const id = secretId?.trim();
  if (!id) throw new Error('secretId is required (a secret name or ARN)');
  return id;
}

/** The bridge takes the document as raw JSON or base64 of it; anything else (a bearer token pasted by mistake) is refused. */
function checkIsJson(session: string): void {
  const parses = (text: string) => {
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === 'object' && value !== null;
    } catch {
      return false;
    }
  };
  if (parses(session)) return;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(session) && parses(Buffer.from(session, 'base64').toString('utf8'))) return;
  // The parser's message can quote the input, so it is not passed on.
  throw new Error('scimsession is not a JSON document (or base64 of one): give the file written by `scim-bridge session create`');
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new Error(`Secrets Manager answered without ${name}`);
  return value;
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : undefined;
}

/** An error that says what failed and why, keeping the SDK error as cause (its message never holds the value). */
function describe(err: unknown, what: string): Error {
  const name = errorName(err) ?? 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const hint =
    name === 'AccessDeniedException'
      ? ' (the caller needs secretsmanager:PutSecretValue/GetSecretValue on this secret, and kms:Encrypt/Decrypt on its key if it has a customer managed key)'
      : name === 'ResourceNotFoundException'
        ? ' (check the secret name or ARN, and the region)'
        : '';
  return new Error(`could not ${what}: ${name}: ${message}${hint}`, { cause: err });
}
