import { describe, expect, it } from 'vitest';
import { blockedRangeOf, blockedReasonOf, cidrContains, parseCidr, parseIp, UrlGuard } from '@kai-jobs/workers';

describe('IP ranges', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.20.30.40', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud-metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['100.64.0.1', 'shared-address-space (CGNAT)'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['fc00::1', 'private'],
    ['fdab:1234::9', 'private'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'cloud-metadata'],
  ])('%s is %s', (address, kind) => {
    expect(blockedRangeOf(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '1.1.1.1'])('%s is public', (address) => {
    expect(blockedRangeOf(address)).toBeNull();
  });

  // IPv4 wrapped in an IPv6 transition address reaches the IPv4 host through a relay or translator.
  it.each([
    ['2002:7f00:1::', 'loopback', '127.0.0.1 inside 6to4'],
    ['2002:a9fe:a9fe::1', 'cloud-metadata', '169.254.169.254 inside 6to4'],
    ['2002:c0a8:101:1::1', 'private', '192.168.1.1 inside 6to4'],
    ['64:ff9b::7f00:2', 'loopback', undefined],
    ['64:ff9b::10.0.0.1', 'private', undefined],
    ['64:ff9b:1::a00:1', 'unspecified', '0.0.0.0 inside local-use NAT64'],
    ['64:ff9b:1:7f00:0:100::', 'loopback', '127.0.0.1 inside local-use NAT64'],
    ['64:ff9b:1::8.8.8.8', 'unspecified', '0.0.0.0 inside local-use NAT64'],
    // Teredo: server 127.0.0.1, client obfuscated (bits inverted): 0.0.0.0 ^ ff = 255.255.255.255.
    ['2001:0:7f00:1::', 'loopback', '127.0.0.1 inside Teredo (server)'],
    // Server public (8.8.8.8), client 10.0.0.1 stored inverted as f5ff:fffe.
    ['2001:0:808:808::f5ff:fffe', 'private', '10.0.0.1 inside Teredo (client)'],
  ])('%s wraps a refused IPv4 address: %s', (address, kind, inside) => {
    expect(blockedReasonOf(address)).toEqual(inside === undefined ? { kind } : { kind, inside });
  });

  it.each(['2002:808:808::1', '64:ff9b::8.8.8.8', '2001:0:808:808::f7f7:f7f7', '2001:db9::1'])('%s wraps a public IPv4 address (or none) and passes', (address) => {
    expect(blockedRangeOf(address)).toBeNull();
  });

  it('refuses wrapped addresses in URLs, and an IPv4 allow entry does not let its 6to4 form through', async () => {
    const guard = new UrlGuard({ allow: ['127.0.0.1'] });
    await expect(guard.check('http://[2002:7f00:1::]/')).rejects.toThrow(/address 2002:7f00:1:: is loopback \(127\.0\.0\.1 inside 6to4\)/);
    await expect(guard.check('http://[64:ff9b::a9fe:a9fe]/latest/meta-data/')).rejects.toThrow(/is cloud-metadata/);
    await expect(guard.check('http://[64:ff9b:1::a00:1]/')).rejects.toMatchObject({ name: 'UrlRefusedError', reason: 'refused' });
    await expect(guard.check('http://[2001:0:808:808::f5ff:fffe]/')).rejects.toThrow(/10\.0\.0\.1 inside Teredo \(client\)/);
    // A host name that resolves to a wrapped address is judged the same way.
    const resolving = new UrlGuard({ resolveHost: async () => [{ address: '2002:a00:1::1', family: 6 }] });
    await expect(resolving.check('http://sneaky.test/')).rejects.toThrow(/sneaky\.test resolves to 2002:a00:1::1, which is private \(10\.0\.0\.1 inside 6to4\)/);
  });

  it('parses CIDRs and tests membership', () => {
    const net = parseCidr('10.1.0.0/16');
    expect(net).not.toBeNull();
    expect(cidrContains(net!, parseIp('10.1.200.3')!)).toBe(true);
    expect(cidrContains(net!, parseIp('10.2.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:db8:ffff::1')!)).toBe(true);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('not-an-ip')).toBeNull();
    expect(parseIp('1::2:3:4')?.bytes).toEqual(Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 4]));
  });
});

describe('UrlGuard', () => {
  const resolveHost = async (hostname: string) => {
    const table: Record<string, { address: string; family: 4 | 6 }[]> = {
      'public.test': [{ address: '93.184.216.34', family: 4 }],
      'mixed.test': [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }],
      'v6.test': [{ address: '::1', family: 6 }],
    };
    const found = table[hostname];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };

  it('pins the first address of a public host', async () => {
    const target = await new UrlGuard({ resolveHost }).check('https://public.test/x');
    expect(target).toMatchObject({ hostname: 'public.test', address: '93.184.216.34', family: 4 });
  });

  it('refuses schemes other than http(s), and every refused range', async () => {
    const guard = new UrlGuard({ resolveHost });
    await expect(guard.check('ftp://public.test/')).rejects.toMatchObject({ name: 'UrlRefusedError', reason: 'refused' });
    await expect(guard.check('file:///etc/passwd')).rejects.toThrow(/scheme "file" is not allowed/);
    await expect(guard.check('http://[::1]:8080/')).rejects.toThrow(/address ::1 is loopback/);
    await expect(guard.check('http://2130706433/')).rejects.toThrow(/address 127\.0\.0\.1 is loopback/);
    await expect(guard.check('http://0x7f.1/')).rejects.toThrow(/127\.0\.0\.1 is loopback/);
    await expect(guard.check('http://[::ffff:169.254.169.254]/')).rejects.toThrow(/is cloud-metadata/);
    // One bad address among several is enough: the resolver's order is not trusted.
    await expect(guard.check('http://mixed.test/')).rejects.toThrow(/mixed\.test resolves to 10\.0\.0\.7, which is private/);
    await expect(guard.check('http://v6.test/')).rejects.toThrow(/v6\.test resolves to ::1, which is loopback/);
  });

  it('reports unresolvable hosts as network failures, not refusals', async () => {
    await expect(new UrlGuard({ resolveHost }).check('http://nowhere.test/')).rejects.toMatchObject({ name: 'HttpFetchError', reason: 'network', retryable: true });
  });

  it('lets allowed addresses, networks and host names through', async () => {
    const guard = new UrlGuard({ resolveHost, allow: ['127.0.0.1', '10.0.0.0/8', 'V6.test'] });
    await expect(guard.check('http://127.0.0.1:3000/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(guard.check('http://mixed.test/')).resolves.toMatchObject({ address: '93.184.216.34' });
    await expect(guard.check('http://v6.test/')).resolves.toMatchObject({ address: '::1', family: 6 });
    await expect(guard.check('http://127.0.0.2/')).rejects.toThrow(/127\.0\.0\.2 is loopback/);
    await expect(guard.check('http://192.168.0.1/')).rejects.toThrow(/is private/);
  });

  it('rejects a malformed allow list when it is built', () => {
    expect(() => new UrlGuard({ allow: ['10.0.0.0/99'] })).toThrow(/allow\.0: "10\.0\.0\.0\/99" is neither a host name/);
  });
});
