/** SCIM errors (RFC 7644 §3.12): every client mistake becomes one of these, never a 500. */
import { ERROR_SCHEMA } from './schemas';

export { ERROR_SCHEMA };

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: ScimType,
    /** Seconds, for 429/503 answers. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ScimError';
  }

  toJSON(): Record<string, unknown> {
    return {
      schemas: [ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.message,
    };
  }
}

export const badRequest = (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType);
export const notFound = (detail: string) => new ScimError(404, detail);
export const conflict = (detail: string) => new ScimError(409, detail, 'uniqueness');
export const forbidden = (detail: string) => new ScimError(403, detail);
export const preconditionFailed = (detail: string) => new ScimError(412, detail);
/** The store cannot be reached: identity providers retry 5xx, so say when. */
export const unavailable = (detail: string, retryAfter = 5) => new ScimError(503, detail, undefined, retryAfter);
