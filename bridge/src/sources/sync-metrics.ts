/** A directory sync's last run as Prometheus gauges, read from its status at each scrape. */
import { Gauge, type Registry } from 'prom-client';
import type { SyncStatus } from '../ops/metrics';

const PREFIX = 'scim_bridge_sync_';

export function registerSyncMetrics(registry: Registry, status: () => SyncStatus | undefined): void {
  const gauge = (
    name: string,
    help: string,
    read: (s: SyncStatus, set: (value: number, labels?: Record<string, string>) => void) => void,
    labelNames: string[] = [],
  ) =>
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: ['source', ...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        const s = status();
        if (s) read(s, (value, labels = {}) => this.set({ source: s.source, ...labels }, value));
      },
    });
  const seconds = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);
  gauge('leader', '1 when this replica holds the sync lease', (s, set) => set(s.leader ? 1 : 0));
  gauge('last_run_timestamp_seconds', 'When the last sync finished', (s, set) => {
    const at = seconds(s.lastRun?.finishedAt);
    if (at !== undefined) set(at);
  });
  gauge('last_success_timestamp_seconds', 'When the last sync that applied every change finished', (s, set) => {
    const at = seconds(s.lastSuccessAt);
    if (at !== undefined) set(at);
  });
  gauge('last_duration_seconds', 'How long the last sync took', (s, set) => {
    if (s.lastRun) set(s.lastRun.durationMs / 1000);
  });
  gauge('last_errors', 'Errors in the last sync (refused changes, or why it failed)', (s, set) => {
    if (s.lastRun) set(s.lastRun.errorCount);
  });
  gauge('last_success', '1 when the last sync applied every change', (s, set) => {
    if (s.lastRun) set(s.lastRun.outcome === 'success' ? 1 : 0);
  });
  gauge(
    'last_count',
    'What the last sync counted, by kind (users created, members added, ...)',
    (s, set) => {
      for (const [kind, value] of Object.entries(s.lastRun?.counts ?? {})) set(value, { kind });
    },
    ['kind'],
  );
}
