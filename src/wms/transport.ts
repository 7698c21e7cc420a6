/**
 * One HTTP exchange with the central service or a presigned storage URL, and the retry loop
 * around it: exponential back-off with jitter, `Retry-After`, and one deadline per call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher, type FormData } from 'undici';
import { WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ServiceClock } from './clock.js';
import { WmsErrorCode, isRetryableStatus, sortTransportError } from './errors.js';

/** Retry timing of a call. */
export interface RetryPolicy {
  /** First back-off delay in milliseconds; it doubles on each retry. */
  initialDelayMs: number;
  /** Maximum back-off delay in milliseconds. */
  maxDelayMs: number;
  /** Default overall time for a call, all retries included, in milliseconds. */
  deadlineMs: number;
}

/** Default retry timing: 0.5 s doubling up to 30 s, for at most 2 minutes per call. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  deadlineMs: 120_000,
};

/** A call's absolute deadline (local epoch milliseconds) and abort signal. */
export interface CallContext {
  deadlineAt: number;
  signal?: AbortSignal;
}

/** One request. `url` is absolute; `label` names the route in logs and errors. */
export interface HttpRequest {
  label: string;
  method: 'GET' | 'POST' | 'PATCH';
  url: URL;
  headers?: Record<string, string>;
  body?: string | FormData;
  /** False on routes where a 500 means something other than a passing fault. Default true. */
  retryOn500?: boolean;
  /** Presigned storage URL rather than the central service. Default false. */
  storage?: boolean;
}

/** A response with its body read in full. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Options of {@link HttpTransport}. */
export interface TransportOptions {
  clientVersion: string;
  log: Logger;
  clock: ServiceClock;
  retry: RetryPolicy;
  /** Time allowed for one attempt's headers, and between chunks of its body, in milliseconds. */
  requestTimeoutMs: number;
  /** PEM text of the CA certificates that sign the service's certificate. */
  ca?: string;
}

/**
 * Thrown by an attempt to ask the retry loop for another try. `error` is what the caller gets
 * when no time is left.
 */
export class RetryableFailure extends Error {
  constructor(
    readonly error: WmsError,
    readonly retryAfterMs?: number,
  ) {
    super(error.message, { cause: error });
  }
}

/** Maximum response body read into memory: a matched job carries its whole workflow. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Sends requests with undici and retries them under a deadline. */
export class HttpTransport {
  readonly dispatcher: Dispatcher;

  constructor(private readonly options: TransportOptions) {
    this.dispatcher = new Agent({
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      connect: options.ca === undefined ? {} : { ca: options.ca },
    });
  }

  /** Returns the absolute deadline and signal of a call that allows `deadlineMs`. */
  context(deadlineMs: number | undefined, signal?: AbortSignal): CallContext {
    const allowed = deadlineMs ?? this.options.retry.deadlineMs;
    return { deadlineAt: Date.now() + allowed, signal };
  }

  /**
   * Sends `req`, retrying transport failures and retryable statuses until the deadline.
   * Returns the first final response: a success, a 4xx the caller sorts, or a 500 on a
   * route that does not retry it.
   */
  async send(req: HttpRequest, context: CallContext): Promise<HttpResponse> {
    return this.retrying(req.label, context, async (signal) => {
      const response = await this.sendOnce(req, signal);
      if (isRetryableStatus(response.status, req.retryOn500 ?? true)) {
        throw retryableStatus(req, response);
      }
      return response;
    });
  }

  /** Sends `req` once and reads the whole response body. Transport failures become WmsErrors. */
  async sendOnce(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const sentAt = Date.now();
    const response = await this.dispatch(req, signal);
    this.options.clock.observe(headerValue(response.headers.date), sentAt, Date.now());

    let text: string;
    try {
      text = await readLimited(response.body, MAX_RESPONSE_BYTES);
    } catch (error) {
      if (error instanceof WmsError) throw error;
      throw this.transportError(req, error, signal);
    }
    return { status: response.statusCode, headers: response.headers, text };
  }

  /**
   * Starts `req` and returns the response with its body unread, for streaming downloads.
   * Transport failures become WmsErrors, retryable ones wrapped in {@link RetryableFailure}.
   */
  async dispatch(req: HttpRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = {
      'DiracX-Client-Version': this.options.clientVersion,
      ...req.headers,
    };
    try {
      return await request(req.url, {
        method: req.method,
        headers,
        body: req.body,
        signal,
        dispatcher: this.dispatcher,
      });
    } catch (error) {
      throw this.transportError(req, error, signal);
    }
  }

