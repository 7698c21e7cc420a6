import { describe, expect, it } from 'vitest';
import { CwlValidationError } from '../../src/errors.js';
import {
  applyDefaultsAndCheck,
  checkValue,
  describeType,
  shortName,
  type TypeCheckOptions,
} from '../../src/cwl/types.js';

const base = 'file:///jobs/calibrate.cwl';

const telescope = {
  type: 'record',
  name: `${base}#Telescope`,
  fields: [
    { name: `${base}#Telescope/id`, type: 'int' },
    { name: `${base}#Telescope/kind`, type: `${base}#Kind` },
    { name: `${base}#Telescope/mirror_area`, type: ['null', 'float'] },
  ],
};
const kind = {
  type: 'enum',
  name: `${base}#Kind`,
  symbols: [`${base}#Kind/LST`, `${base}#Kind/MST`, `${base}#Kind/SST`],
};
const schemaDefs = new Map<string, unknown>([
  [`${base}#Telescope`, telescope],
  [`${base}#Kind`, kind],
]);

const file = { class: 'File', location: 'file:///data/run.fits' };
const directory = { class: 'Directory', location: 'file:///data/calib' };

function check(type: unknown, value: unknown, options: TypeCheckOptions = {}): unknown {
  return checkValue(type, value, { schemaDefs, path: 'inputs.x', ...options });
}

function failure(action: () => unknown): CwlValidationError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CwlValidationError);
    expect((error as CwlValidationError).code).toBe('CWL_INVALID_INPUT');
    return error as CwlValidationError;
  }
  throw new Error('expected a validation error');
}

describe('shortName', () => {
  it.each([
    ['file:///x/tool.cwl#input/field', 'field'],
    ['#main/reads', 'reads'],
    ['reads', 'reads'],
    ['file:///x/tool.cwl#Kind', 'Kind'],
    ['http://www.w3.org/2001/XMLSchema#string', 'string'],
    ['https://example.org/a/b', 'b'],
    ['#', '#'],
  ])('takes %s to %s', (iri, expected) => {
    expect(shortName(iri)).toBe(expected);
  });
});

