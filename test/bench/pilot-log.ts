/**
 * Per-job intervals read from the pilot's JSON log. Every time comes from the pilot's own clock
 * in milliseconds, so intervals do not depend on how well it estimated the service's clock.
 */

/** Times of one job's log lines, in milliseconds since the epoch. */
export interface JobTimeline {
  jobId: number;
  /** The client's `job matched` line, written as the match response arrives. */
  matchedMs: number;
  /** The CWL engine's `payload starting` line, written as it spawns the tool's process. */
  payloadStartMs: number;
  /** The CWL engine's `payload finished` line, written once the tool's process exited. */
  payloadExitMs: number;
  /** The match loop's `job finished` line, written once the service took the final status. */
  finishedMs: number;
}

type LogLine = Record<string, unknown>;

/**
 * Builds one timeline per job from the pilot's log lines. The first `job matched` and
 * `payload starting` line of a job and the last `payload finished` line count. Throws naming
 * the job and the missing line when a job lacks one, because its intervals would be wrong.
 */
export function readJobTimelines(lines: LogLine[]): JobTimeline[] {
  const partial = new Map<number, Partial<JobTimeline>>();
  for (const line of lines) {
    const jobId = line.jobId;
    const time = typeof line.time === 'string' ? Date.parse(line.time) : Number.NaN;
    if (typeof jobId !== 'number' || Number.isNaN(time)) continue;
    const timeline = partial.get(jobId) ?? { jobId };
    partial.set(jobId, timeline);
    recordLine(timeline, line, time);
  }
  return [...partial.values()].map(completeTimeline).sort((a, b) => a.jobId - b.jobId);
}

function recordLine(timeline: Partial<JobTimeline>, line: LogLine, time: number): void {
  switch (line.msg) {
    case 'job matched':
      timeline.matchedMs ??= time;
      break;
    case 'payload starting':
      // The wrapper writes a `payload starting` line with the document before the engine
      // writes its own with the command, right before spawning.
      if (typeof line.command === 'string') timeline.payloadStartMs ??= time;
      break;
    case 'payload finished':
      timeline.payloadExitMs = time;
      break;
    case 'job finished':
      timeline.finishedMs = time;
      break;
  }
}

function completeTimeline(timeline: Partial<JobTimeline>): JobTimeline {
  const fields = ['matchedMs', 'payloadStartMs', 'payloadExitMs', 'finishedMs'] as const;
  for (const field of fields) {
    if (timeline[field] === undefined) {
      throw new Error(`job ${timeline.jobId}: the pilot's log has no line for ${field}`);
    }
  }
  return timeline as JobTimeline;
}
