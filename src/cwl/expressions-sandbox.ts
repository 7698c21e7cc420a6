/**
 * JavaScript source that prepares a `node:vm` context for CWL expressions. It runs inside the
 * context, never in the host, so the functions it defines belong to the context's realm.
 */

/**
 * Runs first in a new context. It defines `inputs`, `self` and `runtime` as undefined globals,
 * because expressionLib code may mention them before any expression runs. It also removes
 * built-ins that CWL expressions never need: `Atomics.wait` could block the thread, and
 * `WebAssembly` compiles code outside the expression.
 */
export const PREPARE_SOURCE = `
(function (global) {
  'use strict';
  global.inputs = undefined;
  global.self = undefined;
  global.runtime = undefined;
  delete global.Atomics;
  delete global.SharedArrayBuffer;
  delete global.WebAssembly;
  global.__cwlFn = undefined;
  global.__cwlBuiltins = Object.getOwnPropertyNames(global);
})(globalThis);

`;

/**
 * Runs after the expressionLib. It freezes the built-ins so that one expression cannot change
 * what the next one finds there, and defines \`__cwlRun(fn)\`, which runs one compiled
 * expression.
 *
 * \`__cwlRun\` copies the parameter context in from the JSON text in \`__cwlInput\`, calls
 * the function, then removes the globals the expression added and restores the globals the
 * expressionLib defined. It returns one string: "R" and the JSON text of the result, "U" and
 * the type of a result that has no JSON form, or "E" and a description of what the
 * expression threw. A leading "!" means a global could not be removed, so the context must
 * not be used again. Only this string leaves the context.
 *
 * NOTE: objects the expressionLib creates, and its top-level \`let\` bindings, are shared by
 * all expressions that use the same expressionLib text, in every job of this process. An
 * expression that changes them changes what later expressions see.
 */
export const HARDEN_SOURCE = `
(function (global) {
  'use strict';
  const builtinNames = global.__cwlBuiltins;
  delete global.__cwlBuiltins;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const getNames = Object.getOwnPropertyNames;
  const getDescriptor = Object.getOwnPropertyDescriptor;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const freeze = Object.freeze;
  const deleteProperty = Reflect.deleteProperty;
  const ownKeys = Reflect.ownKeys;
  const StringOf = String;
  const builtins = new Set(builtinNames);
  const ownNames = new Set(['inputs', 'self', 'runtime', '__cwlInput', '__cwlFn', '__cwlRun']);

  // Names that code commonly assigns on its own objects. On a frozen prototype a plain
  // assignment of such a name would throw in strict mode, so these become accessors whose
  // setter defines the property on the object itself.
  const assignable = new Set(['constructor', 'toString', 'valueOf', 'toLocaleString', 'name',
    'message', 'stack', 'toJSON']);

  function allowAssignment(object, key, descriptor) {
    const value = descriptor.value;
    // Methods, unlike function expressions, have no \`prototype\` object to harden in turn.
    const accessors = {
      get() { return value; },
      set(newValue) {
        if (this === object) throw new TypeError('Cannot assign to read only property ' + StringOf(key));
        defineProperty(this, key, { value: newValue, writable: true, enumerable: true, configurable: true });
      },
    };
    defineProperty(object, key, {
      get: accessors.get,
      set: accessors.set,
      enumerable: descriptor.enumerable,
      configurable: false,
    });
    harden(accessors.get);
    harden(accessors.set);
  }

  // The descriptor must be complete: on a vm context's global, defineProperty with only
  // some attributes replaces the value with undefined.
  function lockGlobal(name, writable) {
    const descriptor = getDescriptor(global, name);
    if (descriptor === undefined || !('value' in descriptor)) return;
    defineProperty(global, name, {
      value: descriptor.value,
      writable: writable && descriptor.writable,
      enumerable: descriptor.enumerable,
      configurable: false,
    });
  }

  const seen = new Set();
  function harden(object) {
    if ((typeof object !== 'object' && typeof object !== 'function') || object === null) return;
    if (seen.has(object) || object === global) return;
    seen.add(object);
    for (const key of ownKeys(object)) {
      const descriptor = getDescriptor(object, key);
      if ('value' in descriptor) {
        if (assignable.has(key) && descriptor.writable && descriptor.configurable) {
          allowAssignment(object, key, descriptor);
        }
        harden(descriptor.value);
      } else {
        harden(descriptor.get);
        harden(descriptor.set);
      }
    }
    harden(getPrototypeOf(object));
    freeze(object);
  }

  for (const name of builtins) {
    if (ownNames.has(name)) continue;
    harden(global[name]);
    lockGlobal(name, false);
  }
  // Intrinsics that no global names directly.
  harden(getPrototypeOf(function* () {}));
  harden(getPrototypeOf(async function () {}));
  harden(getPrototypeOf(async function* () {}));
  harden(getPrototypeOf([][Symbol.iterator]()));
  harden(getPrototypeOf(new Map()[Symbol.iterator]()));
  harden(getPrototypeOf(new Set()[Symbol.iterator]()));
  harden(getPrototypeOf(''[Symbol.iterator]()));
  harden(getPrototypeOf(/x/[Symbol.matchAll]('')));

  const libraryValues = new Map();
  for (const name of getNames(global)) {
    if (builtins.has(name) || ownNames.has(name)) continue;
    libraryValues.set(name, global[name]);
    lockGlobal(name, true);
  }
  global.__cwlInput = '';
  const knownCount = getNames(global).length + 1;

  function describe(error) {
    try {
      if (error !== null && typeof error === 'object' && 'message' in error) {
        const name = error.name;
        const prefix = name === undefined ? '' : StringOf(name) + ': ';
        return prefix + StringOf(error.message);
      }
      return 'uncaught ' + StringOf(error);
    } catch (ignored) {
      return 'uncaught value that cannot be turned into text';
    }
  }

  // Returns false when a global the expression added cannot be deleted.
  function reset() {
    let isClean = true;
    const names = getNames(global);
    if (names.length !== knownCount) {
      for (const name of names) {
        if (!builtins.has(name) && !ownNames.has(name) && !libraryValues.has(name)) {
          if (!deleteProperty(global, name)) isClean = false;
        }
      }
    }
    for (const [name, value] of libraryValues) {
      if (global[name] !== value) global[name] = value;
    }
    return isClean;
  }

  function evaluate(fn) {
    let result;
    let text;
    try {
      result = fn();
      text = stringify(result);
    } catch (error) {
      return 'E' + describe(error);
    }
    if (text === undefined) return 'U' + typeof result;
    return 'R' + text;
  }

  defineProperty(global, '__cwlRun', {
    value: function (fn) {
      const root = parse(global.__cwlInput);
      global.__cwlInput = '';
      global.inputs = root.inputs;
      global.self = root.self;
      global.runtime = root.runtime;
      const output = evaluate(fn);
      return reset() ? output : '!' + output;
    },
    writable: false,
    enumerable: false,
    configurable: false,
  });
})(globalThis);
`;
