import { describe, expect, it } from 'vitest';
import { randomHex, randomUuid } from '../../src/cwl/names.js';

describe('randomHex', () => {
  it.each([1, 8, 12, 16, 33])('gives %i hexadecimal digits', (digits) => {
    expect(randomHex(digits)).toMatch(new RegExp(`^[0-9a-f]{${digits}}$`));
  });

  it('differs between calls', () => {
    const names = new Set(Array.from({ length: 10_000 }, () => randomHex(12)));
    expect(names.size).toBe(10_000);
  });
});

describe('randomUuid', () => {
  it('has the version 4 form', () => {
    for (let i = 0; i < 1000; i += 1) {
      expect(randomUuid()).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
  });
});
