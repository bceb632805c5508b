/** The provisioning events a test bridge recorded, read from its store (SQLite file or PostgreSQL database). */
import { openStore } from '../../bridge/src/store/open';
import type { EventQuery, ProvisioningEvent } from '../../bridge/src/store/types';
import type { TestBridge } from './bridge';

export async function eventsOf(bridge: TestBridge, query: Partial<EventQuery> = {}): Promise<ProvisioningEvent[]> {
  const store = await openStore(bridge.databaseUrl);
  try {
    return await store.listEvents({ limit: 200, ...query });
  } finally {
    await store.close();
  }
}
