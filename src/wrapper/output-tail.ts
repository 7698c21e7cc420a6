import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * A stream that writes a payload's output to a file and keeps its last bytes in memory, so
 * heartbeats can carry the tail of the output without reading the file again.
 */
export class TailedFileStream extends Writable {
  private readonly file: WriteStream;
  private tail: Buffer = Buffer.alloc(0);
  private bytes = 0;

  /**
   * @param path file that receives everything written
   * @param tailBytes how many of the last bytes to keep (default 4096)
   */
  constructor(
    readonly path: string,
    private readonly tailBytes = 4096,
  ) {
    super();
    this.file = createWriteStream(path, { flags: 'a' });
  }

  /** Total bytes written so far; grows while the payload makes progress. */
  get bytesWritten(): number {
    return this.bytes;
  }

  /** Last bytes written, decoded as UTF-8 (a split character at the start is dropped). */
  tailText(): string {
    return this.tail.toString('utf8').replace(/^\uFFFD+/, '');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    this.bytes += chunk.length;
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.subarray(Math.max(0, joined.length - this.tailBytes));
    this.file.write(chunk, (error) => callback(error ?? undefined));
  }

  override _final(callback: (error?: Error) => void) {
    this.file.end(callback);
  }
}
