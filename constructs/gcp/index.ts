/**
 * Google Cloud building blocks for the SCIM bridge (Pulumi, @pulumi/gcp imported by submodule):
 * - ScimBridgeGcp: Cloud Run v2 + Secret Manager + Cloud SQL PostgreSQL + Artifact Registry + HTTPS front door + Cloud DNS.
 * - frontDoor: load balancer or domain mapping, and what each means for ingress and DNS.
 */
export * from './scimBridgeGcp';
export * from './frontDoor';
