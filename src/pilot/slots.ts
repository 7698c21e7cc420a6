/** Cores and memory (MB) given to one job. */
export interface SlotShare {
  cores: number;
  ramMb: number;
}

/** Resources a matched job requests; absent values get a share in proportion to its cores. */
export interface JobRequest {
  cores?: number;
  'ram-mb'?: number;
}

/**
 * The cores and memory of the pilot's allocation, split between the jobs it runs. The pilot
 * requests a job while at least one core is free and offers what is free as the match slot,
 * so a whole-node pilot fills its node with jobs of any size.
 */
export class SlotPool {
  private usedCores = 0;
  private usedRamMb = 0;

  constructor(
    readonly totalCores: number,
    readonly totalRamMb: number,
  ) {}

  /** Free cores and memory now. */
  get free(): SlotShare {
    return { cores: this.totalCores - this.usedCores, ramMb: this.totalRamMb - this.usedRamMb };
  }

  /** Whether another job can start: at least one core and some memory are free. */
  get hasRoom(): boolean {
    const free = this.free;
    return free.cores >= 1 && free.ramMb > 0;
  }

  /**
   * Takes a job's share from what is free. A job that gives no core count gets one core; one
   * that gives no memory gets the per-core share of the allocation times its cores. The
   * service matched the job against the free slot, so a request above it is cut to it.
   */
  allocate(request: JobRequest): SlotShare {
    const free = this.free;
    const cores = Math.max(1, Math.min(free.cores, Math.ceil(request.cores ?? 1)));
    const perCoreRam = Math.floor(this.totalRamMb / this.totalCores);
    const requestedRam = request['ram-mb'] ?? perCoreRam * cores;
    const ramMb = Math.max(1, Math.min(free.ramMb, Math.ceil(requestedRam)));

    this.usedCores += cores;
    this.usedRamMb += ramMb;
    return { cores, ramMb };
  }

  /** Returns a finished job's share. */
  release(share: SlotShare): void {
    this.usedCores = Math.max(0, this.usedCores - share.cores);
    this.usedRamMb = Math.max(0, this.usedRamMb - share.ramMb);
  }
}
