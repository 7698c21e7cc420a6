/**
 * Ships the pilot's own log to the central service in batches. The local log stays the
 * source of truth: the shipper never slows it down, and it stops shipping for good when the
 * route is missing or keeps failing.
 */
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { WmsError } from '../errors.js';
import type { Logger } from '../log.js';
import { WmsErrorCode, hasTimezone, wmsErrorAction } from '../wms/index.js';
import type { PilotLogLine, WmsClient } from '../wms/index.js';

/** The part of the central-service client the shipper uses. */
export type PilotLogSender = Pick<WmsClient, 'sendPilotLogs'>;

/** Options of {@link LogShipper}. Sizes are in bytes of the JSON lines sent, times in ms. */
export interface LogShipperOptions {
  /**
   * Returns the client once the pilot has logged in, or undefined before. Lines wait in the
   * buffer until then, because a request made earlier would spend the pilot secret.
   */
  client: () => PilotLogSender | undefined;
  /** Logger for the one warning that shipping has stopped. */
  log: Logger;
  /** Values scrubbed from every line, such as the pilot secret. Empty strings are ignored. */
  secrets?: readonly string[];
  /** Lines that trigger a request at once. Default 200. */
  maxBatchLines?: number;
  /** Bytes that trigger a request at once, and the maximum size of one request. Default 64 KiB. */
  maxBatchBytes?: number;
  /** Maximum time a line waits in the buffer before a request, in ms. Default 10 000. */
  flushIntervalMs?: number;
  /** Minimum time between the starts of two requests, in ms. Default 2 000. */
  minRequestIntervalMs?: number;
  /** Buffer size past which the oldest DEBUG and INFO lines are dropped. Default 1 MiB. */
  maxBufferBytes?: number;
  /** Characters of a message kept before it is shortened. Default 4 000. */
  maxMessageChars?: number;
  /** Failed requests in a row after which shipping stops. Default 3. */
  maxConsecutiveFailures?: number;
  /** Time for one request and its retries inside the client, in ms. Default 15 000. */
  requestDeadlineMs?: number;
}

type ShipperSettings = Required<Omit<LogShipperOptions, 'client' | 'log' | 'secrets'>>;

const DEFAULT_SETTINGS: ShipperSettings = {
  maxBatchLines: 200,
  maxBatchBytes: 64 * 1024,
  flushIntervalMs: 10_000,
  minRequestIntervalMs: 2_000,
  maxBufferBytes: 1024 * 1024,
  maxMessageChars: 4_000,
  maxConsecutiveFailures: 3,
  requestDeadlineMs: 15_000,
};

/** Default time {@link LogShipper.flush} may take, in ms. */
export const DEFAULT_FLUSH_DEADLINE_MS = 5_000;

/** pino's numeric levels and DIRAC's severity names, highest first. */
const SEVERITIES: ReadonlyArray<readonly [number, string]> = [
  [60, 'FATAL'],
  [50, 'ERROR'],
  [40, 'WARN'],
  [30, 'INFO'],
  [0, 'DEBUG'],
];

// A JWT is three base64url parts, and its JSON header always encodes to a leading `eyJ`.
const JWT_PATTERN = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g;
const BEARER_PATTERN = /\b(bearer)\s+[\w.~+/=-]+/gi;
const REDACTED = '[redacted]';

/**
 * Replaces bearer tokens, JWTs and each of `secrets` (also in JSON-escaped form) in `text`.
 * NOTE: an opaque token that is not a JWT passes unless it follows `Bearer`, sits under a
 * field that pino redacts, or is one of `secrets`.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let scrubbed = text;
  for (const secret of secrets) {
    if (secret === '') continue;
    const escaped = JSON.stringify(secret).slice(1, -1);
    scrubbed = scrubbed.split(secret).join(REDACTED).split(escaped).join(REDACTED);
  }
  return scrubbed.replace(BEARER_PATTERN, `$1 ${REDACTED}`).replace(JWT_PATTERN, REDACTED);
}

/**
 * Converts one pino JSON line into a line for the central service. pino's level becomes an
 * upper-case severity and a `jobId` field the scope `job:<id>`. The message is `msg` followed
 * by the other fields as compact JSON, scrubbed of secrets and then shortened. Text that is
 * not a JSON object becomes an INFO message.
 */
export function toPilotLogLine(
  text: string,
  secrets: readonly string[] = [],
  maxMessageChars = DEFAULT_SETTINGS.maxMessageChars,
): PilotLogLine {
  const record = parseRecord(text);
  if (record === undefined) {
    const message = shorten(scrubSecrets(text, secrets), maxMessageChars);
    return { timestamp: new Date().toISOString(), severity: 'INFO', message, scope: 'pilot' };
  }

  const { time, level, msg, jobId, ...fields } = record;
  // The service files the lines under the pilot's stamp already.
  delete fields.pilotStamp;
  let message = typeof msg === 'string' ? msg : '';
  if (Object.keys(fields).length > 0) message = `${message} ${JSON.stringify(fields)}`.trim();

  return {
    timestamp: typeof time === 'string' && hasTimezone(time) ? time : new Date().toISOString(),
    severity: severityOf(level),
    message: shorten(scrubSecrets(message, secrets), maxMessageChars),
    scope: jobId === undefined || jobId === null ? 'pilot' : `job:${String(jobId)}`,
  };
}

