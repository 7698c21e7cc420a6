import type { Plugin } from 'esbuild';

/** esbuild plugin that skips uri-js's IP address normalization of an empty host. */
export declare const uriJsEmptyHost: Plugin;
