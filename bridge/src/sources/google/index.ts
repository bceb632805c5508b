/**
 * Google Workspace as a source: the bridge reads users and groups from the Admin SDK Directory API (Google pushes
 * no SCIM to custom applications) and applies them through the same Directory as SCIM requests.
 *   config.ts            SCIM_GOOGLE_* settings and the service-account key
 *   auth.ts              the JWT-bearer token flow (domain-wide delegation)
 *   retry.ts             Google's error shape and its backoff policy
 *   directory-client.ts  users.list, groups.get, members.list, paged
 *   planner.ts           what a sync must change (pure)
 *   sync.ts              one sync: read, plan, apply
 *   runner.ts            the schedule and the lease (one replica syncs)
 */
export { GOOGLE_SCOPES, readGoogleConfig, type GoogleConfig } from './config';
export { GoogleSyncRunner, SYNC_LEASE } from './runner';
export { SYNC_ACTOR } from './sync';
