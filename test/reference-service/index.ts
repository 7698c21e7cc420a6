import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createLogger, silentLogger } from '../../src/log.js';
import { auditJobs, type AuditFinding } from './audit.js';
import type { ReferenceServiceOptions, ResolvedOptions, ServiceContext } from './context.js';
import type { FaultKind, FaultOptions } from './faults.js';
import { JobStore, viewJob } from './job-store.js';
import { userTokens } from './routes-auth.js';
import { authRoutes } from './routes-auth.js';
import { jobRoutes } from './routes-jobs.js';
import { pilotRoutes } from './routes-pilots.js';
import { sandboxRoutes } from './routes-sandbox.js';
import { keyOfPfn, SandboxStore } from './sandbox-store.js';
import { Dispatcher } from './server.js';
import { TokenIssuer, type TokenResponse } from './tokens.js';
import type { JobSpec, JobView, PilotRecord } from './types.js';

export type { ReferenceServiceOptions } from './context.js';
export type { JobRequirements, JobSpec, JobView, PilotRecord, HistoryEntry } from './types.js';
export type { TokenResponse } from './tokens.js';
export type { AuditFinding, AuditProblem } from './audit.js';
export type { FaultKind, FaultOptions, FaultRule } from './faults.js';
export { FAULT_KINDS } from './faults.js';

/** Options of `addPilotSecret`. */
export interface PilotSecretOptions {
  /** Lifetime of the secret, in seconds, also returned as `expires_in`; default 86400. */
  lifetimeSeconds?: number;
}

function resolveOptions(options: ReferenceServiceOptions): ResolvedOptions {
  const heartbeatInterval = options.heartbeatInterval ?? 60;
  const refused = options.refusedPilotVersions ?? [];
  return {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? 86400,
    heartbeatInterval,
    stalledAfterSeconds: options.stalledAfterSeconds ?? 2.5 * heartbeatInterval,
    isRefusedPilotVersion:
      typeof refused === 'function' ? refused : (version) => refused.includes(version),
    noMatchRetryAfterSeconds: options.noMatchRetryAfterSeconds,
    maxReschedules: options.maxReschedules ?? 3,
    minClientVersion: options.minClientVersion,
    clockOffsetSeconds: options.clockOffsetSeconds ?? 0,
    log: options.log ?? false,
  };
}

function createContext(options: ResolvedOptions): ServiceContext {
  let lastMicros = 0;
  const context: ServiceContext = {
    options,
    log: options.log ? createLogger() : silentLogger,
    tokens: new TokenIssuer(() => context.nowSeconds()),
    jobs: new JobStore(() => context.nowMicros(), options.maxReschedules),
    sandboxes: new SandboxStore(),
    pilots: new Map(),
    secrets: new Map(),
    baseUrl: '',
    clockOffsetSeconds: options.clockOffsetSeconds,
    nowMicros: () => {
      // Microsecond resolution, and never the same value twice, so that two records the
      // service makes in a row are always ordered.
      const real = Math.round((performance.timeOrigin + performance.now()) * 1000);
      lastMicros = Math.max(real + context.clockOffsetSeconds * 1_000_000, lastMicros + 1);
      return lastMicros;
    },
    nowSeconds: () => Math.floor(context.nowMicros() / 1_000_000),
  };
  return context;
}

/** A running reference service and the controls tests use to set it up and inspect it. */
export class ReferenceService {
  /** Base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  private readonly server: Server;
  private readonly context: ServiceContext;
  private readonly dispatcher: Dispatcher;
  private readonly stallTimer: NodeJS.Timeout | undefined;

  constructor(server: Server, context: ServiceContext, dispatcher: Dispatcher) {
    this.server = server;
    this.context = context;
    this.dispatcher = dispatcher;
    this.url = context.baseUrl;
    const stalledAfter = context.options.stalledAfterSeconds;
    if (stalledAfter > 0) {
      // Checking ten times per threshold, at most every 10 s, keeps the delay small.
      const periodMs = Math.max(100, Math.min(stalledAfter * 100, 10_000));
      this.stallTimer = setInterval(() => this.checkStalledJobs(), periodMs);
      this.stallTimer.unref();
    }
  }

  /**
   * Moves Running jobs without a heartbeat for `stalledAfterSeconds` to Stalled now, instead
   * of at the next periodic check. Does nothing when stall detection is off.
   */
  checkStalledJobs(): void {
    const stalledAfter = this.context.options.stalledAfterSeconds;
    if (stalledAfter > 0) {
      this.context.jobs.markStalled(stalledAfter * 1_000_000);
    }
  }

