import { describe, expect, it } from 'vitest';
import { CwlExecutionError, CwlValidationError } from '../../../src/errors.js';
import { orderSteps } from '../../../src/cwl/workflow/graph.js';
import { mergeSources, pickValue } from '../../../src/cwl/workflow/merge.js';
import { inheritRequirements } from '../../../src/cwl/workflow/requirements.js';
import { expandScatter, reshape } from '../../../src/cwl/workflow/scatter.js';
import { findRequirement } from '../../../src/cwl/model.js';

function node(id: string, ...dependencies: string[]) {
  return { id, name: id, dependencies: new Set(dependencies) };
}

describe('step graph', () => {
  it('orders steps after their sources', () => {
    const ordered = orderSteps([node('c', 'b'), node('b', 'a'), node('a')]);
    expect(ordered.map((step) => step.id)).toEqual(['a', 'b', 'c']);
  });

  it('names every step of a cycle', () => {
    const nodes = [node('a', 'c'), node('b', 'a'), node('c', 'b'), node('d')];
    expect(() => orderSteps(nodes)).toThrow(CwlValidationError);
    expect(() => orderSteps(nodes)).toThrow('steps a -> c -> b -> a form a cycle');
  });
});

describe('linkMerge', () => {
  it('passes one source through', () => {
    expect(mergeSources([[1, 2]], undefined, false, 'x')).toEqual([1, 2]);
  });

  it('nests several sources by default', () => {
    expect(mergeSources([[1], 2], undefined, true, 'x')).toEqual([[1], 2]);
  });

  it('wraps one source with merge_nested', () => {
    expect(mergeSources([[1, 2]], 'merge_nested', false, 'x')).toEqual([[1, 2]]);
  });

  it('flattens with merge_flattened', () => {
    expect(mergeSources([[1, 2], 3, [null]], 'merge_flattened', true, 'x')).toEqual([
      1,
      2,
      3,
      null,
    ]);
  });

  it('rejects an unknown method', () => {
    expect(() => mergeSources([1], 'merge_all', false, 'x')).toThrow(CwlValidationError);
  });
});

describe('pickValue', () => {
  it('picks the first non-null value', () => {
    expect(pickValue([null, 2, 3], 'first_non_null', 'x')).toBe(2);
  });

  it('fails first_non_null on all nulls', () => {
    expect(() => pickValue([null, null], 'first_non_null', 'x')).toThrow(CwlExecutionError);
  });

  it('picks the only non-null value', () => {
    expect(pickValue([null, 'a'], 'the_only_non_null', 'x')).toBe('a');
  });

  it('fails the_only_non_null on two values', () => {
    expect(() => pickValue([1, 2], 'the_only_non_null', 'x')).toThrow('2 sources are not null');
  });

  it('fails the_only_non_null on all nulls', () => {
    expect(() => pickValue([null], 'the_only_non_null', 'x')).toThrow('every source is null');
  });

  it('keeps all non-null values', () => {
    expect(pickValue([null, 1, null, 2], 'all_non_null', 'x')).toEqual([1, 2]);
  });

  it('gives an empty list when all are null', () => {
    expect(pickValue([null], 'all_non_null', 'x')).toEqual([]);
  });
});

describe('scatter', () => {
  const inputs = { a: [1, 2], b: ['x', 'y', 'z'], c: 'kept' };

  it('pairs items with dotproduct', () => {
    const plan = expandScatter({ a: [1, 2], b: [3, 4] }, ['a', 'b'], 'dotproduct', 's');
    expect(plan.jobs).toEqual([
      { a: 1, b: 3 },
      { a: 2, b: 4 },
    ]);
    expect(plan.shape).toEqual([2]);
  });

  it('rejects dotproduct of unequal lengths', () => {
    expect(() => expandScatter(inputs, ['a', 'b'], 'dotproduct', 's')).toThrow(
      '"a" has 2 items and "b" has 3',
    );
  });

  it('nests results with nested_crossproduct', () => {
    const plan = expandScatter(inputs, ['a', 'b'], 'nested_crossproduct', 's');
    expect(plan.jobs).toHaveLength(6);
    expect(plan.jobs[1]).toEqual({ a: 1, b: 'y', c: 'kept' });
    expect(plan.shape).toEqual([2, 3]);
    const names = plan.jobs.map((job) => `${job.a}${job.b}`);
    expect(reshape(names, plan.shape)).toEqual([
      ['1x', '1y', '1z'],
      ['2x', '2y', '2z'],
    ]);
  });

  it('keeps results flat with flat_crossproduct', () => {
    const plan = expandScatter(inputs, ['a', 'b'], 'flat_crossproduct', 's');
    expect(plan.shape).toEqual([6]);
    expect(
      reshape(
        plan.jobs.map((job) => job.a),
        plan.shape,
      ),
    ).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('gives empty arrays for an empty scatter', () => {
    const plan = expandScatter({ a: [], b: [1, 2] }, ['b', 'a'], 'nested_crossproduct', 's');
    expect(plan.jobs).toEqual([]);
    expect(reshape([], plan.shape)).toEqual([[], []]);
  });

  it('rejects a scattered value that is not an array', () => {
    expect(() => expandScatter(inputs, ['c'], undefined, 's')).toThrow(CwlExecutionError);
  });
});

describe('requirement inheritance', () => {
  const env = (value: string) => ({
    class: 'EnvVarRequirement',
    envDef: [{ envName: 'V', envValue: value }],
  });

  it('prefers the process over the step over the workflow', () => {
    const merged = inheritRequirements(
      { requirements: [env('workflow')] },
      { requirements: [env('step')] },
      { requirements: [env('tool')] },
    );
    expect(findRequirement(merged, 'EnvVarRequirement')?.requirement).toEqual(env('tool'));
  });

  it('prefers the step over the workflow', () => {
    const merged = inheritRequirements(
      { requirements: [env('workflow')] },
      { requirements: [env('step')] },
      {},
    );
    expect(findRequirement(merged, 'EnvVarRequirement')?.requirement).toEqual(env('step'));
  });

  it('prefers an inherited requirement over a process hint', () => {
    const merged = inheritRequirements(
      { requirements: [env('workflow')] },
      {},
      { hints: [env('tool')] },
    );
    const found = findRequirement(merged, 'EnvVarRequirement');
    expect(found?.requirement).toEqual(env('workflow'));
    expect(found?.isHint).toBe(false);
  });

  it('prefers the process hint over inherited hints', () => {
    const merged = inheritRequirements(
      { hints: [env('workflow')] },
      { hints: [env('step')] },
      { hints: [env('tool')] },
    );
    expect(findRequirement(merged, 'EnvVarRequirement')?.requirement).toEqual(env('tool'));
  });
});
