/** Stable error codes of the public contract, each with the HTTP status it maps to. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VERSION_CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  INVALID_NOTEBOOK: 422,
  RATE_LIMITED: 429,
  KERNEL_ERROR: 502,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

/** One of the contract's error codes. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The contract's error body: `{"error": "<CODE>", "message": "<human text>"}`. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  [extra: string]: unknown;
}

/** A domain error carrying a contract code; transports map it to their own error shape. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** The HTTP status the code maps to. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The contract's error body for this error. */
  toBody(): ErrorBody {
    return { error: this.code, message: this.message, ...this.details };
  }
}
