import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface ParsedIp {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A network in CIDR notation, parsed. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
  /** The text it was parsed from (for messages). */
  readonly text: string;
}

/** Why an address is not reachable by default. */
export const BlockedRangeKind = {
  Unspecified: 'unspecified',
  Loopback: 'loopback',
  Private: 'private',
  LinkLocal: 'link-local',
  CloudMetadata: 'cloud-metadata',
  SharedAddressSpace: 'shared-address-space (CGNAT)',
  Multicast: 'multicast',
  Reserved: 'reserved',
} as const;
/** One of {@link BlockedRangeKind}. */
export type BlockedRangeKind = (typeof BlockedRangeKind)[keyof typeof BlockedRangeKind];

/** Parses a textual IPv4 or IPv6 address (no brackets, no zone); null when it is not one. */
export function parseIp(text: string): ParsedIp | null {
  if (isIPv4(text)) return { family: 4, bytes: Uint8Array.from(text.split('.').map(Number)) };
  if (!isIPv6(text)) return null;
  let head = text;
  let v4Tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // An embedded dotted IPv4 tail (`::ffff:1.2.3.4`) fills the last 32 bits.
    v4Tail = text.slice(lastColon + 1).split('.').map(Number);
    head = `${text.slice(0, lastColon)}:0:0`;
  }
  const [left = '', right] = head.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...new Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  if (v4Tail.length === 4) bytes.set(v4Tail, 12);
  return { family: 6, bytes };
}

/** Parses `a.b.c.d/n`, `x::/n`, or a bare address (a /32 or /128); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [address = '', prefix, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const ip = parseIp(address.replace(/^\[|\]$/g, ''));
  if (ip === null) return null;
  const max = ip.family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max || (prefix !== undefined && !/^\d+$/.test(prefix))) {
    return null;
  }
  return { family: ip.family, bytes: ip.bytes, prefixLength, text: text.trim() };
}

/** True when `ip` lies inside `cidr` (an IPv4-mapped IPv6 address is compared as IPv4). */
export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  const candidate = ip.family === 6 && cidr.family === 4 ? embeddedIpv4(ip) : ip;
  if (candidate === null || candidate.family !== cidr.family) return false;
  let bits = cidr.prefixLength;
  for (let index = 0; bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((candidate.bytes[index] ?? 0) & mask) !== ((cidr.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * The IPv4 address carried inside an IPv6 one — IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
 * (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) — or null. These reach the IPv4 host, so they are
 * judged as that host.
 */
export function embeddedIpv4(ip: ParsedIp): ParsedIp | null {
  if (ip.family !== 6) return null;
  const b = ip.bytes;
  const zeroes = (from: number, to: number): boolean => b.slice(from, to).every((byte) => byte === 0);
  const mapped = zeroes(0, 10) && b[10] === 0xff && b[11] === 0xff;
  const compatible = zeroes(0, 12) && !(zeroes(12, 15) && (b[15] === 0 || b[15] === 1));
  const nat64 = b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeroes(4, 12);
  return mapped || compatible || nat64 ? { family: 4, bytes: b.slice(12, 16) } : null;
}

function range(text: string, kind: BlockedRangeKind): { cidr: Cidr; kind: BlockedRangeKind } {
  const cidr = parseCidr(text);
  if (cidr === null) throw new Error(`bad built-in range ${text}`);
  return { cidr, kind };
}

/**
 * Ranges refused by default. Cloud-metadata entries come first so the message names the
 * most specific reason (169.254.169.254 is also link-local).
 */
export const BLOCKED_RANGES: readonly { cidr: Cidr; kind: BlockedRangeKind }[] = [
  range('169.254.169.254/32', BlockedRangeKind.CloudMetadata),
  range('fd00:ec2::254/128', BlockedRangeKind.CloudMetadata),
  range('0.0.0.0/8', BlockedRangeKind.Unspecified),
  range('10.0.0.0/8', BlockedRangeKind.Private),
  range('100.64.0.0/10', BlockedRangeKind.SharedAddressSpace),
  range('127.0.0.0/8', BlockedRangeKind.Loopback),
  range('169.254.0.0/16', BlockedRangeKind.LinkLocal),
  range('172.16.0.0/12', BlockedRangeKind.Private),
  range('192.0.0.0/24', BlockedRangeKind.Reserved),
  range('192.168.0.0/16', BlockedRangeKind.Private),
  range('198.18.0.0/15', BlockedRangeKind.Reserved),
  range('224.0.0.0/4', BlockedRangeKind.Multicast),
  range('240.0.0.0/4', BlockedRangeKind.Reserved),
  range('::/128', BlockedRangeKind.Unspecified),
  range('::1/128', BlockedRangeKind.Loopback),
  range('fc00::/7', BlockedRangeKind.Private),
  range('fe80::/10', BlockedRangeKind.LinkLocal),
  range('ff00::/8', BlockedRangeKind.Multicast),
  range('100::/64', BlockedRangeKind.Reserved),
];

/** The kind of blocked range `address` is in, or null when it is a public address. */
export function blockedRangeOf(address: string): BlockedRangeKind | null {
  const ip = parseIp(address);
  if (ip === null) return BlockedRangeKind.Reserved;
  for (const { cidr, kind } of BLOCKED_RANGES) {
    if (cidrContains(cidr, ip)) return kind;
  }
  return null;
}
