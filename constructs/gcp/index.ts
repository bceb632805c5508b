/**
 * Google Cloud building blocks for the SCIM bridge (Pulumi, @pulumi/gcp imported by submodule):
 * - ScimBridgeGcp: the whole deployment, from the shared args (args.ts);
 * - its children: ScimBridgeGcpNetwork, ScimBridgeGcpDatabase, ScimBridgeGcpBootstrap, ScimBridgeGcpService,
 *   ScimBridgeGcpFrontDoor, BridgeSecret;
 * - platform.ts: Google Cloud's rules (front doors, X-Forwarded-For, Cloud Run and Cloud SQL limits, APIs) as plain functions.
 */
export * from './args';
export * from './bootstrap';
export * from './database';
export * from './frontDoor';
export * from './network';
export * from './platform';
export * from './scimBridgeGcp';
export * from './secret';
export * from './service';