function parseRecord(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Not JSON: the caller ships the raw text.
  }
  return undefined;
}

function severityOf(level: unknown): string {
  const value = typeof level === 'number' ? level : 30;
  return (SEVERITIES.find(([threshold]) => value >= threshold) ?? [0, 'DEBUG'])[1];
}

function shorten(message: string, maxChars: number): string {
  if (message.length <= maxChars) return message;
  let end = maxChars;
  // Never split a UTF-16 surrogate pair.
  const code = message.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${message.slice(0, end)}... (${message.length - end} more characters)`;
}

/** A line waiting in the buffer, with its size as sent and when it arrived. */
interface BufferedLine {
  line: PilotLogLine;
  bytes: number;
  receivedAt: number;
  droppable: boolean;
}

/** Lines taken from the buffer for one request, and the dropped-line count it reports. */
interface Batch {
  entries: BufferedLine[];
  dropped: number;
}

/**
 * A writable stream that takes pino's JSON lines and ships them to the central service. Pipe
 * the logger's destination into it. Writes never wait: past `maxBufferBytes` the oldest DEBUG
 * and INFO lines are dropped (then the oldest of any severity), and the next request carries
 * a WARN line with their count. At most one request is in flight.
 */
export class LogShipper extends Writable {
  private readonly settings: ShipperSettings;
  private readonly secrets: readonly string[];
  private readonly decoder = new StringDecoder('utf8');
  private readonly abort = new AbortController();
  private buffer: BufferedLine[] = [];
  private bufferedBytes = 0;
  private droppedLines = 0;
  private partialLine = '';
  private notBefore = 0;
  private consecutiveFailures = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;
  private state: 'shipping' | 'stopped' | 'closed' = 'shipping';

  /** Checks the options. Sends nothing until lines arrive and the client exists. */
  constructor(private readonly options: LogShipperOptions) {
    super();
    this.settings = { ...DEFAULT_SETTINGS };
    for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof ShipperSettings)[]) {
      const value = options[key];
      if (value === undefined) continue;
      if (!Number.isFinite(value) || value <= 0) {
        throw new RangeError(`LogShipper option ${key} is ${value}: use a positive number`);
      }
      this.settings[key] = value;
    }
    this.secrets = (options.secrets ?? []).filter((secret) => secret !== '');
  }

  /** True while lines are still shipped, false after a stop or {@link close}. */
  get isShipping(): boolean {
    return this.state === 'shipping';
  }

  override _write(chunk: Buffer | string, _encoding: string, callback: () => void): void {
    if (this.state === 'shipping') {
      const text =
        this.partialLine + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
      const lines = text.split('\n');
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.enqueue(line);
      this.scheduleSend();
    }
    // The local log must never wait for the network, so the write completes at once.
    callback();
  }

  /**
   * Sends every buffered line now, batch after batch without the rate limit, and waits for
   * a request already in flight. Returns when the buffer is empty, shipping has stopped, the
   * client does not exist yet, or `deadlineMs` has passed.
   */
  async flush(deadlineMs = DEFAULT_FLUSH_DEADLINE_MS): Promise<void> {
    const deadlineAt = Date.now() + deadlineMs;
    if (this.state === 'shipping' && this.partialLine.trim() !== '') this.enqueue(this.partialLine);
    this.partialLine = '';

    while (this.state === 'shipping') {
      const leftMs = deadlineAt - Date.now();
      if (leftMs <= 0) break;
      if (this.inFlight) {
        await waitAtMost(this.inFlight, leftMs);
        continue;
      }
      const client = this.options.client();
      if (!client || (this.buffer.length === 0 && this.droppedLines === 0)) break;
      this.startRequest(client, Math.min(leftMs, this.settings.requestDeadlineMs));
    }
    this.scheduleSend();
  }

  /** Stops shipping: cancels the timer and a request in flight, and drops what is buffered. */
  close(): void {
    this.state = 'closed';
    this.cancelTimer();
    this.abort.abort();
    this.buffer = [];
    this.bufferedBytes = 0;
  }

  private enqueue(text: string): void {
    const line = toPilotLogLine(text, this.secrets, this.settings.maxMessageChars);
    const bytes = lineBytes(line);
    const droppable = line.severity === 'DEBUG' || line.severity === 'INFO';
    this.buffer.push({ line, bytes, receivedAt: Date.now(), droppable });
    this.bufferedBytes += bytes;
    this.enforceBufferCap();
  }

  private enforceBufferCap(): void {
    while (this.bufferedBytes > this.settings.maxBufferBytes && this.buffer.length > 1) {
      const index = Math.max(
        0,
        this.buffer.findIndex((entry) => entry.droppable),
      );
      const [removed] = this.buffer.splice(index, 1);
      this.bufferedBytes -= removed?.bytes ?? 0;
      this.droppedLines += 1;
    }
  }

  private scheduleSend(): void {
    if (this.state !== 'shipping' || this.inFlight || this.buffer.length === 0) return;
    const now = Date.now();
    const full =
      this.buffer.length >= this.settings.maxBatchLines ||
      this.bufferedBytes >= this.settings.maxBatchBytes;
    const oldest = this.buffer[0]?.receivedAt ?? now;
    const dueAt = Math.max(full ? now : oldest + this.settings.flushIntervalMs, this.notBefore);
    if (this.timer && this.timerDueAt <= dueAt) return;

    this.cancelTimer();
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => this.sendDue(), Math.max(0, dueAt - now));
    // Shipping alone must not keep the pilot alive, because flush() sends the last lines.
    this.timer.unref();
  }

  private sendDue(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    if (this.state !== 'shipping' || this.inFlight) return;
    const client = this.options.client();
    if (!client) {
      // Not logged in yet: look again after one flush interval.
      this.notBefore = Date.now() + this.settings.flushIntervalMs;
      this.scheduleSend();
      return;
    }
    this.startRequest(client, this.settings.requestDeadlineMs);
  }

  private startRequest(client: PilotLogSender, deadlineMs: number): void {
    const batch = this.takeBatch();
    this.notBefore = Date.now() + this.settings.minRequestIntervalMs;
    this.inFlight = this.send(client, batch, deadlineMs).finally(() => {
      this.inFlight = undefined;
      this.scheduleSend();
    });
  }

  private takeBatch(): Batch {
    const noticeBytes =
      this.droppedLines > 0 ? lineBytes(droppedLinesNotice(this.droppedLines)) : 0;
    let bytes = 0;
    let count = 0;
    for (const entry of this.buffer) {
      if (count >= this.settings.maxBatchLines) break;
      const requestBytes = REQUEST_ENVELOPE_BYTES + noticeBytes + bytes + entry.bytes;
      if (count > 0 && requestBytes > this.settings.maxBatchBytes) break;
      bytes += entry.bytes;
      count += 1;
    }
    const entries = this.buffer.splice(0, count);
    this.bufferedBytes -= bytes;
    const batch = { entries, dropped: this.droppedLines };
    this.droppedLines = 0;
    return batch;
  }

  private async send(client: PilotLogSender, batch: Batch, deadlineMs: number): Promise<void> {
    const lines = batch.entries.map((entry) => entry.line);
    if (batch.dropped > 0) lines.unshift(droppedLinesNotice(batch.dropped));
    try {
      await client.sendPilotLogs(lines, { deadlineMs, signal: this.abort.signal });
      this.consecutiveFailures = 0;
    } catch (error) {
      this.handleFailure(error, batch);
    }
  }

  private handleFailure(error: unknown, batch: Batch): void {
    if (this.state !== 'shipping') return;
    this.consecutiveFailures += 1;
    const action = wmsErrorAction(error);
    const notFound = error instanceof WmsError && error.code === WmsErrorCode.NotFound;
    if (action === 'retry-later') {
      this.buffer.unshift(...batch.entries);
      this.bufferedBytes += batch.entries.reduce((sum, entry) => sum + entry.bytes, 0);
      this.droppedLines += batch.dropped;
      this.enforceBufferCap();
    } else {
      // The service rejected these lines, so sending them again would fail the same way.
      this.droppedLines += batch.dropped + batch.entries.length;
    }

    if (notFound || action === 'stop-pilot') {
      this.stop(notFound ? 'route not found' : 'service rejects the pilot', error);
    } else if (this.consecutiveFailures >= this.settings.maxConsecutiveFailures) {
      this.stop('requests kept failing', error);
    } else {
      this.notBefore = Date.now() + this.settings.flushIntervalMs;
    }
  }

  private stop(reason: string, error: unknown): void {
    const unsentLines = this.buffer.length + this.droppedLines;
    // The state changes first, so the warning below is not buffered for shipping.
    this.state = 'stopped';
    this.cancelTimer();
    this.buffer = [];
    this.bufferedBytes = 0;
    this.options.log.warn(
      { reason, err: error, failedRequests: this.consecutiveFailures, unsentLines },
      'pilot log shipping stopped',
    );
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Infinity;
  }
}

// A request body is `{"lines":[` and `]}` around the lines, with a comma after all but the last.
const REQUEST_ENVELOPE_BYTES = 11;

/** Returns the bytes a line adds to a request body: its JSON and one separator. */
function lineBytes(line: PilotLogLine): number {
  return Buffer.byteLength(JSON.stringify(line)) + 1;
}

function droppedLinesNotice(count: number): PilotLogLine {
  return {
    timestamp: new Date().toISOString(),
    severity: 'WARN',
    message: `${count} pilot log lines were dropped before reaching the service, because the buffer was full or the service rejected them. The local log contains them all`,
    scope: 'pilot',
  };
}

/** Waits for `promise` for at most `ms` milliseconds. Never rejects. */
async function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  await Promise.race([promise.catch(() => undefined), timeout]);
  clearTimeout(timer);
}