  /** Turns an error thrown by undici into a WmsError, wrapped when it is worth a retry. */
  transportError(req: HttpRequest, error: unknown, signal: AbortSignal): Error {
    if (signal.aborted) return abortError(req, signal);

    const sorted = sortTransportError(error);
    const code = sorted.tls ? WmsErrorCode.TlsFailed : WmsErrorCode.Unreachable;
    const wmsError = new WmsError(code, `${describeTarget(req)}: ${sorted.cause}`, {
      cause: error,
    });
    return sorted.retryable ? new RetryableFailure(wmsError) : wmsError;
  }

  /**
   * Runs `attempt` until it returns, throws something other than a {@link RetryableFailure},
   * or the deadline leaves no time for the next back-off delay.
   */
  async retrying<T>(
    label: string,
    context: CallContext,
    attempt: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    for (let attemptIndex = 0; ; attemptIndex += 1) {
      const remainingMs = context.deadlineAt - Date.now();
      const signal = attemptSignal(remainingMs, context.signal);
      let failure: RetryableFailure;
      try {
        return await attempt(signal);
      } catch (error) {
        if (!(error instanceof RetryableFailure)) throw this.deadlineOrAbort(label, error, context);
        failure = error;
      }

      // Retry-After is a minimum: a service that sends 0 must not be hammered.
      const delayMs = Math.max(failure.retryAfterMs ?? 0, this.backoffMs(attemptIndex));
      const leftMs = context.deadlineAt - Date.now();
      if (delayMs >= leftMs) throw giveUp(failure.error, attemptIndex + 1, delayMs, leftMs);

      this.options.log.warn(
        { route: label, attempt: attemptIndex + 1, delayMs, reason: failure.error.message },
        'request failed, retrying',
      );
      await sleepUnlessAborted(delayMs, context.signal, label);
    }
  }

  /** Closes idle connections. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private backoffMs(attemptIndex: number): number {
    const { initialDelayMs, maxDelayMs } = this.options.retry;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** attemptIndex);
    // Half fixed, half random, so pilots failing together do not retry together.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** Reports the caller's abort as such; other errors pass unchanged. */
  private deadlineOrAbort(label: string, error: unknown, context: CallContext): unknown {
    if (context.signal?.aborted && !(error instanceof WmsError && error.code === 'WMS_ABORTED')) {
      return new WmsError(WmsErrorCode.Aborted, `${label} aborted`, { cause: error });
    }
    return error;
  }
}

/** Returns the signal of one attempt: the caller's signal or the call's remaining time. */
function attemptSignal(remainingMs: number, callerSignal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, remainingMs));
  return callerSignal === undefined ? timeout : AbortSignal.any([timeout, callerSignal]);
}

function abortError(req: HttpRequest, signal: AbortSignal): Error {
  const reason = signal.reason as { name?: string } | undefined;
  if (reason?.name === 'TimeoutError') {
    const error = new WmsError(
      WmsErrorCode.Unreachable,
      `${describeTarget(req)}: no response before the call's deadline`,
      { cause: signal.reason },
    );
    return new RetryableFailure(error);
  }
  return new WmsError(WmsErrorCode.Aborted, `${req.label} aborted`, { cause: signal.reason });
}

function retryableStatus(req: HttpRequest, response: HttpResponse): RetryableFailure {
  const error = new WmsError(
    WmsErrorCode.Unavailable,
    `${req.label} failed: ${describeUrl(req.url)} returned ${response.status}`,
    { status: response.status },
  );
  return new RetryableFailure(error, parseRetryAfter(headerValue(response.headers['retry-after'])));
}

function giveUp(last: WmsError, attempts: number, delayMs: number, leftMs: number): WmsError {
  const wait = `${Math.round(delayMs / 1000)} s`;
  const left = `${Math.max(0, Math.round(leftMs / 1000))} s`;
  const message = `${last.message} (gave up after ${attempts} attempts: next try in ${wait}, ${left} left before the deadline)`;
  return new WmsError(last.code, message, { cause: last, status: last.status });
}

async function sleepUnlessAborted(
  delayMs: number,
  signal: AbortSignal | undefined,
  label: string,
): Promise<void> {
  try {
    await sleep(delayMs, undefined, { signal });
  } catch (error) {
    throw new WmsError(WmsErrorCode.Aborted, `${label} aborted`, { cause: error });
  }
}

/**
 * Parses a `Retry-After` value, either seconds or an HTTP date, to milliseconds from now.
 * Returns undefined when the header is missing or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}

/** Returns the first value of a header that may repeat. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Starts a message about a request that got no response, naming where it went. */
function describeTarget(req: HttpRequest): string {
  if (req.storage === true) return `cannot reach the sandbox storage at ${describeUrl(req.url)}`;
  return `cannot reach the central service at ${req.url.origin} (${req.label})`;
}

/**
 * Describes a URL for messages: origin and path only, because the query of a presigned URL
 * carries its signature.
 */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
}

async function readLimited(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) {
      body.destroy();
      throw new WmsError(WmsErrorCode.InvalidResponse, `response larger than ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
