/**
 * One probe plan for every platform, from the contract's timing. A check that *replaces* a replica (liveness,
 * the ALB target group with ECS) uses the shallow `/ping`, so a database outage never becomes replica churn;
 * startup and readiness use `/health` (session loaded, store answering).
 */
import { BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_PROBES } from '../../contract';

export interface Probe {
  readonly path: string;
  readonly port: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  /** Consecutive failures before the platform acts. */
  readonly failureThreshold: number;
  /** Consecutive successes before a replica counts as healthy again. */
  readonly successThreshold: number;
}

export interface ProbePlan {
  /** Replaces a stuck replica: shallow. */
  readonly liveness: Probe;
  /** Takes a replica out of rotation while its store or session is not ready. */
  readonly readiness: Probe;
  /** Holds traffic until the first `/health` 200; its failures over the grace period fail the start. */
  readonly startup: Probe;
}

export interface ProbeLimits {
  /** Startup probe period (short, so a replica takes traffic soon after it is ready). @default 5 */
  readonly startupPeriodSeconds?: number;
  /** The platform wants each timeout strictly below its period (Cloud Run, Container Apps). @default true */
  readonly timeoutBelowPeriod?: boolean;
  /**
   * Seconds a start may take before the startup probe gives up. Longer where the platform documents a slow start of
   * its own, e.g. Cloud Run's Direct VPC egress (a minute or more before the first connection).
   * @default BRIDGE_PROBES.startupGraceSeconds
   */
  readonly startupGraceSeconds?: number;
  /** The platform's ceiling for a startup failure threshold (Container Apps: 10). @default none */
  readonly maxFailureThreshold?: number;
}

export function probePlan(limits: ProbeLimits = {}): ProbePlan {
  const startupPeriod = limits.startupPeriodSeconds ?? 5;
  const below = limits.timeoutBelowPeriod ?? true;
  const timeout = (period: number) => (below ? Math.min(BRIDGE_PROBES.timeoutSeconds, period - 1) : Math.min(BRIDGE_PROBES.timeoutSeconds, period));
  const cap = (n: number) => (limits.maxFailureThreshold ? Math.min(n, limits.maxFailureThreshold) : n);
  // With a capped threshold the period grows instead, so the grace period is kept whole.
  const grace = limits.startupGraceSeconds ?? BRIDGE_PROBES.startupGraceSeconds;
  const startupFailures = cap(Math.ceil(grace / startupPeriod));
  const startupPeriodKept = Math.max(startupPeriod, Math.ceil(grace / startupFailures));
  const steady = (path: string): Probe => ({
    path,
    port: BRIDGE_PORT,
    periodSeconds: BRIDGE_PROBES.intervalSeconds,
    timeoutSeconds: timeout(BRIDGE_PROBES.intervalSeconds),
    failureThreshold: BRIDGE_PROBES.unhealthyThreshold,
    successThreshold: BRIDGE_PROBES.healthyThreshold,
  });
  return {
    liveness: { ...steady(BRIDGE_PATHS.liveness), successThreshold: 1 },
    readiness: steady(BRIDGE_PATHS.readiness),
    startup: {
      path: BRIDGE_PATHS.readiness,
      port: BRIDGE_PORT,
      periodSeconds: startupPeriodKept,
      timeoutSeconds: timeout(startupPeriodKept),
      failureThreshold: startupFailures,
      successThreshold: 1,
    },
  };
}
