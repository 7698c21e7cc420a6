/**
 * Runs CWL conformance tests as grid jobs: each test becomes a job of the reference central
 * service, the bundled pilot runs them all, and each uploaded output sandbox is scored by
 * the conformance comparison rules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compareOutputs } from '../conformance/compare.js';
import {
  declaresDockerRequirement,
  isWorkflow,
  loadSuite,
  type ConformanceTest,
} from '../conformance/suite.js';
import { startReferenceService, type ReferenceService } from '../reference-service/index.js';
import { REPOSITORY_ROOT, runPilot, unpackOutputSandbox } from './pilot-harness.js';

const SUITE_DIR = resolve(
  process.env.CWL_CONFORMANCE_SUITE ?? join(REPOSITORY_ROOT, '../shared/cwl-conformance/v1.2'),
);
const MINIMUM_PASSING = 50;

/**
 * Picks the tests that can travel as one job with the shared input sandbox: a tool (not a
 * Workflow) in the suite's `tests/` folder, its job file beside it, and no container.
 */
function selectTests(): ConformanceTest[] {
  return loadSuite(SUITE_DIR).filter((test) => {
    const isToolTest =
      test.tags.includes('command_line_tool') || test.tags.includes('expression_tool');
    const [toolPath, fragment] = test.tool.split('#');
    if (!isToolTest || dirname(toolPath ?? '') !== 'tests') return false;
    if (fragment !== undefined && fragment !== 'main') return false;
    if (test.job !== undefined && dirname(test.job) !== 'tests') return false;
    if (isWorkflow(SUITE_DIR, test.tool) || declaresDockerRequirement(SUITE_DIR, test.tool)) {
      return false;
    }
    return true;
  });
}

function readJobObject(test: ConformanceTest): Record<string, unknown> {
  if (test.job === undefined) return {};
  const value = parseYaml(readFileSync(join(SUITE_DIR, test.job), 'utf8')) as unknown;
  return (value ?? {}) as Record<string, unknown>;
}

describe.skipIf(!existsSync(SUITE_DIR))('pilot on conformance jobs', () => {
  let service: ReferenceService;
  const jobs = new Map<number, ConformanceTest>();

  beforeAll(async () => {
    service = await startReferenceService();
    for (const test of selectTests()) {
      const [toolPath] = test.tool.split('#');
      const id = await service.submitJob({
        label: test.id,
        workflow: readFileSync(join(SUITE_DIR, toolPath as string), 'utf8'),
        workflow_params: readJobObject(test),
        inputSandboxDir: join(SUITE_DIR, 'tests'),
      });
      jobs.set(id, test);
    }
  }, 300_000);

  afterAll(async () => {
    await service?.close();
  });

  it('passes conformance tests through the pilot', { timeout: 1_200_000 }, async () => {
    // Conformance jobs that must fail do so at once, which is not a broken node.
    const run = await runPilot({
      service,
      idleTimeout: 2,
      timeoutMs: 1_100_000,
      args: ['--black-hole-jobs', '0'],
    });
    expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);

    const failures: string[] = [];
    let passed = 0;
    for (const [jobId, test] of jobs) {
      const verdict = await scoreJob(service, jobId, test);
      if (verdict === 'pass') passed += 1;
      else failures.push(`${test.id}: ${verdict}`);
    }
    console.log(`conformance through the pilot: ${passed} of ${jobs.size} tests passed`);
    if (failures.length > 0) console.log(`failing:\n  ${failures.join('\n  ')}`);

    expect(jobs.size).toBeGreaterThanOrEqual(MINIMUM_PASSING);
    expect(passed).toBeGreaterThanOrEqual(MINIMUM_PASSING);
  });
});

async function scoreJob(
  service: ReferenceService,
  jobId: number,
  test: ConformanceTest,
): Promise<string> {
  const job = service.getJob(jobId);
  if (test.should_fail)
    return job.status === 'Failed' ? 'pass' : `expected Failed, got ${job.status}`;
  if (job.status !== 'Done') {
    return `status ${job.status} / ${job.minorStatus} / ${job.applicationStatus}`;
  }
  if (job.outputSandboxes.length !== 1) {
    return `expected one output sandbox, got ${job.outputSandboxes.length}`;
  }
  const unpacked = await unpackOutputSandbox(service, job.outputSandboxes[0] as string);
  const result = compareOutputs(test.output ?? {}, unpacked.outputs);
  return result.ok ? 'pass' : `output mismatch: ${result.reason ?? ''}`;
}
