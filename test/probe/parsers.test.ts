import { describe, expect, it } from 'vitest';
import { microarchitectureLevel, parseSlurmTimeLeft } from '../../src/probe/index.js';
import { osReleaseTag } from '../../src/probe/platform.js';

describe('parseSlurmTimeLeft', () => {
  const table: [string, number | null | undefined][] = [
    ['1-02:03:04', 93_784],
    ['2:03:04', 7_384],
    ['45:00', 2_700],
    ['0:30', 30],
    ['12', 720],
    ['3-00:00:00', 259_200],
    ['1-12', 129_600],
    ['1-12:30', 131_400],
    ['  10:00:00\n', 36_000],
    ['UNLIMITED', null],
    ['NOT_SET', null],
    ['INVALID', 0],
    ['', undefined],
    ['soon', undefined],
    ['1:2:3:4', undefined],
  ];
  for (const [text, expected] of table) {
    it(`parses ${JSON.stringify(text)}`, () => {
      expect(parseSlurmTimeLeft(text)).toBe(expected);
    });
  }
});

describe('microarchitectureLevel', () => {
  const baseline = 'fpu cx8 cmov mmx fxsr sse sse2 syscall lm';
  const v2 = `${baseline} pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm`;
  const v3 = `${v2} avx avx2 bmi1 bmi2 f16c fma abm movbe xsave`;
  const v4 = `${v3} avx512f avx512bw avx512cd avx512dq avx512vl`;
  const table: [string, string, number][] = [
    ['a baseline CPU', `flags\t\t: ${baseline}`, 1],
    ['a Nehalem-like CPU', `flags\t\t: ${v2}`, 2],
    ['a Haswell-like CPU', `flags\t\t: ${v3}`, 3],
    ['an AVX-512 CPU', `flags\t\t: ${v4}`, 4],
    ['AVX-512 without v3', `flags\t\t: ${v2} avx512f avx512bw avx512cd avx512dq avx512vl`, 2],
    ['v3 without movbe', `flags\t\t: ${v3.replace(' movbe', '')}`, 2],
    ['no SSE2', 'flags\t\t: fpu cx8 cmov mmx fxsr sse syscall', 0],
    ['a bare flag list', v3, 3],
  ];
  for (const [name, line, level] of table) {
    it(`gives ${level} for ${name}`, () => {
      expect(microarchitectureLevel(line)).toBe(level);
    });
  }
});

describe('osReleaseTag', () => {
  const table: [string, string, string | undefined][] = [
    ['Debian 12', 'ID=debian\nVERSION_ID="12"\n', 'os:debian12'],
    ['Rocky 9.3', 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\n', 'os:rocky9'],
    ['Ubuntu 22.04', 'ID=ubuntu\nVERSION_ID="22.04"\n', 'os:ubuntu22'],
    ['AlmaLinux with quotes', "ID='almalinux'\nVERSION_ID='8.9'\n", 'os:almalinux8'],
    ['Debian testing', 'ID=debian\n', 'os:debian'],
    ['no ID', 'NAME=Something\nVERSION_ID=1\n', undefined],
  ];
  for (const [name, text, expected] of table) {
    it(`reads ${name}`, () => {
      expect(osReleaseTag(text)).toBe(expected);
    });
  }
});