  /** Stops listening and closes every open connection. */
  async close(): Promise<void> {
    clearInterval(this.stallTimer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  /**
   * Registers a pilot secret. With a stamp, the pilot is registered now; with null, the
   * secret works for any stamp and the pilot registers itself at the exchange.
   */
  addPilotSecret(stamp: string | null, secret: string, options: PilotSecretOptions = {}): void {
    const lifetimeSeconds = options.lifetimeSeconds ?? 86400;
    this.context.secrets.set(secret, {
      stamp,
      lifetimeSeconds,
      expiresAt: this.context.nowSeconds() + lifetimeSeconds,
      used: false,
    });
    if (stamp !== null && !this.context.pilots.has(stamp)) {
      this.context.pilots.set(stamp, {
        stamp,
        vo: 'ctao',
        gridType: undefined,
        gridSite: undefined,
        status: 'Submitted',
        reason: undefined,
        metadata: {},
        messages: [],
        secretLifetimeSeconds: lifetimeSeconds,
      });
    }
  }

  /** Issues a user's token pair, as a user or robot would hand to a pilot. */
  createUserTokens(user = 'jdoe', group = 'ctao_user', vo = 'ctao'): TokenResponse {
    return userTokens(this.context, {
      sub: `user:${user}`,
      vo,
      preferred_username: user,
      dirac_group: group,
    });
  }

  /** Submits a job, packing its input sandbox first. Returns its id; the job is Waiting. */
  async submitJob(spec: JobSpec): Promise<number> {
    const owner = {
      vo: spec.vo ?? 'ctao',
      group: spec.owner_group ?? 'ctao_user',
      owner: spec.owner ?? 'jdoe',
    };
    const inputSandbox = spec.inputSandboxDir
      ? [
          await this.context.sandboxes.packInputSandbox(
            spec.inputSandboxDir,
            spec.inputSandboxFiles,
            owner,
          ),
        ]
      : [];
    return this.context.jobs.add({
      label: spec.label,
      owner: owner.owner,
      ownerGroup: owner.group,
      vo: owner.vo,
      workflow: spec.workflow,
      workflowParams: spec.workflow_params ?? {},
      requirements: spec.requirements ?? {},
      inputSandbox,
    });
  }

  /** Returns a copy of a job's state; throws for an unknown id. */
  getJob(id: number): JobView {
    const job = this.context.jobs.find(id);
    if (!job) {
      throw new Error(`Job ${id} not found; submitJob returns the ids that exist`);
    }
    return viewJob(job);
  }

  /** Returns copies of every job, in submission order. */
  listJobs(): JobView[] {
    return this.context.jobs.all().map(viewJob);
  }

  /** Queues a command, such as `Kill`, for the job's next heartbeat. */
  queueCommand(jobId: number, command: string, args = ''): void {
    this.context.jobs.queueCommand(jobId, command, args);
  }

  /**
   * Kills a job as a user would: a Killed record through the state machine, which also
   * queues a Kill command. Returns false when the state machine kept the job's state.
   */
  killJob(jobId: number): boolean {
    const job = this.context.jobs.find(jobId);
    if (!job) {
      throw new Error(`Job ${jobId} not found; submitJob returns the ids that exist`);
    }
    const changed = this.context.jobs.applyRecords(job, [
      {
        micros: Math.max(this.context.nowMicros(), job.newestRecordMicros + 1),
        Status: 'Killed',
        MinorStatus: 'Marked for termination',
        Source: 'JobManager',
      },
    ]);
    return changed.Status === 'Killed';
  }

  /**
   * Moves the service's clock forward, to expire tokens, secrets and presigned URLs without
   * waiting. Affects the `Date` header and every timestamp the service makes.
   */
  advanceClock(seconds: number): void {
    this.context.clockOffsetSeconds += seconds;
  }

  /** Returns the bytes of a stored sandbox; throws when the reference is unknown. */
  readSandbox(pfn: string): Buffer {
    const key = keyOfPfn(pfn);
    const bytes = key === undefined ? undefined : this.context.sandboxes.get(key);
    if (!bytes) {
      throw new Error(`Sandbox ${pfn} not found in the reference service`);
    }
    return bytes;
  }

  /** Pilots known to the service, by stamp. */
  get pilots(): ReadonlyMap<string, PilotRecord> {
    return this.context.pilots;
  }

  /** Requests received per route name, such as `PATCH /api/jobs/heartbeat`. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.dispatcher.counts);
  }

  /**
   * Replaces the fault options, or turns faults off with undefined, while the service runs.
   * Restarts every random sequence from the seed; `faultCounts` keeps counting. Throws on an
   * invalid option or an unknown route name.
   */
  setFaults(options: FaultOptions | undefined): void {
    this.dispatcher.faults.set(options);
  }

  /** Faults injected since the start, per route name and kind; routes without any are left out. */
  faultCounts(): Record<string, Record<FaultKind, number>> {
    return structuredClone(Object.fromEntries(this.dispatcher.faults.counts));
  }

  /**
   * Returns the jobs whose results were lost or duplicated: more than one final status
   * record, more than one output sandbox, Done without an output sandbox, or no final status.
   * An empty list means every job's result arrived exactly once.
   */
  audit(): AuditFinding[] {
    return auditJobs(this.context.jobs.all());
  }
}

/** Starts a reference central service on loopback and resolves once it listens. */
export async function startReferenceService(
  options: ReferenceServiceOptions = {},
): Promise<ReferenceService> {
  const resolved = resolveOptions(options);
  const context = createContext(resolved);
  const dispatcher = new Dispatcher(
    [...authRoutes, ...pilotRoutes, ...jobRoutes, ...sandboxRoutes],
    context,
  );
  dispatcher.faults.set(options.faults);
  const server = createServer((request, response) => void dispatcher.handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  context.baseUrl = `http://${host}:${address.port}`;
  return new ReferenceService(server, context, dispatcher);
}
