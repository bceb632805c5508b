/**
 * Reading resource inputs that Pulumi's mocks recorded: secrets arrive wrapped in the engine's "special
 * signature" object, which is how the cloud tests tell that a value stayed a secret.
 */

const SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** A stand-in scimsession for the cloud tests (its contents never matter to the infrastructure). */
export const SESSION = '{"version":1,"verifiers":[{"id":"t1","salt":"c2FsdA","hash":"aGFzaA"}]}';

/** True when a recorded input arrived as a Pulumi secret. */
export function isSecretInput(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as any)[SIG_KEY] === SECRET_SIG;
}

/** The input with secret markers removed (to compare values). */
export function reveal(value: any): any {
  if (isSecretInput(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  return value;
}

/** The input with every secret value replaced by a placeholder: what plain state could show. */
export function redact(value: any): any {
  if (isSecretInput(value)) return '[secret]';
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  return value;
}
