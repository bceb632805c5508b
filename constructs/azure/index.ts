/**
 * The SCIM bridge on Azure Container Apps (Pulumi, @pulumi/azure-native imported by submodule): ScimBridgeAzure and
 * its children (network, secrets (Key Vault), registry, database, environment, bootstrap job, service, front door), the Azure
 * rules for the shared args (args), the deploy-time pause and job run (actions), and ACR login without an admin user.
 */
export * from './args';
export * from './actions';
export * from './acr-login';
export * from './bootstrap';
export * from './database';
export * from './front-door';
export * from './environment';
export * from './network';
export * from './registry';
export * from './scim-bridge';
export * from './service';
export * from './secrets';
