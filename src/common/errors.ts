/**
 * An operational error: expected, reported to callers, never a reason to crash.
 * `code` is API (stable); `message` is free text for humans.
 */
export class DbError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DbError';
  }
}
