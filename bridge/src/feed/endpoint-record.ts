/**
 * A webhook endpoint as the store keeps it: where it goes, what it wants, and its delivery progress, shared by every
 * replica so whichever holds the endpoint's lease carries on where another stopped.
 */
export type EndpointSource = 'declared' | 'registered';

export interface WebhookEndpoint {
  /** Registered: `wh_…`; declared: the name given in SCIM_WEBHOOKS. */
  readonly id: string;
  readonly name: string;
  readonly url: string;
  /** Exact change types or `user.*`-style prefixes; undefined: every type. */
  readonly events?: readonly string[];
  readonly source: EndpointSource;
  /** Registered endpoints' signing secret (`whsec_…`); declared endpoints' secrets live only in the environment. */
  readonly secret?: string;
  readonly directory: string;
  /** The last position delivered (or skipped by the filter): the next delivery starts after it. */
  readonly position: number;
  /** Failed attempts at the head change (the one after `position`). */
  readonly attempts: number;
  /** Epoch ms of the head change's first failure: the retry window runs from here. */
  readonly failingSince?: number;
  /** Epoch ms before which no attempt is made (a retry's wait). */
  readonly nextAttemptAt: number;
  readonly lastAttemptAt?: number;
  readonly lastStatus?: number;
  readonly lastError?: string;
  readonly lastDeliveredAt?: number;
  /** Deliveries acknowledged and failed attempts, since the endpoint was added. */
  readonly delivered: number;
  readonly failures: number;
  /** Paused by an operator: nothing is delivered until `resume`. */
  readonly paused: boolean;
  /** The dead-lettered head change: set when its retry window ran out; `redrive` clears it. */
  readonly deadPosition?: number;
  readonly deadAt?: number;
  /** Grows with every operator action, so a delivery in flight never writes over a replay, pause or redrive. */
  readonly revision: number;
  readonly created: string;
}

/** What a delivery pass writes back (only while the endpoint's revision is unchanged). */
export interface EndpointProgress {
  readonly position: number;
  readonly attempts: number;
  readonly failingSince?: number;
  readonly nextAttemptAt: number;
  readonly lastAttemptAt?: number;
  readonly lastStatus?: number;
  readonly lastError?: string;
  readonly lastDeliveredAt?: number;
  /** Added to the counters. */
  readonly deliveredIncrement: number;
  readonly failuresIncrement: number;
  readonly deadPosition?: number;
  readonly deadAt?: number;
}

/** An operator's change (CLI): bumps the revision. Fields left out stay as they are. */
export interface EndpointCommand {
  /** Rewinds (or moves) the cursor: the next delivery starts after it; clears the retry state. */
  readonly position?: number;
  readonly paused?: boolean;
  /** Redrive: clear the dead letter and the retry state, try again now. */
  readonly redrive?: boolean;
}

/** The store's side of the webhooks. */
export interface WebhookEndpointStore {
  listWebhookEndpoints(): Promise<WebhookEndpoint[]>;
  getWebhookEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  /** Throws UniqueViolation when the name is taken. */
  insertWebhookEndpoint(
    endpoint: Pick<WebhookEndpoint, 'id' | 'name' | 'url' | 'events' | 'source' | 'secret' | 'directory' | 'position' | 'created'>,
  ): Promise<void>;
  /**
   * A declared endpoint as the configuration says: created at `position` when new, its URL and filter updated when
   * not (its progress stays).
   */
  upsertDeclaredWebhookEndpoint(endpoint: Pick<WebhookEndpoint, 'id' | 'name' | 'url' | 'events' | 'directory' | 'position' | 'created'>): Promise<void>;
  /**
   * Writes a delivery pass's progress if the endpoint's revision is still `revision` and `holder` still holds the
   * lease `lease` (both checked in the same statement); false when an operator or another replica came first.
   */
  saveWebhookProgress(id: string, revision: number, progress: EndpointProgress, lease: { name: string; holder: string }): Promise<boolean>;
  /** Applies an operator's change; false when there is no such endpoint. */
  commandWebhookEndpoint(id: string, command: EndpointCommand): Promise<boolean>;
  deleteWebhookEndpoint(id: string): Promise<boolean>;
}
