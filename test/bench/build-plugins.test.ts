/**
 * The esbuild plugins of build/bundle.mjs, applied to small entry points and compared with the
 * unpatched packages.
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lazyNodeFetch } from '../../build/lazy-node-fetch.mjs';
import { uriJsIpv6Check } from '../../build/uri-js-ipv6-check.mjs';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

/** Bundles `source` as CommonJS with `plugins` and returns its `module.exports`. */
async function bundleAndLoad(source: string, plugins: Plugin[]): Promise<Record<string, unknown>> {
  const result = await build({
    stdin: { contents: source, resolveDir: REPO_ROOT, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    plugins,
    logLevel: 'silent',
  });
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', result.outputFiles[0]!.text)(
    module,
    module.exports,
    require,
  );
  return module.exports;
}

const URIS = [
  'file:///tmp/tool.cwl#main/input',
  'file://host/share/tool.cwl',
  'http://192.168.000.001:8080/path?q=1#frag',
  'http://[2001:DB8:0:0:0:0:0:1]/x',
  'http://[fe80::1%25eth0]/',
  'http://[::ffff:192.0.2.1]:8080/a',
  'HTTP://User@Example.ORG:81/a/../b',
  'http://edamontology.org/format_2330',
  'mailto:user@example.org',
  'relative/path#frag',
];

describe('uri-js IPv6 check', () => {
  it('serializes like the original', async () => {
    const source = `const URI = require('uri-js');
      module.exports.roundTrip = (text) => URI.serialize(URI.parse(text));`;
    const patched = await bundleAndLoad(source, [uriJsIpv6Check]);
    const original = require('uri-js') as {
      parse: (text: string) => object;
      serialize: (parts: object) => string;
    };
    const roundTrip = patched.roundTrip as (text: string) => string;
    for (const uri of URIS) {
      expect(roundTrip(uri), uri).toBe(original.serialize(original.parse(uri)));
    }
  });

  it('serializes an empty host object', async () => {
    const source = `const URI = require('uri-js');
      module.exports.text = URI.serialize({ scheme: 'file', host: '', path: '/a b' });`;
    const patched = await bundleAndLoad(source, [uriJsIpv6Check]);
    expect(patched.text).toBe('file:///a%20b');
  });
});

describe('lazy node-fetch', () => {
  it('loads node-fetch on the first fetch', async () => {
    // A fresh process, because the test runner itself may have loaded node:https already.
    const source = `const { loadDocument } = require('cwl-ts-auto');
      const hasHttps = () => process.moduleLoadList.includes('NativeModule https');
      const before = hasHttps();
      loadDocument('http://127.0.0.1:9/missing.cwl').catch(() => undefined).then(() => {
        process.stdout.write(JSON.stringify({ before, after: hasHttps() }));
      });`;
    const result = await build({
      stdin: { contents: source, resolveDir: REPO_ROOT, loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      plugins: [lazyNodeFetch],
      logLevel: 'silent',
    });
    const child = spawnSync(process.execPath, ['-'], {
      input: result.outputFiles[0]!.text,
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ before: false, after: true });
  });
});
