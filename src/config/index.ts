export { resolveConfig, formatRunHelp, EXIT_CODE_HELP } from './resolve.js';
export type { PilotConfig, ResolvedRun, ConfigSources } from './resolve.js';
export { OPTION_SPECS } from './options.js';
export type { PilotConfigInput, OptionSpec } from './options.js';
