/**
 * Random names for staged files and folders, unnamed outputs and anonymous ids. A name only has
 * to differ from the others in its folder or document, not be hard to guess, so Math.random
 * serves. node:crypto, which took about 1.3 ms to load here, is then needed only for checksums.
 */

/** Returns `digits` random hexadecimal digits. */
export function randomHex(digits: number): string {
  let text = '';
  while (text.length < digits) {
    text += Math.floor(Math.random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  }
  return text.slice(0, digits);
}

/** Returns a random id written as a version 4 UUID, as Schema Salad gives anonymous types. */
export function randomUuid(): string {
  const hex = randomHex(32);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}
