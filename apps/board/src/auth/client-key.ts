import { isIP } from 'node:net';
import { unmapIpv4 } from './loopback.js';

/**
 * The key a client's failed attempts are counted under: its IPv4 address, or the /64
 * network of its IPv6 address — one IPv6 host commonly holds a whole /64, so counting
 * single addresses would let it guess without limit.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const plain = unmapIpv4(address);
  if (isIP(plain) !== 6) return plain;
  const groups = expandIpv6(plain);
  return groups === null ? plain : `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (lower-case, no leading zeros), or null. */
export function expandIpv6(address: string): string[] | null {
  const withoutZone = address.split('%')[0] as string;
  let text = withoutZone;
  // An embedded IPv4 tail (::ffff:1.2.3.4 forms not caught above, or ::1.2.3.4) becomes two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? (halves[1] as string).split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.map((group) => Number.parseInt(group, 16).toString(16));
}
