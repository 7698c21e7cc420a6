/**
 * Exponential back-off with jitter for an empty match: each wait doubles up to the maximum,
 * and is drawn between half and all of its nominal value so that many pilots started
 * together do not ask the service in step.
 */
export class Backoff {
  private attempt = 0;

  /**
   * @param minSeconds first nominal wait
   * @param maxSeconds longest nominal wait
   * @param random source of numbers in [0, 1), replaceable in tests
   */
  constructor(
    private readonly minSeconds: number,
    private readonly maxSeconds: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Returns the next wait in seconds and doubles the nominal one. */
  next(): number {
    const nominal = Math.min(this.maxSeconds, this.minSeconds * 2 ** this.attempt);
    this.attempt += 1;
    return nominal * (0.5 + this.random() / 2);
  }

  /** Starts again from the first wait, after a job was matched. */
  reset(): void {
    this.attempt = 0;
  }
}
