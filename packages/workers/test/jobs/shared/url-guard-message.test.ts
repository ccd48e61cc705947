import { describe, expect, it } from 'vitest';
import { parseWorkerEnv, UrlGuard } from '@kai-jobs/workers';

// The guard's refusal is what an operator reads in `kai-jobs status` and on the board: it must
// name the setting that permits the host, not an option of a class they never see.
describe('a refused URL names SCRAPE_ALLOW', () => {
  const resolveHost = async (hostname: string) => {
    if (hostname === 'intranet.test') return [{ address: '10.1.2.3', family: 4 as const }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  };

  it('says which variable allows the host, and with what', async () => {
    const guard = new UrlGuard({ resolveHost });
    await expect(guard.check('http://intranet.test/feed.xml')).rejects.toThrow(
      'refused http://intranet.test/feed.xml: intranet.test resolves to 10.1.2.3, which is private; to permit it, add intranet.test or 10.1.2.3 to SCRAPE_ALLOW on the workers (comma-separated host names, addresses or CIDRs; the urlGuard allow option in code)',
    );
    await expect(guard.check('http://127.0.0.1:9/')).rejects.toThrow(/address 127\.0\.0\.1 is loopback; to permit it, add 127\.0\.0\.1 to SCRAPE_ALLOW/);
  });

  it('SCRAPE_ALLOW is the variable the workers read, and what it names is then allowed', async () => {
    const config = parseWorkerEnv({ SCRAPE_ALLOW: 'intranet.test, 127.0.0.0/8' });
    expect(config.scrapeAllow).toEqual(['intranet.test', '127.0.0.0/8']);
    const guard = new UrlGuard({ resolveHost, allow: config.scrapeAllow });
    await expect(guard.check('http://intranet.test/feed.xml')).resolves.toMatchObject({ address: '10.1.2.3' });
    await expect(guard.check('http://127.0.0.1:9/')).resolves.toMatchObject({ address: '127.0.0.1' });
  });
});
