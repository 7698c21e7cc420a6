/**
 * Estimates the central service's clock from the `Date` headers of its responses. The service
 * orders a job's status records by their timestamps and stamps heartbeat records with its own
 * clock, so the pilot's records must be stamped in the service's time, not the node's.
 */

/** Resolution of an HTTP `Date` header: it truncates to whole seconds. */
const DATE_HEADER_RESOLUTION_MS = 1000;

/** Tracks the offset between the service's clock and the local one, and stamps records. */
export class ServiceClock {
  /** Bounds, in milliseconds, of (service time - local time) consistent with every sample. */
  private lowerMs = Number.NEGATIVE_INFINITY;
  private upperMs = Number.POSITIVE_INFINITY;
  /** Last stamp given per job, in microseconds since the epoch. */
  private readonly lastStampUs = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Adds one sample: a `Date` header value from the response to a request sent at local time
   * `sentAtMs` and whose headers arrived at `receivedAtMs`. Invalid dates are ignored.
   */
  observe(dateHeader: string | undefined, sentAtMs: number, receivedAtMs: number): void {
    if (dateHeader === undefined) return;
    const serverMs = Date.parse(dateHeader);
    if (Number.isNaN(serverMs)) return;

    // The service wrote the header at some local instant between sending and receiving, and
    // its clock then read somewhere in [serverMs, serverMs + 1 s).
    const lower = serverMs - receivedAtMs;
    const upper = serverMs + DATE_HEADER_RESOLUTION_MS - sentAtMs;

    if (lower > this.upperMs || upper < this.lowerMs) {
      // One of the clocks stepped: the old samples no longer hold.
      this.lowerMs = lower;
      this.upperMs = upper;
      return;
    }
    this.lowerMs = Math.max(this.lowerMs, lower);
    this.upperMs = Math.min(this.upperMs, upper);
  }

  /** Estimated offset (service time - local time) in milliseconds; 0 before any sample. */
  offsetMs(): number {
    if (!Number.isFinite(this.lowerMs)) return 0;
    return (this.lowerMs + this.upperMs) / 2;
  }

  /** Returns the service's current time as estimated from the samples so far. */
  serviceNow(): Date {
    return new Date(this.now() + this.offsetMs());
  }

  /**
   * Returns an ISO 8601 timestamp with microseconds and a `+00:00` offset in the service's
   * clock, strictly later than every earlier stamp for the same job.
   *
   * Stamps use the upper bound of the offset, not the estimate. The service applies only a
   * record newer than the newest it holds, and it stamps its own records (such as the Running
   * record a heartbeat adds) with its clock. A stamp taken from the estimate could fall up
   * to half a second behind, and the service would then silently ignore the record. The
   * cost is a stamp up to about a second ahead of the service's clock.
   */
  stampFor(jobId: number | string): string {
    const key = String(jobId);
    const upperOffsetMs = Number.isFinite(this.upperMs) ? this.upperMs : 0;
    const nowUs = Math.floor((this.now() + upperOffsetMs) * 1000);
    const previousUs = this.lastStampUs.get(key);
    const stampUs = previousUs === undefined ? nowUs : Math.max(nowUs, previousUs + 1);
    this.lastStampUs.set(key, stampUs);
    return formatMicroseconds(stampUs);
  }

  /**
   * Records a timestamp made elsewhere (such as a record replayed from a journal) so that
   * later stamps for the job come after it.
   */
  noteStamp(jobId: number | string, timestamp: string): void {
    const us = parseMicroseconds(timestamp);
    if (us === undefined) return;
    const key = String(jobId);
    const previousUs = this.lastStampUs.get(key) ?? Number.NEGATIVE_INFINITY;
    if (us > previousUs) this.lastStampUs.set(key, us);
  }

  /** Forgets the stamps of a job that has ended. */
  forgetJob(jobId: number | string): void {
    this.lastStampUs.delete(String(jobId));
  }
}

/** Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`. */
export function formatMicroseconds(us: number): string {
  const ms = Math.floor(us / 1000);
  const microsInMs = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // 2026-12-04T15:00:00.123Z
  return `${iso.slice(0, 23)}${String(microsInMs).padStart(3, '0')}+00:00`;
}

/** Pattern of a timestamp with a timezone, the only kind the service accepts on a record. */
const ZONED_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** Returns true when `timestamp` is ISO 8601 with a timezone (`Z` or `±HH:MM`). */
export function hasTimezone(timestamp: string): boolean {
  return ZONED_TIMESTAMP.test(timestamp);
}

/** Parses an ISO 8601 timestamp with a timezone to microseconds since the epoch. */
export function parseMicroseconds(timestamp: string): number | undefined {
  const match = ZONED_TIMESTAMP.exec(timestamp);
  if (match === null) return undefined;
  const [, seconds, fraction = '', zone] = match;
  const offset =
    zone === 'Z' || zone?.includes(':') ? zone : `${zone?.slice(0, 3)}:${zone?.slice(3)}`;
  const wholeMs = Date.parse(`${seconds}${offset}`);
  if (Number.isNaN(wholeMs)) return undefined;
  const digits = fraction.slice(1).padEnd(6, '0').slice(0, 6);
  return wholeMs * 1000 + Number(digits);
}
