import type { Plugin } from 'esbuild';

/** esbuild plugin that makes uri-js try its IPv6 expression only on hosts with a colon. */
export declare const uriJsIpv6Check: Plugin;
