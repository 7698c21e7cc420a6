/**
 * DIRAC's job state machine (DIRACCommon `JobsStateMachine`, DIRAC v9): for each state, the
 * states a status update may move a job to. A transition outside this table leaves the job
 * where it is.
 */
export const JOB_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  Submitting: ['Received', 'Checking', 'Deleted'],
  Received: ['Checking', 'Staging', 'Waiting', 'Failed', 'Deleted', 'Killed'],
  Checking: ['Staging', 'Waiting', 'Rescheduled', 'Failed', 'Deleted', 'Killed'],
  Staging: ['Checking', 'Waiting', 'Failed', 'Killed'],
  Waiting: ['Matched', 'Rescheduled', 'Deleted', 'Killed'],
  Matched: ['Running', 'Failed', 'Rescheduled', 'Killed'],
  Rescheduled: ['Waiting', 'Received', 'Deleted', 'Failed', 'Killed'],
  Running: ['Stalled', 'Done', 'Failed', 'Rescheduled', 'Completing', 'Killed', 'Received'],
  Stalled: ['Running', 'Failed', 'Killed'],
  Completing: ['Done', 'Failed', 'Completed', 'Stalled', 'Killed'],
  Completed: ['Done', 'Failed'],
  Done: ['Deleted'],
  Failed: ['Rescheduled', 'Deleted'],
  Killed: ['Deleted'],
  Deleted: [],
};

/** Every job state of the state machine. */
export const JOB_STATES: readonly string[] = Object.keys(JOB_TRANSITIONS);

/** Returns the state a job in `current` ends in when an update requests `requested`. */
export function nextJobState(current: string, requested: string): string {
  if (requested === current) {
    return current;
  }
  return JOB_TRANSITIONS[current]?.includes(requested) ? requested : current;
}
