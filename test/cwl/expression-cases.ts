/**
 * Cases that hold for CWL JavaScript expressions wherever they run: in the expression worker or
 * in the calling thread. Each test file calls {@link describeExpressionCases} once.
 */
import { describe, expect, it } from 'vitest';
import { CwlExecutionError, CwlValidationError } from '../../src/errors.js';
import { evaluateExpression, type ExpressionContext } from '../../src/cwl/expressions.js';

const context: ExpressionContext = {
  inputs: {
    sample: 'gamma_run42',
    count: 3,
    bands: ['low', 'mid', 'high'],
    files: [
      { class: 'File', basename: 'b.fits', size: 20 },
      { class: 'File', basename: 'a.fits', size: 10 },
    ],
    big: 2n ** 60n,
  },
  self: { class: 'File', basename: 'out.txt', contents: 'line1\nline2\n' },
  runtime: { outdir: '/scratch/out', cores: 4 },
};

export function run(
  text: string,
  extra: { expressionLib?: string[]; timeoutMs?: number } = {},
): unknown {
  return evaluateExpression(text, context, { javascript: true, ...extra });
}

export function thrown(action: () => unknown): Error & { code?: string } {
  try {
    action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected an error');
}

/** Defines the shared describe blocks. */
export function describeExpressionCases(): void {
  describe('JavaScript expressions', () => {
    it.each<[string, unknown]>([
      ['$(inputs.count + 1)', 4],
      ['$(inputs.bands.join(","))', 'low,mid,high'],
      ['$(inputs.sample.length)', 11],
      ['$(inputs.sample.split("_")[1])', 'run42'],
      ['$(inputs.files.map(function (f) { return f.size; }))', [20, 10]],
      ['$(self.contents.split("\\n").length)', 3],
      ['$(runtime.cores * 2)', 8],
      ['$({a: 1, b: [true, null]})', { a: 1, b: [true, null] }],
      ['$([1, 2].concat([3]))', [1, 2, 3]],
      ['$(null)', null],
      ['$(inputs.count > 2 ? "many" : "few")', 'many'],
      ['$(")" + "}" + \'(\')', ')}('],
      ['$(`run ${inputs.count}`)', 'run 3'],
      ['$(inputs.sample.replace(/_run(\\d+)/, "-$1"))', 'gamma-42'],
      ['$(inputs.big / 1024)', 2 ** 50],
      ['$(Math.max.apply(null, [4, 9, 2]))', 9],
      ['$(JSON.stringify({x: 1}))', '{"x":1}'],
      ['$(inputs.count // trailing comment\n)', 3],
    ])('evaluates %s', (text, expected) => {
      expect(run(text)).toEqual(expected);
    });

    it.each<[string, unknown]>([
      ['${ return inputs.count * 10; }', 30],
      ['${ var total = 0; for (var i = 0; i < 5; i++) { total += i; } return total; }', 10],
      [
        '${ var sorted = inputs.files.slice().sort(function (a, b) { return a.size - b.size; });\n' +
          '   return sorted[0].basename; }',
        'a.fits',
      ],
      [
        '${ if (inputs.count > 1) { return {"nested": {"ok": true}}; } return null; }',
        { nested: { ok: true } },
      ],
      ['${ return; }', undefined],
    ])('runs the function body %s', (text, expected) => {
      if (expected === undefined) {
        const error = thrown(() => run(text));
        expect(error.code).toBe('CWL_EXPRESSION_FAILED');
        expect(error.message).toContain('returned undefined');
        return;
      }
      expect(run(text)).toEqual(expected);
    });

    it('interpolates JavaScript values like references', () => {
      expect(run('n=$(inputs.count * 2), list=$(inputs.bands.slice(0, 2))')).toBe(
        'n=6, list=["low", "mid"]',
      );
      expect(run('${ return "a"; }-${ return {"k": 1}; }')).toBe('a-{"k": 1}');
    });

    it('passes a bigint into JavaScript as a number', () => {
      expect(run('$(typeof (inputs.big + 1))')).toBe('number');
      // A plain reference needs no JavaScript and returns the bigint itself.
      expect(run('$(inputs.big)')).toBe(2n ** 60n);
    });

    it('returns a fresh copy that changes nothing in the inputs', () => {
      const value = run('${ inputs.bands.push("extra"); return inputs.bands; }');
      expect(value).toEqual(['low', 'mid', 'high', 'extra']);
      expect((context.inputs as { bands: string[] }).bands).toEqual(['low', 'mid', 'high']);
      expect(run('$(inputs.bands.length)')).toBe(3);
    });

    it('runs in strict mode', () => {
      const error = thrown(() => run('${ undeclared = 1; return undeclared; }'));
      expect(error.code).toBe('CWL_EXPRESSION_FAILED');
      expect(error.message).toContain('ReferenceError');
      expect(run('${ return this === undefined; }')).toBe(true);
    });

    it('keeps JSON semantics for odd values', () => {
      expect(run('$({a: undefined, b: 1})')).toEqual({ b: 1 });
      expect(run('$([NaN, Infinity])')).toEqual([null, null]);
      expect(run('$(new Date(0))')).toBe('1970-01-01T00:00:00.000Z');
    });
  });

  describe('expression errors', () => {
    it.each<[string, string, RegExp]>([
      [
        '$(inputs.nope.deeper)',
        'CWL_EXPRESSION_FAILED',
        /TypeError: Cannot read properties of undefined/,
      ],
      ['${ throw new Error("bad input"); }', 'CWL_EXPRESSION_FAILED', /Error: bad input/],
      ['${ throw "plain string"; }', 'CWL_EXPRESSION_FAILED', /uncaught plain string/],
      ['${ throw { message: "no name" }; }', 'CWL_EXPRESSION_FAILED', /failed: no name$/],
      ['$(undefined)', 'CWL_EXPRESSION_FAILED', /returned undefined, which has no JSON form/],
      ['$(function () {})', 'CWL_EXPRESSION_FAILED', /returned a function/],
      ['$(10n)', 'CWL_EXPRESSION_FAILED', /BigInt/],
      ['$(inputs.count +)', 'CWL_EXPRESSION_INVALID', /is not valid JavaScript/],
      ['${ return 1 +; }', 'CWL_EXPRESSION_INVALID', /not valid JavaScript \(SyntaxError/],
      ['${ return (1; }', 'CWL_EXPRESSION_INVALID', /unmatched "}"/],
      [
        '${ var f = function () { return f(); }; return f(); }',
        'CWL_EXPRESSION_FAILED',
        /RangeError/,
      ],
    ])('reports %s', (text, code, message) => {
      const error = thrown(() => run(text));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(error.message).toContain(text.slice(0, 12));
    });

    it('uses the error classes of the project', () => {
      expect(thrown(() => run('${ throw 1; }'))).toBeInstanceOf(CwlExecutionError);
      expect(thrown(() => run('$(1 +)'))).toBeInstanceOf(CwlValidationError);
    });

    it('shortens long expressions in messages', () => {
      const text = `\${ throw new Error("x"); ${'var a = 1; '.repeat(40)} }`;
      const error = thrown(() => run(text));
      expect(error.message).toContain('...');
      expect(error.message.length).toBeLessThan(200);
    });
  });

  describe('expressionLib', () => {
    const expressionLib = [
      'function stem(name) { return name.replace(/\\.[^.]*$/, ""); }',
      'var SUFFIX = "_cal";',
      'function calibrated() { return inputs.sample + SUFFIX; }',
    ];

    it('defines functions for expressions', () => {
      expect(run('$(stem(inputs.files[0].basename))', { expressionLib })).toBe('b');
      expect(run('$(calibrated())', { expressionLib })).toBe('gamma_run42_cal');
    });

    it('sees the current inputs in each evaluation', () => {
      const other = { inputs: { sample: 'proton_run7' }, self: null, runtime: {} };
      const value = evaluateExpression('$(calibrated())', other, {
        javascript: true,
        expressionLib,
      });
      expect(value).toBe('proton_run7_cal');
      expect(run('$(calibrated())', { expressionLib })).toBe('gamma_run42_cal');
    });

    it('restores its globals after an expression reassigns them', () => {
      expect(run('${ SUFFIX = "_broken"; stem = null; return 1; }', { expressionLib })).toBe(1);
      expect(run('$(calibrated() + stem("x.y"))', { expressionLib })).toBe('gamma_run42_calx');
    });

    it('is absent from contexts with another expressionLib', () => {
      expect(run('$(typeof stem)')).toBe('undefined');
      expect(run('$(typeof stem)', { expressionLib: ['var other = 1;'] })).toBe('undefined');
    });

    it('may read the parameter globals when it loads', () => {
      expect(run('$(early)', { expressionLib: ['var early = typeof inputs;'] })).toBe('undefined');
    });

    it('reports a syntax error with its entry', () => {
      const error = thrown(() => run('$(1)', { expressionLib: ['var ok = 1;', 'function ('] }));
      expect(error).toBeInstanceOf(CwlValidationError);
      expect(error.code).toBe('CWL_EXPRESSION_INVALID');
      expect(error.message).toContain('expressionLib[1]');
      expect(error.message).toContain('function (');
    });

    it('reports an entry that throws while loading', () => {
      const error = thrown(() => run('$(1)', { expressionLib: ['throw new Error("lib broke");'] }));
      expect(error.code).toBe('CWL_EXPRESSION_FAILED');
      expect(error.message).toContain('expressionLib[0]');
      expect(error.message).toContain('lib broke');
    });

    it('loads again after many other expressionLibs', () => {
      const libs = Array.from({ length: 70 }, (_, i) => [`var id = ${i};`]);
      for (const lib of libs) expect(run('$(id)', { expressionLib: lib })).toBe(libs.indexOf(lib));
      expect(run('$(id)', { expressionLib: libs[0] })).toBe(0);
      expect(run('$(typeof id)')).toBe('undefined');
    });

    it('may extend built-ins before they are frozen', () => {
      const lib = [
        'Array.prototype.total = function () { return this.reduce(function (a, b) { return a + b; }, 0); };',
      ];
      expect(run('$([1, 2, 3].total())', { expressionLib: lib })).toBe(6);
    });
  });

  describe('isolation between expressions', () => {
    it('removes globals an expression added', () => {
      expect(run('${ globalThis.leaked = 42; return 1; }')).toBe(1);
      expect(run('$(typeof leaked)')).toBe('undefined');
    });

    it('drops a context whose added global cannot be deleted', () => {
      const text =
        '${ Object.defineProperty(globalThis, "pinned", { value: 1, configurable: false });' +
        ' return typeof pinned; }';
      expect(run(text)).toBe('number');
      expect(run('$(typeof pinned)')).toBe('undefined');
    });

    it('rejects changes to built-in prototypes', () => {
      const error = thrown(() => run('${ Array.prototype.map = null; return 1; }'));
      expect(error.code).toBe('CWL_EXPRESSION_FAILED');
      expect(error.message).toContain('TypeError');
      expect(run('$([1].map(function (x) { return x + 1; }))')).toEqual([2]);
    });

    it('rejects replacing built-in globals', () => {
      const error = thrown(() => run('${ JSON = null; return 1; }'));
      expect(error.message).toContain('TypeError');
      expect(run('$(JSON.stringify([1]))')).toBe('[1]');
    });

    it('still lets objects define their own toString and name', () => {
      const text =
        '${ var o = {}; o.toString = function () { return "custom"; };' +
        ' var e = new Error("m"); e.name = "CustomError"; return [String(o), e.name]; }';
      expect(run(text)).toEqual(['custom', 'CustomError']);
    });
  });

  describe('sandbox', () => {
    it.each<[string, unknown]>([
      ['$(typeof process)', 'undefined'],
      ['$(typeof require)', 'undefined'],
      ['$(typeof module)', 'undefined'],
      ['$(typeof setTimeout)', 'undefined'],
      ['$(typeof setImmediate)', 'undefined'],
      ['$(typeof queueMicrotask)', 'undefined'],
      ['$(typeof fetch)', 'undefined'],
      ['$(typeof Buffer)', 'undefined'],
      ['$(typeof WebAssembly)', 'undefined'],
      ['$(typeof Atomics)', 'undefined'],
      ['$(typeof SharedArrayBuffer)', 'undefined'],
      ['$(typeof globalThis.constructor.constructor("return typeof process")())', 'string'],
      ['$(globalThis.constructor.constructor("return typeof process")())', 'undefined'],
      ['$(inputs.constructor.constructor("return typeof process")())', 'undefined'],
      ['$(inputs.bands.constructor.constructor("return typeof require")())', 'undefined'],
      ['$(Function("return typeof process")())', 'undefined'],
      ['$(Object.getPrototypeOf(inputs) === Object.prototype)', true],
    ])('evaluates %s', (text, expected) => {
      expect(run(text)).toEqual(expected);
    });

    it('gives this no constructor that reaches the host', () => {
      const error = thrown(() => run('$(this.constructor.constructor("return process")())'));
      expect(error.code).toBe('CWL_EXPRESSION_FAILED');
      expect(error.message).toContain('TypeError');
    });

    it('finds no process through the global object', () => {
      const error = thrown(() => run('$(globalThis.constructor.constructor("return process")())'));
      expect(error.message).toContain('ReferenceError: process is not defined');
    });

    it('gets no module loader from dynamic import', () => {
      const value = run(
        '${ var p = import("node:fs"); p.catch(function () {}); return typeof p; }',
      );
      expect(value).toBe('object');
    });

    it('survives a promise rejected without a handler', async () => {
      expect(run('${ Promise.reject(new Error("ignored")); return 5; }')).toBe(5);
      expect(run('${ (async function () { throw new Error("x"); })(); return 6; }')).toBe(6);
      // Give the event loop a turn, where an unhandled rejection would end the process.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(run('$(7)')).toBe(7);
    });

    it('does not expose the host through a thrown getter', () => {
      const text = '${ throw { get message() { return typeof process; }, name: "Odd" }; }';
      const error = thrown(() => run(text));
      expect(error.message).toContain('Odd: undefined');
    });
  });

  describe('time limit', () => {
    it('stops an endless loop', () => {
      const started = Date.now();
      const error = thrown(() => run('${ while (true) {} }', { timeoutMs: 300 }));
      expect(error).toBeInstanceOf(CwlExecutionError);
      expect(error.code).toBe('CWL_EXPRESSION_TIMEOUT');
      expect(error.message).toContain('timed out after 300 ms');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('stops an endless promise chain', () => {
      const text =
        '${ var loop = function () { return Promise.resolve().then(loop); }; loop(); return 1; }';
      const error = thrown(() => run(text, { timeoutMs: 300 }));
      expect(error.code).toBe('CWL_EXPRESSION_TIMEOUT');
    });

    it('stops an expressionLib that never finishes loading', () => {
      const error = thrown(() =>
        run('$(1)', { expressionLib: ['while (true) {}'], timeoutMs: 300 }),
      );
      expect(error.code).toBe('CWL_EXPRESSION_TIMEOUT');
    });
  });

  describe('performance', () => {
    it('evaluates thousands of expressions without a context each', () => {
      const started = performance.now();
      for (let i = 0; i < 2000; i += 1) {
        expect(run(`$(inputs.count + ${i % 100})`)).toBe(3 + (i % 100));
      }
      const perExpressionMs = (performance.now() - started) / 2000;
      // Creating and hardening a sandbox context takes about 3 ms on a 2-core virtual machine,
      // so an evaluation that created one each time would fail this bound.
      expect(perExpressionMs).toBeLessThan(1);
    });
  });
}
