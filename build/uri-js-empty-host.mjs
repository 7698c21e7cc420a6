// esbuild plugin that skips IP address normalization of an empty host in uri-js 4.4.
//
// cwl-ts-auto serializes every identifier of a document with uri-js, and for a file: URI, whose
// host is empty, uri-js still runs its IPv6 regular expression on the host. That expression is
// several kilobytes long, and compiling it on first use took 15 to 50 ms per `exec` with Node
// 20.20 on a 2-core Xeon. Normalizing an empty host always returns it unchanged, because neither
// the IPv4 nor the IPv6 expression matches an empty string, so the patch returns it directly.

import { readFile } from 'node:fs/promises';

const FILE = /[\\/]node_modules[\\/]uri-js[\\/]dist[\\/]es5[\\/]uri\.all\.js$/;

const ORIGINAL = `    if (components.host !== undefined) {
        //normalize IP hosts, add brackets and escape zone separator for IPv6`;

const PATCHED = `    if (components.host === "") {
        uriTokens.push("");
    } else if (components.host !== undefined) {
        //normalize IP hosts, add brackets and escape zone separator for IPv6`;

/** @type {import('esbuild').Plugin} */
export const uriJsEmptyHost = {
  name: 'uri-js-empty-host',
  setup(build) {
    build.onLoad({ filter: FILE }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (source.split(ORIGINAL).length !== 2) {
        throw new Error(
          `${args.path} does not contain the _recomposeAuthority code this plugin patches. ` +
            'Check the uri-js version and update build/uri-js-empty-host.mjs.',
        );
      }
      return { contents: source.replace(ORIGINAL, PATCHED), loader: 'js' };
    });
  },
};
