import { readFile } from 'node:fs/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressSnapshot } from '../../../src/cwl/index.js';
import { Scratch } from '../helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('cwl-scatter-scale-');
});

afterAll(async () => {
  await scratch.remove();
});

const JOBS = 1000;
const EARLY_SAMPLE = 250;

/**
 * Maximum heap growth per finished job between the two samples, in bytes. Each finished job's
 * output (its File object, the object's strings and the settled promise, about 1 KiB in a heap
 * snapshot) stays alive until the step ends, because it becomes an item of the step's output
 * array. Each job still queued or running holds about 1.7 KiB that it releases when it ends.
 * The net growth measured -0.9 to +0.12 KiB per job, and keeping each job's ProcessRun alive
 * on purpose added about 0.85 KiB (vitest 4, Node 20.20, 2 cores).
 * NOTE: because queued jobs release memory as they end, only leaks of more than about
 * 1.4 KiB per finished job are certain to fail this bound.
 */
const MAX_GROWTH_PER_JOB = 512;

/** Workflow that echoes each integer of `numbers` into its own stdout file, one job each. */
const WORKFLOW = `class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  numbers: int[]
outputs:
  printed:
    type: File[]
    outputSource: echo/out
steps:
  echo:
    scatter: i
    in:
      i: numbers
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        i:
          type: int
          inputBinding: {}
      outputs:
        out: stdout
      stdout: out-$(inputs.i).txt
`;

/**
 * Returns V8's garbage collector, exposed at run time so the test needs no Node flag. Throws
 * when V8 no longer exposes it this way, in which case run vitest with `--expose-gc`.
 */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('gc');
  if (typeof gc !== 'function') throw new TypeError('gc is not exposed: run with --expose-gc');
  return gc as () => void;
}

/** Returns the heap in use, in bytes, after a full collection. */
function measureHeap(gc: () => void): number {
  gc();
  return process.memoryUsage().heapUsed;
}

describe('scatter of 1,000 jobs', () => {
  it('returns every output and keeps the heap flat', { timeout: 60_000 }, async () => {
    const gc = exposeGc();
    const numbers = Array.from({ length: JOBS }, (_, index) => index);
    const heapAt = new Map<number, number>();
    const onProgress = (snapshot: ProgressSnapshot): void => {
      const done = snapshot.steps.find((step) => step.name === 'echo')?.jobs.done ?? 0;
      if ((done === EARLY_SAMPLE || done === JOBS) && !heapAt.has(done)) {
        heapAt.set(done, measureHeap(gc));
      }
    };

    const result = await scratch.run(
      'scatter-scale.cwl',
      WORKFLOW,
      { numbers },
      { parallel: true, onProgress },
    );

    expect(result.status).toBe('success');
    const printed = result.outputs.printed as Array<{ path: string; basename: string }>;
    expect(printed).toHaveLength(JOBS);
    const wrong: string[] = [];
    for (const [index, file] of printed.entries()) {
      const text = await readFile(file.path, 'utf8');
      if (file.basename !== `out-${index}.txt` || text !== `${index}\n`) {
        wrong.push(`${index}: ${file.basename} contains ${JSON.stringify(text)}`);
      }
    }
    expect(wrong).toEqual([]);

    const early = heapAt.get(EARLY_SAMPLE);
    const late = heapAt.get(JOBS);
    expect(early).toBeDefined();
    expect(late).toBeDefined();
    const growthPerJob = ((late ?? 0) - (early ?? 0)) / (JOBS - EARLY_SAMPLE);
    const message = `heap growth of ${Math.round(growthPerJob)} bytes per finished job`;
    expect(growthPerJob, message).toBeLessThan(MAX_GROWTH_PER_JOB);
  });
});
