/**
 * Figures a fault test observed (answers by status, writes kept or lost), appended as one JSON line to the file
 * named by SCIM_TEST_FIGURES. `npm run faults` sets it and renders the lines as BENCHMARKS.md's fault table; in a
 * plain `npm test` nothing is written.
 */
import { appendFileSync } from 'node:fs';

export type Tally = Record<string, number>;

/** Counts of each status (0: no answer) as a plain object, for a figures line. */
export function tally(statuses: Iterable<number> | Map<number, number>): Tally {
  const out: Tally = {};
  if (statuses instanceof Map) for (const [status, n] of [...statuses].sort(([a], [b]) => a - b)) out[String(status)] = n;
  else for (const status of statuses) out[String(status)] = (out[String(status)] ?? 0) + 1;
  return out;
}

export function recordFigures(fault: string, figures: Record<string, unknown>): void {
  const file = process.env.SCIM_TEST_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ fault, ...figures })}\n`);
}
