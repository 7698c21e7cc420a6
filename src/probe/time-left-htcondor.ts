/**
 * Wall time left of an HTCondor job, from the job ClassAd file that the starter writes into
 * the job's scratch folder and names in `$_CONDOR_JOB_AD`.
 */
import { readFile } from 'node:fs/promises';
import type { TimeBudget } from './time-budget.js';

/**
 * Parses an HTCondor ClassAd file in the old `Attribute = value` format. Attribute names are
 * case-insensitive in ClassAds, so the keys are lowercased. String values lose their quotes,
 * and other values stay as the expression text.
 */
export function parseClassAd(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match === null) continue;
    const [, name, value] = match as unknown as [string, string, string];
    attributes.set(name.toLowerCase(), value.replace(/^"(.*)"$/, '$1'));
  }
  return attributes;
}

/**
 * Attributes that sites set to a job's wall time limit in seconds. HTCondor-CE sets
 * `BatchRuntime` on routed jobs, and several pools ask for `+MaxRuntime` in the submit file.
 * `MaxJobRetirementTime` is left out on purpose: it is the grace time a job gets after it is
 * preempted, not a limit on how long it runs.
 */
const LIMIT_ATTRIBUTES = ['BatchRuntime', 'MaxRuntime'] as const;

/** Returns the value of `name` as a non-negative number of seconds, or undefined. */
function secondsAttribute(ad: Map<string, string>, name: string): number | undefined {
  const text = ad.get(name.toLowerCase());
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Returns the limit in seconds that a `PeriodicRemove` expression puts on the time since the
 * job started, from terms such as `(time() - JobCurrentStartDate) > 86400`.
 * NOTE: only that form of term is understood. Other expressions, such as limits on
 * `RemoteWallClockTime`, which adds up every run of the job, are ignored.
 */
export function periodicRemoveLimit(expression: string): number | undefined {
  const term =
    /\(?\s*(?:time\(\)|CurrentTime)\s*-\s*(?:JobCurrentStartDate|EnteredCurrentStatus)\s*\)?\s*>=?\s*(\d+)/gi;
  const limits = [...expression.matchAll(term)].map((match) => Number(match[1]));
  return limits.length === 0 ? undefined : Math.min(...limits);
}

/** Collects the wall time limits that the job ad names, as attribute name to seconds. */
export function classAdLimits(ad: Map<string, string>): Map<string, number> {
  const limits = new Map<string, number>();
  for (const name of LIMIT_ATTRIBUTES) {
    const seconds = secondsAttribute(ad, name);
    if (seconds !== undefined) limits.set(name, seconds);
  }
  const periodicRemove = ad.get('periodicremove');
  const removeAfter =
    periodicRemove === undefined ? undefined : periodicRemoveLimit(periodicRemove);
  if (removeAfter !== undefined) limits.set('PeriodicRemove', removeAfter);
  return limits;
}

/**
 * Computes the wall time left from the job ad text `adText` at `now` (epoch ms): the smallest
 * limit minus the time since `JobCurrentStartDate`, never below 0. Returns null with the
 * reason in `source` when the ad names no limit. Throws when a limit exists but the ad has no
 * valid `JobCurrentStartDate`.
 */
export function timeLeftFromClassAd(adText: string, now: number): TimeBudget {
  const ad = parseClassAd(adText);
  const limits = classAdLimits(ad);
  if (limits.size === 0) {
    return {
      wallTimeLeftSeconds: null,
      source: 'htcondor job ad: no wall time limit',
      readAt: now,
    };
  }
  const [name, limitSeconds] = [...limits].reduce((min, entry) =>
    entry[1] < min[1] ? entry : min,
  );

  const startedAt = secondsAttribute(ad, 'JobCurrentStartDate');
  if (startedAt === undefined) {
    throw new Error(
      `HTCondor job ad has ${name} but no valid JobCurrentStartDate ` +
        `(${ad.get('jobcurrentstartdate') ?? 'missing'}); configure the wall time instead`,
    );
  }
  const elapsedSeconds = Math.max(0, Math.floor(now / 1000 - startedAt));
  const left = Math.max(0, limitSeconds - elapsedSeconds);
  return { wallTimeLeftSeconds: left, source: `htcondor job ad ${name}`, readAt: now };
}

/**
 * Reads the wall time left from the job ad file named in `env._CONDOR_JOB_AD`. Returns null
 * with the reason in `source` when there is no job ad or it names no limit. Throws when the
 * file cannot be read or its start time is missing.
 */
export async function readHtcondorTimeLeft(env: NodeJS.ProcessEnv): Promise<TimeBudget> {
  const readAt = Date.now();
  const adPath = env._CONDOR_JOB_AD;
  if (adPath === undefined || adPath === '') {
    return { wallTimeLeftSeconds: null, source: 'htcondor: _CONDOR_JOB_AD not set', readAt };
  }
  const adText = await readFile(adPath, 'utf8');
  return timeLeftFromClassAd(adText, readAt);
}
