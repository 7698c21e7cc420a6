import { rm } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { ProcessTreeKiller } from '../sandbox/index.js';
import type { Journal, OutboxAction } from './journal.js';
import { JobOutbox, type OutboxClient } from './outbox.js';

/**
 * Finishes what an earlier pilot on the same work folder left. Every journalled action is
 * sent with its original timestamp. A job whose Kill command was not acted on is reported
 * killed, and a job whose payload was cut short is rescheduled. Returns the number of jobs
 * whose delivery is complete.
 */
export async function recoverJournal(
  journal: Journal,
  client: OutboxClient,
  log: Logger,
): Promise<number> {
  let recovered = 0;
  for (const job of journal.openJobs()) {
    const jobLog = log.child({ jobId: job.jobId });
    jobLog.warn({ pending: job.actions.length, ended: job.ended }, 'job left by an earlier pilot');
    if (job.marker !== undefined) {
      // Payload processes of the dead pilot still carry the job's marker: end them first.
      const killer = new ProcessTreeKiller({
        jobId: job.jobId,
        marker: job.marker,
        graceMs: 2000,
        log: jobLog,
        useCgroup: false,
      });
      await killer.kill();
    }
    const outbox = new JobOutbox(journal, job.jobId, client, jobLog);
    await outbox.flush();

    if (!job.ended) {
      const killed = job.commands.includes('Kill');
      await outbox.enqueue(killed ? killReport() : rescheduleAfterCrash());
      if (killed) journal.markCommandDone(job.jobId, 'Kill');
    }
    outbox.dispose();
    if (outbox.pendingCount > 0) {
      jobLog.warn(
        { pending: outbox.pendingCount },
        'job delivery still pending; kept in the journal',
      );
      continue;
    }
    journal.closeJob(job.jobId);
    await rm(job.folder, { recursive: true, force: true });
    recovered += 1;
  }
  return recovered;
}

function killReport(): OutboxAction[] {
  // The service set Killed itself; a record with a Status would queue another Kill.
  return [
    { kind: 'status', record: { Source: 'JobWrapper', MinorStatus: 'Received Kill signal' } },
  ];
}

function rescheduleAfterCrash(): OutboxAction[] {
  return [
    {
      kind: 'status',
      record: {
        Source: 'JobWrapper',
        MinorStatus: 'Job stopped by the pilot',
        ApplicationStatus: 'the pilot running the job stopped unexpectedly',
      },
    },
    { kind: 'reschedule' },
  ];
}
