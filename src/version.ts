declare const __PILOT_VERSION__: string | undefined;

/** Version of this build: set by the bundler, read from package.json when run from source. */
export const PILOT_VERSION: string =
  typeof __PILOT_VERSION__ === 'string' ? __PILOT_VERSION__ : '0.0.0-dev';
