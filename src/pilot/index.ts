export { Pilot, PilotExitCode, STOP_SIGNALS } from './agent.js';
export type { JobTally } from './match-loop.js';
export { HeartbeatLoop } from './heartbeat-loop.js';
export type { HeartbeatSource, HeartbeatSender } from './heartbeat-loop.js';
export { Backoff } from './backoff.js';
export { SlotPool } from './slots.js';
export { WallTimeBudget } from './time-budget.js';
export { DEFAULT_FLUSH_DEADLINE_MS, LogShipper } from './log-shipper.js';
