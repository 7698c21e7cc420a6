// Type declarations for the two pure-JS bzip2 packages, which ship none. Only the members
// this folder calls are declared.

declare module '@ledgerhq/compressjs/src/lib/Bzip2.js' {
  /** The bzip2 codec of compressjs, of which only the encoder is used. */
  const Bzip2: {
    /** Compresses `input` into one bzip2 stream. `blockSizeLevel` is 1 to 9 (x 100 kB). */
    compressFile(input: Uint8Array, output?: undefined, blockSizeLevel?: number): Uint8Array;
  };
  export default Bzip2;
}

declare module 'seek-bzip' {
  /** Byte source read synchronously by the decoder. */
  interface ByteSource {
    readByte(): number;
    read(buffer: Uint8Array, offset: number, length: number): number;
    eof(): boolean;
  }
  /** Byte sink written synchronously by the decoder. */
  interface ByteSink {
    writeByte(byte: number): void;
  }
  class Bunzip {
    constructor(input: ByteSource, output: ByteSink);
    streamCRC: number;
    reader: { read(bits: number): number };
    _init_block(): boolean;
    _read_bunzip(): number;
    _start_bunzip(input: ByteSource, output: ByteSink): void;
  }
  export default Bunzip;
}
