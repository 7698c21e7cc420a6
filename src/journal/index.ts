export { Journal, JOURNAL_VERSION, isEndingAction } from './journal.js';
export type { JournalAction, JournalJob, OutboxAction } from './journal.js';
export { JobOutbox } from './outbox.js';
export type { OutboxClient } from './outbox.js';
export { recoverJournal } from './recovery.js';
