// One error base with a code, an HTTP status and whether its message may be shown.

/** The OpenAI error body every failure is answered with. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface HubErrorInit {
  status: number;
  type: string;
  code?: string | null;
  param?: string | null;
  /** When false the message is replaced by a generic one before it reaches the client. Default true. */
  expose?: boolean;
  /** Extra response headers, e.g. `x-should-retry`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A fault the gateway answers with a status and the OpenAI error shape. */
export class HubError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly expose: boolean;
  readonly headers: Record<string, string>;

  constructor(message: string, init: HubErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'HubError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.expose = init.expose ?? true;
    this.headers = init.headers ?? {};
  }

  toBody(): OpenAIErrorBody {
    return {
      error: {
        message: this.expose ? this.message : 'Internal error',
        type: this.type,
        param: this.param,
        code: this.code,
      },
    };
  }
}

/** 400: the request is malformed or violates the schema. */
export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new HubError(message, { status: 400, type: 'invalid_request_error', param, code });

/** 401: missing, unknown, disabled or revoked key. */
export const invalidApiKey = (message = 'Invalid API key. Pass a TokenHub key as "Authorization: Bearer th-…".') =>
  new HubError(message, { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' });

/** 403: the key may not use the model. */
export const modelNotAllowed = (model: string) =>
  new HubError(`This key may not use the model "${model}".`, {
    status: 403,
    type: 'permission_error',
    code: 'model_not_allowed',
    param: 'model',
  });

/** 404: no such model or alias. */
export const modelNotFound = (model: string) =>
  new HubError(`The model "${model}" does not exist. GET /v1/models lists the models and aliases you can use.`, {
    status: 404,
    type: 'invalid_request_error',
    code: 'model_not_found',
    param: 'model',
  });

/** 413: body larger than the configured limit. */
export const requestTooLarge = (limitBytes: number) =>
  new HubError(`Request body is larger than the limit of ${limitBytes} bytes.`, {
    status: 413,
    type: 'invalid_request_error',
    code: 'request_too_large',
  });

/** 429: the key's monthly cap would be exceeded; the SDKs must not retry it. */
export const spendLimitExceeded = (message: string) =>
  new HubError(message, {
    status: 429,
    type: 'insufficient_quota',
    code: 'spend_limit_exceeded',
    headers: { 'x-should-retry': 'false' },
  });

/** 502: the provider failed and no fallback succeeded. */
export const upstreamError = (message: string, cause?: unknown) =>
  new HubError(message, { status: 502, type: 'upstream_error', code: 'upstream_error', cause });

/** 503: no configured, healthy provider can serve the request. */
export const noProviderAvailable = (message: string) =>
  new HubError(message, { status: 503, type: 'no_provider_available', code: 'no_provider_available' });

/** 504: the provider did not answer in time. */
export const upstreamTimeout = (message: string) =>
  new HubError(message, { status: 504, type: 'upstream_timeout', code: 'upstream_timeout' });

/** 503: the spend store cannot be reached; the gateway fails closed. */
export const storeUnavailable = (cause?: unknown) =>
  new HubError('The spend store cannot be reached; the request was not forwarded.', {
    status: 503,
    type: 'store_unavailable',
    code: 'store_unavailable',
    cause,
  });

/** 499 (nginx's "client closed request"): the client went away first; nobody reads the answer, the usage record keeps it. */
export const clientClosed = () =>
  new HubError('The client closed the request.', { status: 499, type: 'client_closed', code: 'client_closed' });

/** Turns anything thrown into a HubError; unknown faults become an opaque 500. */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  return new HubError('Internal error', { status: 500, type: 'server_error', code: 'internal_error', expose: false, cause: err });
}
