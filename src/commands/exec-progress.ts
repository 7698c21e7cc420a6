/**
 * Live progress display of `ctao-pilot exec`: one line per Workflow step and a summary line,
 * redrawn in place on a terminal with ANSI cursor movement and erased when the run ends.
 */
import { Writable } from 'node:stream';
import {
  formatProgressLine,
  type ProgressSnapshot,
  type StepProgress,
} from '../cwl/workflow/progress.js';

/** A writable stream with the terminal fields of `process.stderr`. */
export type TerminalStream = Writable & { isTTY?: boolean; columns?: number; rows?: number };

/** Options of {@link attachProgressDisplay}. */
export interface ProgressDisplayOptions {
  /** When true, nothing is drawn, as on a stream that is not a terminal. Default: false. */
  quiet?: boolean;
  /** Minimum time between two frames, in milliseconds. Default: 100. */
  intervalMs?: number;
}

/** Handle of a progress display. */
export interface ProgressDisplay {
  /** Receives each new snapshot. Frames are drawn at most once per interval. */
  onProgress(snapshot: ProgressSnapshot): void;
  /**
   * Stream for the payload's own output on the same terminal. It erases the frame before
   * each write, so the output is not drawn over; it is the display's stream when nothing
   * is drawn.
   */
  payloadOutput: Writable;
  /** Stops drawing and erases the frame. Calls after the first one do nothing. */
  close(): void;
}

const DEFAULT_INTERVAL_MS = 100;
/** Width and height used when the stream reports no size or a size of 0, as some ptys do. */
const FALLBACK_COLUMNS = 80;
const FALLBACK_ROWS = 24;

const CURSOR_UP = (lines: number): string => `\x1b[${lines}A`;
const ERASE_DOWN = '\x1b[J';

/**
 * Attaches a progress display to `stream`. On a terminal (`stream.isTTY`) without `quiet`,
 * snapshots passed to `onProgress` are drawn in place; otherwise the display writes nothing.
 */
export function attachProgressDisplay(
  stream: TerminalStream,
  options: ProgressDisplayOptions = {},
): ProgressDisplay {
  if (stream.isTTY !== true || options.quiet === true) {
    return { onProgress: () => {}, payloadOutput: stream, close: () => {} };
  }
  const display = new TerminalDisplay(stream, options.intervalMs ?? DEFAULT_INTERVAL_MS);
  return {
    onProgress: (snapshot) => display.update(snapshot),
    payloadOutput: display.payloadOutput(),
    close: () => display.close(),
  };
}

/** Draws frames on a terminal, at most one per interval. */
class TerminalDisplay {
  private latest: ProgressSnapshot | undefined;
  private drawnLines = 0;
  /**
   * Starts at the time of creation, so the first frame waits one interval: a run that ends
   * sooner draws nothing, and steps declared one by one at the start show up together.
   */
  private lastDrawAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** False after payload output that did not end with a newline. */
  private atLineStart = true;

  constructor(
    private readonly stream: TerminalStream,
    private readonly intervalMs: number,
  ) {}

  update(snapshot: ProgressSnapshot): void {
    if (this.closed) return;
    this.latest = snapshot;
    this.scheduleDraw();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.erase();
  }

  /** Returns a stream that writes the payload's output above the frame. */
  payloadOutput(): Writable {
    return new Writable({
      write: (chunk: Buffer | string, encoding, callback) => {
        this.erase();
        const text = typeof chunk === 'string' ? chunk : chunk.toString();
        if (text.length > 0) this.atLineStart = text.endsWith('\n');
        this.stream.write(chunk, encoding, callback);
        if (!this.closed) this.scheduleDraw();
      },
    });
  }

  private scheduleDraw(): void {
    if (this.timer !== undefined || this.latest === undefined) return;
    const waitMs = this.lastDrawAt + this.intervalMs - Date.now();
    if (waitMs <= 0) {
      this.draw();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, waitMs);
    // A pending frame must not keep the process alive once the run is over.
    this.timer.unref();
  }

  private draw(): void {
    if (this.closed || this.latest === undefined) return;
    const columns = positiveOr(this.stream.columns, FALLBACK_COLUMNS);
    const rows = positiveOr(this.stream.rows, FALLBACK_ROWS);
    const lines = renderFrame(this.latest, columns, rows);

    // A frame starts on a fresh line, so a partial payload line is ended first.
    const prefix = this.atLineStart ? '' : '\n';
    this.atLineStart = true;
    this.stream.write(`${prefix}${this.eraseSequence()}${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
    this.lastDrawAt = Date.now();
  }

  private erase(): void {
    const sequence = this.eraseSequence();
    if (sequence !== '') this.stream.write(sequence);
    this.drawnLines = 0;
  }

  /** Moves the cursor to the first line of the frame and erases everything below it. */
  private eraseSequence(): string {
    if (this.drawnLines === 0) return '';
    return `${CURSOR_UP(this.drawnLines)}\r${ERASE_DOWN}`;
  }
}

/**
 * Renders one frame: a line per step and the summary line, each shorter than the terminal
 * width so no line wraps, and no more lines than the terminal height minus one. When steps
 * do not fit, finished steps are left out first, then the rest is cut with a count line.
 */
export function renderFrame(snapshot: ProgressSnapshot, columns: number, rows: number): string[] {
  const width = Math.max(1, columns - 1);
  const maxStepLines = Math.max(0, rows - 2);

  let steps = snapshot.steps;
  if (steps.length > maxStepLines) {
    steps = steps.filter((step) => step.state !== 'done' && step.state !== 'skipped');
  }
  const nameWidth = Math.min(30, Math.max(0, ...steps.map((step) => step.name.length)));
  let lines = steps.map((step) => fit(describeStepLine(step, nameWidth), width));
  if (lines.length > maxStepLines) {
    const visibleCount = Math.max(0, maxStepLines - 1);
    const hidden = lines.length - visibleCount;
    lines = [...lines.slice(0, visibleCount), fit(`  ... ${hidden} more steps`, width)];
  }
  lines.push(formatProgressLine(snapshot, width));
  return lines;
}

function describeStepLine(step: StepProgress, nameWidth: number): string {
  const line = `  ${step.state.padEnd(8)} ${step.name.padEnd(nameWidth)}`;
  const { total, running, done, skipped, failed } = step.jobs;
  if (total <= 1) return line.trimEnd();

  let jobs = `  ${done + skipped + failed}/${total} jobs finished`;
  if (running > 0) jobs += `, ${running} running`;
  if (failed > 0) jobs += `, ${failed} failed`;
  return `${line}${jobs}`;
}

function fit(line: string, width: number): string {
  return line.length <= width ? line : line.slice(0, width);
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && value > 0 ? value : fallback;
}
