/**
 * Azure building blocks for the SCIM bridge (Pulumi, @pulumi/azure-native imported by submodule):
 * - ScimBridgeAzure: Container Apps + Key Vault + ACR + PostgreSQL Flexible Server + optional custom domain.
 * - customDomain: the phases that get a managed certificate onto a custom domain, and their rules.
 * - acrLogin: pushing to a registry whose admin user is off, with the deployer's Entra token.
 */
export * from './scimBridgeAzure';
export * from './customDomain';
export * from './acrLogin';
