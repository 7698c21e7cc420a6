/** Bit output and the block CRC of the bzip2 encoder. */

/** CRC-32 with polynomial 0x04c11db7, processed most significant bit first, as bzip2 uses. */
const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Int32Array {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 24;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
    table[byte] = crc;
  }
  return table;
}

/** Initial value of a block CRC. */
export const CRC_INITIAL = -1;

/** Updates `crc` with `count` copies of `byte`. The CRC stays inverted until `finishCrc`. */
export function updateCrc(crc: number, byte: number, count: number): number {
  let value = crc;
  for (let i = 0; i < count; i++) {
    value = (value << 8) ^ CRC_TABLE[((value >>> 24) ^ byte) & 0xff]!;
  }
  return value;
}

/** Returns the final, unsigned value of a CRC built by `updateCrc`. */
export function finishCrc(crc: number): number {
  return ~crc >>> 0;
}

/** Growing big-endian bit buffer. Whole bytes are taken out with `takeBytes`. */
export class BitWriter {
  private bytes = new Uint8Array(64 * 1024);
  private length = 0;
  private bitBuffer = 0;
  private bitCount = 0;

  /** Appends the low `count` bits of `value`, most significant first. `count` is at most 24. */
  write(count: number, value: number): void {
    this.bitBuffer = (this.bitBuffer << count) | (value & ((1 << count) - 1));
    this.bitCount += count;
    while (this.bitCount >= 8) {
      this.bitCount -= 8;
      if (this.length === this.bytes.length) this.grow();
      this.bytes[this.length++] = (this.bitBuffer >>> this.bitCount) & 0xff;
    }
  }

  /** Appends a 32-bit value. */
  write32(value: number): void {
    this.write(16, value >>> 16);
    this.write(16, value & 0xffff);
  }

  /** Appends a 48-bit value given as its high 24 and low 24 bits. */
  write48(high: number, low: number): void {
    this.write(24, high);
    this.write(24, low);
  }

  /** Pads the last byte with zero bits. */
  alignToByte(): void {
    if (this.bitCount > 0) this.write(8 - this.bitCount, 0);
  }

  /** Returns the whole bytes written so far and keeps any trailing bits. */
  takeBytes(): Buffer {
    const taken = Buffer.from(this.bytes.subarray(0, this.length));
    this.length = 0;
    return taken;
  }

  private grow(): void {
    const larger = new Uint8Array(this.bytes.length * 2);
    larger.set(this.bytes);
    this.bytes = larger;
  }
}
