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

/** How an IPv4 address travels inside an IPv6 one (see {@link wrappedIpv4s}). */
export const Ipv4Wrapping = {
  SixToFour: '6to4',
  Nat64: 'NAT64',
  Nat64LocalUse: 'local-use NAT64',
  TeredoServer: 'Teredo (server)',
  TeredoClient: 'Teredo (client)',
} as const;
/** One of {@link Ipv4Wrapping}. */
export type Ipv4Wrapping = (typeof Ipv4Wrapping)[keyof typeof Ipv4Wrapping];

/** An IPv4 address found inside an IPv6 one, and how it is carried. */
export interface WrappedIpv4 {
  readonly via: Ipv4Wrapping;
  readonly ip: ParsedIp;
}

function v4(...bytes: (number | undefined)[]): ParsedIp {
  return { family: 4, bytes: Uint8Array.from(bytes.map((byte) => byte ?? 0)) };
}

/**
 * The IPv4 addresses an IPv6 address reaches through a transition mechanism: 6to4
 * (`2002:AABB:CCDD::/48` carries A.B.C.D), NAT64 (`64:ff9b::/96`, RFC 6052, and the local-use
 * `64:ff9b:1::/48`, RFC 8215) and Teredo (`2001::/32`: the server in bits 32–63, the client
 * obfuscated in the last 32 bits). A relay or translator turns a packet to such an address into
 * one to the IPv4 host, so the guard judges each of them as that host.
 *
 * Local-use NAT64 lets the operator pick a prefix of 48, 56, 64 or 96 bits, which moves the
 * IPv4 address; we cannot know which the network uses, so every RFC 6052 position is returned
 * and any refused one refuses the address.
 */
export function wrappedIpv4s(ip: ParsedIp): WrappedIpv4[] {
  if (ip.family !== 6) return [];
  const b = ip.bytes;
  if (b[0] === 0x20 && b[1] === 0x02) return [{ via: Ipv4Wrapping.SixToFour, ip: v4(b[2], b[3], b[4], b[5]) }];
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) {
    return [
      { via: Ipv4Wrapping.TeredoServer, ip: v4(b[4], b[5], b[6], b[7]) },
      { via: Ipv4Wrapping.TeredoClient, ip: v4(...[12, 13, 14, 15].map((index) => (b[index] ?? 0) ^ 0xff)) },
    ];
  }
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (b[4] === 0x00 && b[5] === 0x01) {
      const via = Ipv4Wrapping.Nat64LocalUse;
      return [
        { via, ip: v4(b[6], b[7], b[9], b[10]) },
        { via, ip: v4(b[7], b[9], b[10], b[11]) },
        { via, ip: v4(b[9], b[10], b[11], b[12]) },
        { via, ip: v4(b[12], b[13], b[14], b[15]) },
      ];
    }
    // Inside 64:ff9b::/96 only; the rest of 64:ff9b::/32 is no NAT64 prefix.
    if (b.slice(4, 12).every((byte) => byte === 0)) return [{ via: Ipv4Wrapping.Nat64, ip: v4(b[12], b[13], b[14], b[15]) }];
  }
  return [];
}

/** Why an address is refused: its range, and the wrapped IPv4 address that put it there, if any. */
export interface BlockedReason {
  readonly kind: BlockedRangeKind;
  /** Set when the address is refused for the IPv4 address it wraps, e.g. `127.0.0.1 inside 6to4`. */
  readonly inside?: string;
}

function directRangeOf(ip: ParsedIp): BlockedRangeKind | null {
  for (const { cidr, kind } of BLOCKED_RANGES) {
    if (cidrContains(cidr, ip)) return kind;
  }
  return null;
}

/** Why `address` is refused by default, or null when it is a public address. */
export function blockedReasonOf(address: string): BlockedReason | null {
  const ip = parseIp(address);
  if (ip === null) return { kind: BlockedRangeKind.Reserved };
  const direct = directRangeOf(ip);
  if (direct !== null) return { kind: direct };
  for (const wrapped of wrappedIpv4s(ip)) {
    const kind = directRangeOf(wrapped.ip);
    if (kind !== null) return { kind, inside: `${[...wrapped.ip.bytes].join('.')} inside ${wrapped.via}` };
  }
  return null;
}

/** The kind of blocked range `address` is in (directly or through a wrapped IPv4 address), or null when it is public. */
export function blockedRangeOf(address: string): BlockedRangeKind | null {
  return blockedReasonOf(address)?.kind ?? null;
}
