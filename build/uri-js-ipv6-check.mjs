// esbuild plugin that makes uri-js 4.4 try its IPv6 regular expression only on hosts that
// contain a colon.
//
// cwl-ts-auto parses and serializes every identifier of a document with uri-js, which matches
// each host, empty ones included, against its IPv6 expression. That expression is several
// kilobytes long, and compiling it on first use took 10 to 50 ms per `exec` with Node 20.20 on
// a 2-core Xeon. Every alternative of the expression contains a literal colon, so a host
// without one can never match, and skipping the expression for it changes no result.
import { readFile } from 'node:fs/promises';

const FILE = /[\\/]node_modules[\\/]uri-js[\\/]dist[\\/]es5[\\/]uri\.all\.js$/;

/** Helpers put before the package's code, at the top level of its module. */
const HELPERS = `
function _mayBeIPv6(host) {
    return String(host).indexOf(":") !== -1;
}
var _NEVER_MATCHES = /(?!)/;
`;

/** Each original text must occur exactly once in uri-js, or the build fails. */
const REPLACEMENTS = [
  [
    'var matches = host.match(protocol.IPV6ADDRESS) || [];',
    'var matches = (_mayBeIPv6(host) && host.match(protocol.IPV6ADDRESS)) || [];',
  ],
  [
    '.replace(protocol.IPV6ADDRESS, function (_, $1, $2) {',
    '.replace(_mayBeIPv6(components.host) ? protocol.IPV6ADDRESS : _NEVER_MATCHES, function (_, $1, $2) {',
  ],
  [
    'if (protocol.IPV6ADDRESS.test(components.host)) {}',
    'if (_mayBeIPv6(components.host) && protocol.IPV6ADDRESS.test(components.host)) {}',
  ],
];

/** @type {import('esbuild').Plugin} */
export const uriJsIpv6Check = {
  name: 'uri-js-ipv6-check',
  setup(build) {
    build.onLoad({ filter: FILE }, async (args) => {
      let source = await readFile(args.path, 'utf8');
      for (const [original, patched] of REPLACEMENTS) {
        if (source.split(original).length !== 2) {
          throw new Error(
            `${args.path} does not contain "${original}" exactly once. Check the uri-js ` +
              'version and update build/uri-js-ipv6-check.mjs.',
          );
        }
        source = source.replace(original, () => patched);
      }
      return { contents: `${HELPERS}\n${source}`, loader: 'js' };
    });
  },
};
