import type { Plugin } from 'esbuild';

/** esbuild plugin that loads node-fetch on its first call instead of with cwl-ts-auto. */
export declare const lazyNodeFetch: Plugin;
