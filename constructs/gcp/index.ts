/**
 * Google Cloud building blocks for the SCIM bridge (Pulumi, @pulumi/gcp imported by submodule):
 * - ScimBridgeGcp: the whole deployment, from the shared args (args.ts);
 * - its children: BridgeNetwork, BridgeDatabase, BridgeBootstrap, BridgeService,
 *   BridgeFrontDoor, BridgeSecret;
 * - platform.ts: Google Cloud's rules (front doors, X-Forwarded-For, Cloud Run and Cloud SQL limits, APIs) as plain functions.
 */
export * from './args';
export * from './bootstrap';
export * from './database';
export * from './front-door';
export * from './network';
export * from './platform';
export * from './scim-bridge';
export * from './secrets';
export * from './service';
