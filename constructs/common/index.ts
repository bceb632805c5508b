/**
 * The cloud-neutral layer every cloud extends: the shared args and their defaults and checks (args, resolve), the
 * bridge's plain environment (environment), one probe plan (probes), one DNS-record shape (dns), the database
 * role, TLS and connection budget (database), the change feed's and guard's settings (feed), the outputs every
 * cloud gives (outputs), and one reader of the shared settings for CDK context and Pulumi config (settings). No
 * cloud SDK here.
 */
export * from './args';
export * from './database';
export * from './dns';
export * from './environment';
export * from './feed';
export * from './outputs';
export * from './probes';
export * from './resolve';
export * from './settings';
