/** The provisioning rules that are not SCIM itself: which email domains may be provisioned, what a suspended user keeps. */
import { badRequest } from '../scim/errors';
import { preview } from '../scim/text';
import type { ScimDoc } from '../scim/resource';

/** What a userName is: the person's email address (the product's rule), or any non-empty string. */
export type UsernameFormat = 'email' | 'any';
export const USERNAME_FORMATS: readonly UsernameFormat[] = ['email', 'any'];

export interface ProvisioningRules {
  /** Lower-cased email domains that may be provisioned; empty allows any. */
  readonly allowedDomains: readonly string[];
  /** @default 'email' */
  readonly usernameFormat?: UsernameFormat;
}

export function parseAllowedDomains(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((d) => d.trim().toLowerCase().replace(/^@/, ''))
    .filter(Boolean);
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function emailsOf(doc: ScimDoc): string[] {
  const emails = Array.isArray(doc.emails) ? (doc.emails as { value?: unknown }[]) : [];
  return emails.map((e) => e.value).filter((v): v is string => typeof v === 'string');
}

/**
 * With the `email` format, userName is the person's email address, and with an allow-list it and every email must
 * be in an allowed domain. With `any`, userName is any non-empty string (validateDoc checks that) and the allow-list
 * applies to the emails only. Values are kept as given either way; uniqueness ignores case.
 */
export function checkUserDoc(doc: ScimDoc, rules: ProvisioningRules): void {
  const userName = doc.userName as string;
  const byEmail = (rules.usernameFormat ?? 'email') === 'email';
  if (byEmail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(userName)) {
    throw badRequest('invalidValue', `"userName" must be the person's email address (got ${preview(userName)})`);
  }
  if (!rules.allowedDomains.length) return;
  for (const address of byEmail ? [userName, ...emailsOf(doc)] : emailsOf(doc)) {
    const domain = domainOf(address);
    if (!rules.allowedDomains.some((allowed) => domain === allowed || domain.endsWith(`.${allowed}`))) {
      throw badRequest(
        'invalidValue',
        `"${address}" is not in an allowed email domain (${rules.allowedDomains.join(', ')}); ask your administrator to add "${domain}" to SCIM_ALLOWED_DOMAINS`,
      );
    }
  }
}

function primaryEmail(doc: ScimDoc): string | undefined {
  const emails = Array.isArray(doc.emails) ? (doc.emails as { value?: string; primary?: boolean }[]) : [];
  return (emails.find((e) => e.primary) ?? emails[0])?.value?.toLowerCase();
}

/**
 * A suspended person's email may not change: a later reactivation would otherwise hand the account to
 * whoever owns the new address. Changing it in the same request that reactivates is allowed. The userName is
 * that address only with the `email` format; with `any` it is a login name and only the emails are guarded.
 */
export function checkSuspendedEmail(
  before: ScimDoc,
  beforeActive: boolean,
  after: ScimDoc,
  afterActive: boolean,
  usernameFormat: UsernameFormat = 'email',
): void {
  if (beforeActive || afterActive) return;
  const userNameChanged = usernameFormat === 'email' && String(before.userName).toLowerCase() !== String(after.userName).toLowerCase();
  if (userNameChanged || primaryEmail(before) !== primaryEmail(after)) {
    throw badRequest('mutability', 'The user is suspended: its email address cannot change until it is reactivated (set active to true first)');
  }
}

/**
 * `active` is the one User attribute with a default (true, on create). Unassigning it must never turn a suspended
 * user back on: a PATCH that removes it (`remove active`, or `active: null`) is refused, since the RFC's "unassigned"
 * (RFC 7644 §3.5.2.2) would read as the default. Suspend and reactivate by replacing it with false or true.
 */
export function checkActiveKept(after: ScimDoc): void {
  if (after.active === undefined) {
    throw badRequest('mutability', '"active" cannot be removed: replace it with false to suspend the user or true to reactivate');
  }
}

/**
 * A PUT that leaves out `active` keeps the user's state: RFC 7644 §3.5.1 lets a service provider read an omitted
 * readWrite attribute as not asserted, and reading it as the default would reactivate a suspended user.
 */
export function withActiveOf(doc: ScimDoc, currentActive: boolean): ScimDoc {
  return doc.active === undefined ? { ...doc, active: currentActive } : doc;
}
