/**
 * The change feed's network needs, shared by every cloud that filters egress: the ports webhook deliveries go out on.
 * The feed's settings themselves are shared args (`webhooks`, `webhookSecrets`, `deprovisionGuard`, args.ts), checked
 * by resolve.ts and turned into the bridge's environment by environment.ts.
 */
import type { WebhookEndpointArgs } from './args';

/** The ports webhook deliveries go out on (443 unless a URL names another). */
export function webhookPorts(webhooks: readonly WebhookEndpointArgs[] | undefined): number[] {
  const ports = new Set<number>();
  for (const w of webhooks ?? []) {
    try {
      ports.add(Number(new URL(w.url).port || 443));
    } catch {
      // an unresolved or invalid URL: resolve.ts refuses it (or passes it through until known)
    }
  }
  return [...ports].sort((a, b) => a - b);
}
