/**
 * Secrets in an App Platform spec, sent so that an unchanged secret shows no change and a changed one is always sent.
 *
 * App Platform accepts a SECRET value in plain text once and returns it encrypted (`EV[1:…]`) from then on; a spec that
 * carries that encrypted form keeps the value (DigitalOcean's documented way to keep secrets in a spec,
 * digitalocean/terraform-provider-digitalocean#514 and #1137). The provider keeps the encrypted form in state and the
 * plain value in the program, so a plain program differs on every preview (#1603, pulumi/pulumi-digitalocean#624),
 * and `ignoreChanges` on those paths would also hide a real change. So each run sends, per secret, App Platform's
 * encrypted form from the last run when the plain value's digest is unchanged, and the plain value otherwise.
 * The encrypted forms and digests travel in one secret stack output (`sealedSecrets`) from one run to the next.
 */
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';

/** One secret as App Platform holds it: its encrypted form and the digest of the plain value it encrypts. */
export interface SealedSecret {
  readonly sha256: string;
  readonly sealed: string;
}

/** Keyed by where the secret sits in the spec, e.g. `service/SCIM_SESSION` or `job/image.registryCredentials`. */
export type SealedSecrets = Readonly<Record<string, SealedSecret>>;

/** App Platform's encrypted values start with `EV[`. */
export const isSealed = (value: unknown): value is string => typeof value === 'string' && /^EV\[\d+:/.test(value);

/**
 * The digest kept beside a secret's encrypted form: of the plain value, where it sits, and the app it was sealed for
 * (`app`: what a new app would differ in, e.g. its project, whose change replaces the app). The values here are long
 * and random, so a plain hash is safe; it is still kept secret.
 */
export function digest(key: string, plain: string, app = ''): string {
  return createHash('sha256').update(`scim-bridge:digitalocean:${app}\0${key}\0${plain}`).digest('hex');
}

/** What to send for a secret: App Platform's encrypted form when the plain value has not changed, else the plain value. */
export function secretValue(key: string, plain: pulumi.Input<string>, previous: pulumi.Input<SealedSecrets | undefined>, app = ''): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([plain, previous]).apply(([value, sealed]) => {
      const entry = typeof sealed === 'object' && sealed !== null ? sealed[key] : undefined;
      return entry && isSealed(entry.sealed) && entry.sha256 === digest(key, value, app) ? entry.sealed : value;
    }),
  );
}

/** A secret placed in the spec: where (its key) and its plain value. */
export interface PlacedSecret {
  readonly key: string;
  readonly plain: pulumi.Input<string>;
  /** Reads App Platform's value for this secret from the spec it returned. */
  readonly read: (spec: AppSpecLike) => unknown;
}

/** The parts of a returned app spec a secret can sit in. */
export interface AppSpecLike {
  readonly services?: readonly ComponentLike[];
  readonly jobs?: readonly ComponentLike[];
}
interface ComponentLike {
  readonly name?: string;
  readonly envs?: readonly { key?: string; value?: string; type?: string }[];
  readonly image?: { registryCredentials?: string };
}

export function envSecret(kind: 'services' | 'jobs', component: string, env: string, plain: pulumi.Input<string>): PlacedSecret {
  return {
    key: `${kind}/${component}/${env}`,
    plain,
    read: (spec) => spec[kind]?.find((c) => c.name === component)?.envs?.find((e) => e.key === env)?.value,
  };
}

export function imageCredentialsSecret(kind: 'services' | 'jobs', component: string, plain: pulumi.Input<string>): PlacedSecret {
  return {
    key: `${kind}/${component}/image.registryCredentials`,
    plain,
    read: (spec) => spec[kind]?.find((c) => c.name === component)?.image?.registryCredentials,
  };
}

/**
 * The encrypted forms App Platform returned after this run, with the digests of the plain values they encrypt; a
 * secret App Platform did not return encrypted is left out, so the next run sends it again.
 */
export function sealedSecrets(spec: pulumi.Output<AppSpecLike>, secrets: readonly PlacedSecret[], app = ''): pulumi.Output<SealedSecrets> {
  return pulumi.secret(
    pulumi.all([spec, ...secrets.map((s) => s.plain)]).apply(([returned, ...plains]) => {
      const out: Record<string, SealedSecret> = {};
      secrets.forEach((s, i) => {
        const value = s.read(returned as AppSpecLike);
        if (isSealed(value)) out[s.key] = { sha256: digest(s.key, plains[i] as string, app), sealed: value };
      });
      return out;
    }),
  );
}
