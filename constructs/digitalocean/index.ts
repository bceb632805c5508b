/**
 * DigitalOcean: the SCIM bridge on App Platform with Managed PostgreSQL (ScimBridgeDigitalOcean), and the
 * platform facts and image-reference parsing it validates its arguments with.
 */
export * from './scimBridgeDigitalOcean';
export * from './image';
export * from './platform';