describe('primitive types', () => {
  it.each<[unknown, unknown, unknown]>([
    ['null', null, null],
    ['null', undefined, null],
    ['boolean', true, true],
    ['boolean', false, false],
    ['int', 0, 0],
    ['int', -42, -42],
    ['int', 2147483647, 2147483647],
    ['int', -2147483648, -2147483648],
    ['long', 2147483648, 2147483648],
    ['long', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['float', 1.5, 1.5],
    ['float', 2, 2],
    ['double', -1e300, -1e300],
    ['string', '', ''],
    ['string', 'gamma', 'gamma'],
    ['Any', 0, 0],
    ['Any', 'text', 'text'],
    ['Any', [1, 'a'], [1, 'a']],
    ['http://www.w3.org/2001/XMLSchema#int', 7, 7],
    ['https://w3id.org/cwl/salad#null', null, null],
    ['https://w3id.org/cwl/cwl#File', file, file],
  ])('accepts %s %j', (type, value, expected) => {
    expect(check(type, value)).toEqual(expected);
  });

  it.each<[unknown, unknown]>([
    ['null', 0],
    ['boolean', 'true'],
    ['boolean', 1],
    ['int', 1.5],
    ['int', '3'],
    ['int', 2147483648],
    ['int', -2147483649],
    ['long', 0.5],
    ['long', 2 ** 64],
    ['float', '1.5'],
    ['double', null],
    ['string', 5],
    ['string', null],
    ['Any', null],
  ])('rejects %s %j', (type, value) => {
    const error = failure(() => check(type, value));
    expect(error.message).toContain('inputs.x');
    expect(error.message).toContain(`expected ${type}`);
  });

  it('keeps a long beyond 2^53 as a bigint', () => {
    expect(check('long', 2n ** 62n)).toBe(2n ** 62n);
    expect(check('long', -(2n ** 63n))).toBe(-(2n ** 63n));
  });

  it('turns a safe bigint into a number', () => {
    expect(check('long', 12n)).toBe(12);
    expect(check('int', -5n)).toBe(-5);
    expect(check('double', 3n)).toBe(3);
  });

  it('rejects a bigint out of range', () => {
    expect(failure(() => check('long', 2n ** 63n)).message).toContain('out of range');
    expect(failure(() => check('int', 2n ** 31n)).message).toContain('out of range');
  });
});

describe('File and Directory', () => {
  it.each<[string, unknown]>([
    ['File', file],
    ['File', { class: 'File', path: '/data/run.fits' }],
    ['File', { class: 'File', contents: 'literal', basename: 'a.txt' }],
    ['File', { ...file, secondaryFiles: [{ class: 'File', location: 'file:///data/run.idx' }] }],
    ['File', { ...file, secondaryFiles: [directory] }],
    ['stdout', file],
    ['stderr', file],
    ['Directory', directory],
    ['Directory', { class: 'Directory', path: '/data/calib' }],
    ['Directory', { class: 'Directory', basename: 'new', listing: [file] }],
  ])('accepts a %s', (type, value) => {
    expect(check(type, value)).toBe(value);
  });

  it.each<[string, unknown, string, string]>([
    ['File', 'file:///data/run.fits', 'inputs.x', 'with "class": "File"'],
    ['File', { location: 'file:///x' }, 'inputs.x', 'with "class": "File"'],
    ['File', directory, 'inputs.x', 'with "class": "File"'],
    ['File', { class: 'File' }, 'inputs.x', 'needs "location", "path" or "contents"'],
    ['File', { class: 'File', location: 5 }, 'inputs.x.location', 'expected string'],
    [
      'File',
      { ...file, secondaryFiles: ['x'] },
      'inputs.x.secondaryFiles[0]',
      'expected File | Directory',
    ],
    ['Directory', file, 'inputs.x', 'with "class": "Directory"'],
    [
      'Directory',
      { class: 'Directory', contents: 'x' },
      'inputs.x',
      'needs "location", "path" or "listing"',
    ],
    [
      'Directory',
      { ...directory, listing: [{ class: 'File' }] },
      'inputs.x.listing[0]',
      'expected',
    ],
  ])('rejects a %s given %j', (type, value, path, detail) => {
    const error = failure(() => check(type, value));
    expect(error.message).toContain(`Invalid value for ${path}:`);
    expect(error.message).toContain(detail);
  });
});

describe('arrays', () => {
  it.each<[unknown, unknown]>([
    [{ type: 'array', items: 'int' }, [1, 2, 3]],
    [{ type: 'array', items: 'int' }, []],
    [{ type: 'array', items: ['int', 'string'] }, [1, 'two']],
    [{ type: 'array', items: { type: 'array', items: 'string' } }, [['a'], [], ['b', 'c']]],
    [{ type: 'array', items: 'File' }, [file, file]],
    ['string[]', ['a', 'b']],
    ['int[]?', null],
    ['int[]?', [4]],
  ])('accepts %j', (type, value) => {
    expect(check(type, value)).toEqual(value);
  });

  it('names the failing element', () => {
    const type = { type: 'array', items: { type: 'array', items: 'int' } };
    const error = failure(() => check(type, [[1], [2, 'three']], { path: 'inputs.reads' }));
    expect(error.message).toContain('inputs.reads[1][1]');
    expect(error.message).toContain('expected int, got "three"');
  });

  it('rejects a single value for an array', () => {
    const error = failure(() => check('string[]', 'a'));
    expect(error.message).toContain('expected array of string, got "a"');
  });
});

describe('records', () => {
  it('accepts a record and normalises its enum field', () => {
    const value = check(`${base}#Telescope`, { id: 4, kind: 'LST', mirror_area: null });
    expect(value).toEqual({ id: 4, kind: 'LST', mirror_area: null });
  });

  it('resolves a named type by its short name', () => {
    expect(check('Telescope', { id: 1, kind: 'SST' })).toEqual({ id: 1, kind: 'SST' });
    expect(check('#Telescope', { id: 1, kind: 'SST' })).toEqual({ id: 1, kind: 'SST' });
  });

  it('keeps fields the type does not declare', () => {
    expect(check('Telescope', { id: 1, kind: 'MST', site: 'north' })).toEqual({
      id: 1,
      kind: 'MST',
      site: 'north',
    });
  });

  it('returns a new object', () => {
    const value = { id: 1, kind: `${base}#Kind/MST` };
    const checked = check('Telescope', value);
    expect(checked).toEqual({ id: 1, kind: 'MST' });
    expect(value.kind).toBe(`${base}#Kind/MST`);
  });

  it.each<[unknown, string, string]>([
    [{ id: 'four', kind: 'LST' }, 'inputs.x.id', 'expected int, got "four"'],
    [{ kind: 'LST' }, 'inputs.x.id', 'missing required field'],
    [{ id: 1, kind: 'XST' }, 'inputs.x.kind', 'expected enum Kind [LST, MST, SST], got "XST"'],
    [{ id: 1, kind: 'LST', mirror_area: 'big' }, 'inputs.x.mirror_area', 'expected null | float'],
    [[1, 'LST'], 'inputs.x', 'expected record Telescope'],
    ['LST', 'inputs.x', 'expected record Telescope'],
  ])('rejects %j', (value, path, detail) => {
    const error = failure(() => check('Telescope', value));
    expect(error.message).toContain(`Invalid value for ${path}:`);
    expect(error.message).toContain(detail);
  });

  it('accepts the map form of fields', () => {
    const type = {
      type: 'record',
      fields: {
        zenith: 'float',
        label: { type: 'string?', doc: 'free text' },
        mode: { type: 'enum', symbols: ['fast', 'full'] },
      },
    };
    expect(check(type, { zenith: 20, mode: 'fast' })).toEqual({ zenith: 20, mode: 'fast' });
    const error = failure(() => check(type, { zenith: 20, mode: 'slow' }));
    expect(error.message).toContain('inputs.x.mode');
  });

  it('quotes field names that are not identifiers', () => {
    const type = { type: 'record', fields: [{ name: '#r/pixel size', type: 'int' }] };
    const error = failure(() => check(type, { 'pixel size': 'x' }));
    expect(error.message).toContain('inputs.x["pixel size"]');
  });

  it('checks a recursive named type', () => {
    const node = {
      type: 'record',
      name: '#Node',
      fields: [
        { name: '#Node/label', type: 'string' },
        { name: '#Node/children', type: ['null', { type: 'array', items: '#Node' }] },
      ],
    };
    const defs = new Map<string, unknown>([['#Node', node]]);
    const tree = { label: 'a', children: [{ label: 'b', children: [{ label: 'c' }] }] };
    expect(check('#Node', tree, { schemaDefs: defs })).toEqual(tree);
    const bad = { label: 'a', children: [{ label: 'b', children: [{ label: 3 }] }] };
    const error = failure(() => check('#Node', bad, { schemaDefs: defs }));
    expect(error.message).toContain('inputs.x.children[0].children[0].label');
  });

  it('stops at a type that names itself', () => {
    const defs = new Map<string, unknown>([['#Loop', '#Loop']]);
    const error = failure(() => check('#Loop', 1, { schemaDefs: defs }));
    expect(error.message).toContain('nested deeper than 200 levels');
  });
});

describe('enums', () => {
  it.each<[unknown, string]>([
    ['LST', 'LST'],
    [`${base}#Kind/MST`, 'MST'],
  ])('normalises %j', (value, expected) => {
    expect(check('Kind', value)).toBe(expected);
  });

  it.each([['lst'], [1], [null]])('rejects %j', (value) => {
    const error = failure(() => check('Kind', value));
    expect(error.message).toContain('expected enum Kind [LST, MST, SST]');
  });
});

describe('unions', () => {
  it.each<[unknown, unknown, unknown]>([
    [['null', 'int'], null, null],
    [['null', 'int'], 5, 5],
    [['int', 'string'], 'five', 'five'],
    [['string', 'int'], 5, 5],
    [['null', 'File', 'Directory'], directory, directory],
    [['null', { type: 'array', items: 'string' }], ['a'], ['a']],
    [['int', 'Kind'], 'SST', 'SST'],
    ['string?', null, null],
    ['string?', 'a', 'a'],
  ])('accepts %j with %j', (type, value, expected) => {
    expect(check(type, value)).toEqual(expected);
  });

  it('takes the first member that matches', () => {
    expect(check(['long', 'double'], 3)).toBe(3);
    expect(check(['Any', 'Kind'], `${base}#Kind/LST`)).toBe(`${base}#Kind/LST`);
    expect(check(['Kind', 'Any'], `${base}#Kind/LST`)).toBe('LST');
  });

  it('lists every member when none matches', () => {
    const error = failure(() => check(['null', 'int', 'string'], 1.5));
    expect(error.message).toContain('expected null | int | string, got 1.5');
  });

  it('reports the inner failure of the closest member', () => {
    const error = failure(() => check(['null', 'Telescope'], { id: 1, kind: 'BIG' }));
    expect(error.message).toContain('inputs.x.kind');
  });
});

describe('unknown types', () => {
  it('names a missing SchemaDefRequirement type', () => {
    const error = failure(() => check('#Missing', 1));
    expect(error.message).toContain('no such type: declare it in SchemaDefRequirement');
  });

  it('rejects a type that is not a CWL type', () => {
    expect(failure(() => check(42, 1)).message).toContain('not a CWL type');
    expect(failure(() => check({ items: 'int' }, [1])).message).toContain('no "type" field');
  });
});

describe('error messages', () => {
  it('shortens long values', () => {
    const error = failure(() => check('int', 'x'.repeat(500)));
    expect(error.message).toContain('...');
    expect(error.message.length).toBeLessThan(250);
  });

  it('says what to do', () => {
    expect(failure(() => check('int', 'x')).message).toContain('Change the input object');
  });

  it('defaults the path to value', () => {
    const error = failure(() => checkValue('int', 'x'));
    expect(error.message).toContain('Invalid value for value:');
  });
});

describe('describeType', () => {
  it.each<[unknown, string]>([
    ['int', 'int'],
    [['null', 'File'], 'null | File'],
    [{ type: 'array', items: 'string' }, 'array of string'],
    [{ type: 'array', items: ['int', 'string'] }, 'array of (int | string)'],
    [telescope, 'record Telescope'],
    [{ type: 'record', fields: [] }, 'record'],
    [kind, 'enum Kind [LST, MST, SST]'],
    [{ type: 'int' }, 'int'],
  ])('describes %j', (type, expected) => {
    expect(describeType(type)).toBe(expected);
  });
});

describe('applyDefaultsAndCheck', () => {
  const parameters = [
    { id: '#main/run', type: 'File' },
    { id: '#main/threshold', type: 'float', default: 0.5 },
    { id: '#main/label', type: 'string?' },
    { id: '#main/telescope', type: 'Telescope', default: { id: 1, kind: `${base}#Kind/LST` } },
    { id: '#main/bands', type: { type: 'array', items: 'string' }, default: ['low'] },
  ];

  it('applies defaults to missing and null values', () => {
    const result = applyDefaultsAndCheck(
      parameters,
      { run: file, threshold: null },
      { schemaDefs },
    );
    expect(result).toEqual({
      run: file,
      threshold: 0.5,
      label: null,
      telescope: { id: 1, kind: 'LST' },
      bands: ['low'],
    });
  });

  it('prefers given values over defaults', () => {
    const job = { run: file, threshold: 2, label: 'night 1', bands: ['mid', 'high'] };
    const result = applyDefaultsAndCheck(parameters, job, { schemaDefs });
    expect(result.threshold).toBe(2);
    expect(result.label).toBe('night 1');
    expect(result.bands).toEqual(['mid', 'high']);
  });

  it('copies defaults instead of sharing them', () => {
    const result = applyDefaultsAndCheck(parameters, { run: file }, { schemaDefs });
    (result.bands as string[]).push('changed');
    expect(parameters[4]?.default).toEqual(['low']);
  });

  it('keeps undeclared keys unchecked', () => {
    const result = applyDefaultsAndCheck(
      parameters,
      { run: file, extra: { any: 'thing' } },
      { schemaDefs },
    );
    expect(result.extra).toEqual({ any: 'thing' });
  });

  it('names a missing required input', () => {
    const error = failure(() => applyDefaultsAndCheck(parameters, {}, { schemaDefs }));
    expect(error.message).toContain('Missing required input inputs.run of type File');
    expect(error.message).toContain('add it to the input object or give the parameter a default');
  });

  it('names a required input given as null', () => {
    const error = failure(() => applyDefaultsAndCheck(parameters, { run: null }, { schemaDefs }));
    expect(error.message).toContain(
      'Input inputs.run is null, but its type File does not accept null',
    );
  });

  it('names the path of a nested failure', () => {
    const job = { run: file, telescope: { id: 'one', kind: 'LST' } };
    const error = failure(() => applyDefaultsAndCheck(parameters, job, { schemaDefs }));
    expect(error.message).toContain('Invalid value for inputs.telescope.id:');
  });

  it('accepts plain ids and Any inputs with defaults', () => {
    const result = applyDefaultsAndCheck([{ id: 'value', type: 'Any', default: 0 }], {});
    expect(result).toEqual({ value: 0 });
  });

  it('leaves the job object unchanged', () => {
    const job = { run: file };
    applyDefaultsAndCheck(parameters, job, { schemaDefs });
    expect(job).toEqual({ run: file });
  });
});
