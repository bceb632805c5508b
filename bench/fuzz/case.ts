/** One generated request: how to send it, what answers are acceptable, and what the answer means for the model. */
import type { Exchange, HttpSend, RawSend } from './http';

export type RequestClass = 'valid' | 'near-valid' | 'hostile' | 'raw';

export interface Expectation {
  /** Acceptable statuses; any non-5xx when absent. */
  readonly statuses?: readonly number[];
  /** For a 400 answer: the scimType it must carry. */
  readonly scimType?: readonly string[];
  /** No answer at all is acceptable (an abandoned request, a protocol upgrade nobody serves). */
  readonly answerOptional?: boolean;
  /** Longest acceptable time to an answer, ms (slow bodies, large bodies and lingering closes take longer). */
  readonly boundMs?: number;
  /** The answer carries no body (HEAD). */
  readonly noBody?: boolean;
}

export interface Case {
  readonly cls: RequestClass;
  /** What was generated, for the summary: e.g. `user.create`, `filter.random`, `raw.bad-chunk`. */
  readonly kind: string;
  readonly http?: HttpSend;
  readonly raw?: RawSend;
  readonly expect: Expectation;
  /** Checks the answer against the model and records it there; returns what is wrong, if anything. */
  readonly after?: (answer: Exchange, body: any) => string | undefined;
  /** No answer came to a write: its effect is unknown. */
  readonly onNoAnswer?: () => void;
  /**
   * Slow by design (a slow body, a 12 MiB upload): sent without holding up the lane. Its answer may only touch the
   * lane's background model, which the lane never picks from, so the lane's stream stays the same whatever the timing.
   */
  readonly background?: boolean;
}

/** A short, safe rendering of a request or body for a report line. */
export function describeCase(c: Case): string {
  if (c.http) {
    const body = c.http.body === undefined ? '' : ` ${preview(c.http.body)}`;
    return `${c.http.method} ${c.http.path.slice(0, 300)}${body}`;
  }
  return `raw ${preview(Buffer.concat(c.raw!.pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))))}`;
}

export function preview(value: string | Buffer, max = 300): string {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
}
