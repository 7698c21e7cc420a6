export { Pilot, PilotExitCode } from './agent.js';
export type { JobTally } from './agent.js';
export { HeartbeatLoop } from './heartbeat-loop.js';
export type { HeartbeatSource, HeartbeatSender } from './heartbeat-loop.js';
export { Backoff } from './backoff.js';
