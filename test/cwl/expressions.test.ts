import { describe, expect, it } from 'vitest';
import { CwlExecutionError, CwlValidationError } from '../../src/errors.js';
import {
  evaluateExpression,
  isExpression,
  toInterpolationText,
  type ExpressionContext,
} from '../../src/cwl/expressions.js';
import { scanTemplate } from '../../src/cwl/expressions-scan.js';

const context: ExpressionContext = {
  inputs: {
    sample: 'gamma_run42',
    count: 3,
    ratio: 0.25,
    enabled: false,
    nothing: null,
    bands: ['low', 'mid', 'high'],
    camera: {
      name: 'LSTCam',
      'pixel size': 0.1,
      "it's": 'quoted',
      'say "hi"': 'double',
      length: 1855,
      modules: [{ id: 7 }],
    },
    events: { length: { total: 12 } },
    café: 'unicode key',
    input_file: { class: 'File', location: 'file:///data/run.fits', basename: 'run.fits' },
  },
  self: ['a.fits', 'b.fits'],
  runtime: { outdir: '/scratch/out', tmpdir: '/scratch/tmp', cores: 4, ram: 2048 },
};

const references = { javascript: false };

function evaluate(text: string, javascript = false): unknown {
  return evaluateExpression(text, context, { javascript });
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('isExpression', () => {
  it.each([
    ['$(inputs.sample)', true],
    ['${ return 1; }', true],
    ['prefix $(inputs.sample) suffix', true],
    ['\\$(not evaluated)', true],
    ['plain text', false],
    ['cost: $5 (estimate)', false],
    ['$ (spaced)', false],
    ['{braces} and (parens)', false],
  ])('classifies %j', (text, expected) => {
    expect(isExpression(text)).toBe(expected);
  });
});

describe('parameter references', () => {
  it.each<[string, unknown]>([
    ['$(inputs.sample)', 'gamma_run42'],
    ['$(inputs.count)', 3],
    ['$(inputs.ratio)', 0.25],
    ['$(inputs.enabled)', false],
    ['$(inputs.nothing)', null],
    ["$(inputs['sample'])", 'gamma_run42'],
    ['$(inputs["sample"])', 'gamma_run42'],
    ['$(inputs.bands[0])', 'low'],
    ['$(inputs.bands[2])', 'high'],
    ['$(inputs.bands.length)', 3],
    ["$(inputs.camera['pixel size'])", 0.1],
    ["$(inputs.camera['it\\'s'])", 'quoted'],
    ['$(inputs.camera["it\'s"])', 'quoted'],
    ['$(inputs.camera[\'say "hi"\'])', 'double'],
    ['$(inputs.camera.modules[0].id)', 7],
    ['$(inputs["camera"].modules[0]["id"])', 7],
    ['$(inputs.camera.length)', 1855],
    ['$(inputs.events.length.total)', 12],
    ['$(inputs.café)', 'unicode key'],
    ['$(inputs.input_file.basename)', 'run.fits'],
    ['$(inputs.sample[0])', 'g'],
    ['$(self.length)', 2],
    ['$(self[1])', 'b.fits'],
    ['$(runtime.outdir)', '/scratch/out'],
    ['$(runtime.cores)', 4],
    ['$(null)', null],
  ])('resolves %s', (text, expected) => {
    expect(evaluate(text)).toEqual(expected);
  });

  it('returns whole objects and arrays as they are', () => {
    const inputs = context.inputs as Record<string, unknown>;
    expect(evaluate('$(inputs.bands)')).toBe(inputs.bands);
    expect(evaluate('$(inputs)')).toBe(inputs);
  });

  it('treats a missing self as null', () => {
    const value = evaluateExpression(
      '$(self)',
      { inputs: {}, self: undefined, runtime: {} },
      references,
    );
    expect(value).toBeNull();
  });

  it.each<[string, RegExp]>([
    ['$(inputs.missing)', /inputs has no field "missing"/],
    ['$(inputs.bands[3])', /index \[3\] is out of range: inputs\.bands has 3/],
    ['$(inputs.count.length)', /inputs\.count is a number, so it has no field "length"/],
    ['$(inputs.sample.length)', /inputs\.sample is a string, so it has no field "length"/],
    ['$(inputs.camera[0])', /inputs\.camera is an object, so it has no index \[0\]/],
    ['$(inputs.bands.first)', /inputs\.bands is an array, so it has no field "first"/],
    ['$(inputs.nothing.x)', /inputs\.nothing is null, so it has no field "x"/],
    ['$(null.something)', /null has no fields or elements/],
    ['$(outputs.x)', /"outputs" is not defined; use inputs, self or runtime/],
    ['$(inputs.constructor)', /inputs has no field "constructor"/],
  ])('rejects %s', (text, reason) => {
    const error = thrown(() => evaluate(text));
    expect(error).toBeInstanceOf(CwlExecutionError);
    expect((error as CwlExecutionError).code).toBe('CWL_EXPRESSION_FAILED');
    expect((error as Error).message).toContain(text);
    expect((error as Error).message).toMatch(reason);
  });

  it.each([
    '$(inputs.count + 1)',
    '$(inputs.bands.join(","))',
    '$(inputs.bands[-1])',
    '$(inputs..sample)',
    '$( inputs.sample )',
    '${ return inputs.sample; }',
  ])('needs InlineJavascriptRequirement for %s', (text) => {
    const error = thrown(() => evaluate(text));
    expect(error).toBeInstanceOf(CwlValidationError);
    expect((error as CwlValidationError).code).toBe('CWL_EXPRESSION_INVALID');
    expect((error as Error).message).toContain('InlineJavascriptRequirement');
  });
});

describe('string interpolation', () => {
  it.each<[string, unknown]>([
    ['run-$(inputs.sample).fits', 'run-gamma_run42.fits'],
    ['$(inputs.sample)-$(inputs.count)', 'gamma_run42-3'],
    ['n=$(inputs.count) r=$(inputs.ratio) on=$(inputs.enabled)', 'n=3 r=0.25 on=false'],
    ['value: $(inputs.nothing)', 'value: null'],
    ['bands $(inputs.bands)', 'bands ["low", "mid", "high"]'],
    ['module $(inputs.camera.modules[0])', 'module {"id": 7}'],
    ['-$(inputs.camera.modules)', '-[{"id": 7}]'],
    ['$(self) and more', '["a.fits", "b.fits"] and more'],
    ['$(inputs.sample)$(inputs.sample)', 'gamma_run42gamma_run42'],
    ['cost $5 and $(inputs.count)', 'cost $5 and 3'],
    ['$$(inputs.count)', '$3'],
  ])('interpolates %s', (text, expected) => {
    expect(evaluate(text)).toEqual(expected);
  });

  it('writes object keys in sorted order', () => {
    const value = evaluateExpression(
      'x=$(inputs.record)',
      { inputs: { record: { zeta: 1, alpha: { b: true, a: [] } } }, self: null, runtime: {} },
      references,
    );
    expect(value).toBe('x={"alpha": {"a": [], "b": true}, "zeta": 1}');
  });

  it('writes every digit of a bigint', () => {
    const big = { inputs: { id: 2n ** 62n + 1n }, self: null, runtime: {} };
    expect(evaluateExpression('id=$(inputs.id)', big, references)).toBe('id=4611686018427387905');
    expect(evaluateExpression('$(inputs.id)', big, references)).toBe(2n ** 62n + 1n);
  });

  it('returns the raw value when whitespace surrounds one reference', () => {
    expect(evaluate('  $(inputs.count)\n')).toBe(3);
    expect(evaluate('\t$(inputs.bands)  ')).toEqual(['low', 'mid', 'high']);
  });

  it('trims whitespace around interpolated text', () => {
    expect(evaluate('  n=$(inputs.count)  \n')).toBe('n=3');
  });

  it('keeps whitespace when trimming is off', () => {
    const options = { javascript: false, trimWhitespace: false };
    expect(evaluateExpression('$(inputs.count)\n', context, options)).toBe('3\n');
    expect(evaluateExpression(' $(inputs.sample)', context, options)).toBe(' gamma_run42');
  });

  it('returns text without expressions untouched', () => {
    expect(evaluate('  plain \\\\ text \\n ')).toBe('  plain \\\\ text \\n ');
  });
});

describe('escapes', () => {
  it.each<[string, string]>([
    ['\\$(inputs.sample)', '$(inputs.sample)'],
    ['\\${inputs.sample}', '${inputs.sample}'],
    ['\\\\$(inputs.sample)', '\\gamma_run42'],
    ['\\\\\\$(inputs.sample)', '\\$(inputs.sample)'],
    ['\\\\\\\\$(inputs.sample)', '\\\\gamma_run42'],
    ['a\\b $(inputs.count)', 'a\\b 3'],
    ['trailing $(inputs.count) \\', 'trailing 3 \\'],
    ['\\$ and $(inputs.count)', '\\$ and 3'],
    ['echo \\$(date) $(inputs.count)', 'echo $(date) 3'],
  ])('turns %j into %j', (text, expected) => {
    expect(evaluate(text)).toBe(expected);
  });
});

describe('scanTemplate', () => {
  it.each<[string, string]>([
    ['$(a(b)c)', 'a(b)c'],
    ['$(a[")"])', 'a[")"]'],
    ["$(a[')'])", "a[')']"],
    ['$("\\")")', '"\\")"'],
    ['${ if (x) { return "}"; } }', ' if (x) { return "}"; } '],
    ['$(`)${")"}`)', '`)${")"}`'],
    ['$(`${`${"}"}`}`)', '`${`${"}"}`}`'],
    ['${ return 1; // closing ) and }\n}', ' return 1; // closing ) and }\n'],
    ['${ /* ) } */ return 2; }', ' /* ) } */ return 2; '],
    ['${ /* 2 * ) } **/ return 2; }', ' /* 2 * ) } **/ return 2; '],
    ['$(x.replace(/\\)/g, "]"))', 'x.replace(/\\)/g, "]")'],
    ['$(x.match(/[)}]/))', 'x.match(/[)}]/)'],
    ['$(a / b / c)', 'a / b / c'],
    ['$((a) / 2)', '(a) / 2'],
  ])('finds the end of %j', (text, code) => {
    const parts = scanTemplate(text);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ kind: 'expression', code, source: text });
  });

  it('splits text and expressions in order', () => {
    const parts = scanTemplate('a $(x) b ${ return 1 } c');
    expect(parts.map((part) => part.kind)).toEqual([
      'text',
      'expression',
      'text',
      'expression',
      'text',
    ]);
    expect(parts[3]).toMatchObject({ isFunctionBody: true, code: ' return 1 ' });
  });

  it.each(['$(inputs.x', '${ return 1;', '$(f("a)', '$(a]', '$(`abc)', '${ /* open'])(
    'rejects the malformed %j',
    (text) => {
      const error = thrown(() => scanTemplate(text));
      expect(error).toBeInstanceOf(CwlValidationError);
      expect((error as CwlValidationError).code).toBe('CWL_EXPRESSION_INVALID');
      expect((error as Error).message).toContain(text.slice(0, 6));
    },
  );
});

describe('toInterpolationText', () => {
  it.each<[unknown, string]>([
    ['text', 'text'],
    [12, '12'],
    [-0.5, '-0.5'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'null'],
    [[1, 'two', null], '[1, "two", null]'],
    [{ b: 1, a: 'x' }, '{"a": "x", "b": 1}'],
    [{ skipped: undefined, kept: 1 }, '{"kept": 1}'],
    [[undefined], '[null]'],
    [Number.NaN, 'null'],
    ['quote " stays', 'quote " stays'],
    [['quote "'], '["quote \\""]'],
  ])('writes %j as %j', (value, expected) => {
    expect(toInterpolationText(value)).toBe(expected);
  });

  it('writes a bigint with all its digits', () => {
    expect(toInterpolationText(12345678901234567890n)).toBe('12345678901234567890');
    expect(toInterpolationText({ id: 2n ** 63n - 1n })).toBe('{"id": 9223372036854775807}');
  });
});
