import { describe, expect, it } from 'vitest';
import { describeYamlError, parseCwlYaml } from '../../src/cwl/yaml.js';

describe('parseCwlYaml', () => {
  it('accepts flow sequence at key column', () => {
    expect(parseCwlYaml('inputs: [a,\nb]\n')).toEqual({ inputs: ['a', 'b'] });
  });

  it('keeps the last value of a repeated key', () => {
    expect(parseCwlYaml('a: 1\na: 2\n')).toEqual({ a: 2 });
  });

  it('keeps YAML 1.1 types as strings', () => {
    expect(parseCwlYaml('d: 2001-12-14\nm: <<\nb: yes\n')).toEqual({
      d: '2001-12-14',
      m: '<<',
      b: 'yes',
    });
  });

  it('reads YAML 1.2 core scalars', () => {
    expect(parseCwlYaml('o: 0o17\nh: 0x1F\nf: 1.5e3\nn: ~\nt: True\n')).toEqual({
      o: 15,
      h: 31,
      f: 1500,
      n: null,
      t: true,
    });
  });
});

describe('describeYamlError', () => {
  it('gives position and excerpt', () => {
    let error: unknown;
    try {
      parseCwlYaml('a: 1\nb: [x,\n  c: : y\n');
    } catch (caught) {
      error = caught;
    }
    const lines = describeYamlError('job.yml', error).split('\n');

    expect(lines[0]).toBe(
      'invalid YAML in job.yml at line 3, column 6: missed comma between flow collection entries',
    );
    expect(lines).toContain('     3 |   c: : y');
    expect(lines.at(-1)).toBe(`    ${'-'.repeat(5 + 5)}^`);
  });

  it('passes other errors through', () => {
    expect(describeYamlError('job.yml', new Error('disk on fire'))).toBe(
      'invalid YAML in job.yml: disk on fire',
    );
  });
});
