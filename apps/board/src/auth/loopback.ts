import { isIP } from 'node:net';

/**
 * Loopback checks. `BOARD_AUTH=off` is allowed only on a loopback address, because then
 * only processes on the same machine can reach the board.
 */

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`), else the input. */
export function unmapIpv4(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match?.[1] ?? address;
}

/** True for 127.0.0.0/8, `::1` and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(address: string): boolean {
  const plain = unmapIpv4(address.replace(/^\[|\]$/g, ''));
  if (isIP(plain) === 4) return plain.startsWith('127.');
  if (isIP(plain) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(plain) || plain === '::1';
  return false;
}

/**
 * True when binding to `host` keeps the board on this machine: a loopback address or
 * `localhost` (which resolves to loopback by definition, RFC 6761). `0.0.0.0`, `::` and
 * any other name are not.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isLoopbackAddress(name);
}
