/**
 * Directories the bridge pulls from, as opposed to identity providers that push SCIM to it.
 *   google/           Google Workspace (Admin SDK Directory API)
 *   sync-metrics.ts   a sync's last run as Prometheus gauges
 */
export * from './google';
export { registerSyncMetrics } from './sync-metrics';
