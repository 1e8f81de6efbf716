// One error family for every surface. Services throw these; each edge renders them once
// (problem+json for /api). `detail` is safe to show a client; `cause` is for the logs only.

export interface FieldError {
  /** JSON pointer-ish path: `body.email`, `query.limit`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly expose: boolean;

  constructor(code: string, status: number, detail: string, opts: { cause?: unknown; errors?: FieldError[] } = {}) {
    super(detail, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.errors = opts.errors;
    this.expose = status < 500;
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[], detail = 'The request is not valid.') {
    super('request.invalid', 400, detail, { errors });
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid credential is required.') {
    super('auth.unauthenticated', 401, detail);
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'auth.forbidden', detail = 'You do not have permission to do this.') {
    super(code, 403, detail);
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, detail: string) {
    super(code, 404, detail);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, detail: string) {
    super(code, 409, detail);
  }
}

export class GoneError extends AppError {
  constructor(code: string, detail: string) {
    super(code, 410, detail);
  }
}

/** The org's plan does not allow this (a feature or a limit): 402 with a code saying which. */
export class PaymentRequiredError extends AppError {
  constructor(code: 'plan.seat_limit' | 'plan.feature_unavailable' | 'plan.limit', detail: string) {
    super(code, 402, detail);
  }
}
