/**
 * DigitalOcean: the SCIM bridge on App Platform with Managed PostgreSQL (ScimBridgeDigitalOcean) and its parts:
 * args (shared vocabulary plus App Platform's), platform (sizes, regions, connection limits), database (cluster,
 * role, trusted sources), image (given or built into DOCR), service (the bridge service and the PRE_DEPLOY bootstrap
 * job), secrets (sending unchanged secrets in App Platform's encrypted form), frontDoor (domain, DNS, alerts).
 */
export * from './args';
export * from './database';
export * from './front-door';
export * from './image';
export * from './image-reference';
export * from './platform';
export * from './scim-bridge';
export * from './secrets';
export * from './service';
