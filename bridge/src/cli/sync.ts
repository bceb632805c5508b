/**
 * `scim-bridge sync google [--dry-run]`, run with the bridge's settings (SCIM_DATABASE_URL, SCIM_GOOGLE_*):
 * `--dry-run` prints what a Google Workspace sync would create, update, suspend and remove, and changes nothing;
 * without it, one sync runs now, through the same Directory and deprovisioning guard as the bridge's own.
 */
import { parseArgs } from 'node:util';
import { readConfig } from '../config';
import { Directory } from '../directory/directory';
import { guardStore } from '../feed/gate';
import { readGuardSettings } from '../feed/guard';
import { TokenSource } from '../sources/google/auth';
import { GOOGLE_SCOPES, readGoogleConfig } from '../sources/google/config';
import { DirectoryClient } from '../sources/google/directory-client';
import { planSync } from '../sources/google/dry-run';
import { runSync } from '../sources/google/sync';
import { openStore } from '../store/open';

type Out = (line: string) => void;

class SyncUsageError extends Error {
  readonly usage = true;
}

export async function syncCommand(args: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { 'dry-run': { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  if (positionals[0] !== 'google' || positionals.length > 1) throw new SyncUsageError('expected "scim-bridge sync google [--dry-run]"');
  const google = readGoogleConfig(env);
  if (!google) throw new SyncUsageError('Google Workspace is not configured: set SCIM_GOOGLE_CREDENTIALS_FILE, SCIM_GOOGLE_ADMIN_EMAIL and SCIM_GOOGLE_GROUPS');
  const config = readConfig(env);
  const userAgent = 'scim-bridge (google-workspace; cli)';
  const tokens = new TokenSource({ key: google.credentials, subject: google.adminEmail, scopes: GOOGLE_SCOPES, userAgent });
  const client = new DirectoryClient({ baseUrl: google.directoryUrl, tokens, userAgent });
  const store = await openStore(config.databaseUrl, env);
  try {
    await store.migrate();
    if (values['dry-run']) {
      const { lines, counts: c } = await planSync(client, store, google.groups);
      for (const line of lines) out(line);
      out(
        `Dry run, nothing changed: would create ${c.usersCreate}, update ${c.usersUpdate}, reactivate ${c.usersReactivate} and suspend ${c.usersSuspend} users; ` +
          `create ${c.groupsCreate} and update ${c.groupsUpdate} groups, adding ${c.membersAdd} and removing ${c.membersRemove} members` +
          (c.groupsSkipped ? `; ${c.groupsSkipped} groups skipped` : '') +
          '.',
      );
      return;
    }
    const directory = new Directory(guardStore(store, { settings: readGuardSettings(env) }), {
      allowedDomains: config.allowedDomains,
      usernameFormat: config.usernameFormat,
    });
    const run = await runSync({ client, directory, store, groups: google.groups, replica: 'cli' });
    for (const line of run.errors) out(`error: ${line}`);
    const c = run.counts;
    out(
      `Sync ${run.outcome}: created ${c.usersCreated}, updated ${c.usersUpdated}, reactivated ${c.usersReactivated} and suspended ${c.usersSuspended} users; ` +
        `added ${c.membersAdded} and removed ${c.membersRemoved} members. Deprovisioning reaches the application through the guard (scim-bridge holds list).`,
    );
    if (run.outcome === 'failed') process.exitCode = 1;
  } finally {
    await store.close();
  }
}
