import { describe, expect, it } from 'vitest';
import { extractHtml, productsFromJsonLd, productToken, robotsPolicyFor } from '@kai-jobs/workers';

const UA = 'KaiJobsBot/1.0 (+https://example.com/bot)';

describe('robots.txt', () => {
  const text = [
    '# comment',
    'User-agent: *',
    'Disallow: /',
    '',
    'User-agent: OtherBot',
    'User-agent: kaijobsbot',
    'Disallow: /private/',
    'Allow: /private/open',
    'Disallow: /*.pdf$',
    'Disallow: /search?',
    'Crawl-delay: 1.5',
    '',
    'User-agent: KaiJobsBot',
    'Disallow: /tmp',
  ].join('\n');
  const policy = robotsPolicyFor(text, UA);
  const allowed = (path: string) => policy.isAllowed(new URL(path, 'https://shop.example'));

  it('selects and merges the groups of the product token, case-insensitively', () => {
    expect(productToken(UA)).toBe('kaijobsbot');
    expect(allowed('/')).toBe(true); // "*" does not apply: a specific group exists
    expect(allowed('/tmp/x')).toBe(false); // second KaiJobsBot group merged
    expect(policy.crawlDelaySeconds).toBe(1.5);
  });

  it('applies the longest match, Allow winning ties, with * and $', () => {
    expect(allowed('/private/secret')).toBe(false);
    expect(allowed('/private/open/page')).toBe(true);
    expect(allowed('/files/catalogue.pdf')).toBe(false);
    expect(allowed('/files/catalogue.pdf?x=1')).toBe(true);
    expect(allowed('/search?q=tiles')).toBe(false);
    expect(allowed('/search')).toBe(true);
    expect(robotsPolicyFor('User-agent: *\nDisallow: /a\nAllow: /a', UA).isAllowed(new URL('https://x.example/a'))).toBe(true);
    expect(allowed('/robots.txt')).toBe(true);
  });

  it('falls back to "*", and allows everything without rules', () => {
    const star = robotsPolicyFor('User-agent: *\nDisallow: /admin\n', UA);
    expect(star.isAllowed(new URL('https://x.example/admin/users'))).toBe(false);
    expect(star.isAllowed(new URL('https://x.example/shop'))).toBe(true);
    expect(robotsPolicyFor('', UA).isAllowed(new URL('https://x.example/anything'))).toBe(true);
    expect(robotsPolicyFor('User-agent: *\nDisallow:\n', UA).isAllowed(new URL('https://x.example/'))).toBe(true);
  });
});

describe('HTML extraction', () => {
  it('gets title, visible text, absolute links (via <base>), JSON-LD', () => {
    const html = `<!doctype html><html><head><title> Tiles &amp; more </title><base href="https://cdn.example/shop/">
      <style>.x{color:red}</style><script>var hidden = 1;</script>
      <script type="application/ld+json">{"@type":"Product","name":"A"}</script></head>
      <body><h1>Porcelain</h1><p>Matt&nbsp;finish<br>60x60</p><noscript>enable js</noscript>
      <a href="a.html">A</a><a href="/b#frag">B</a><a href="a.html#x">A again</a><a href="javascript:alert(1)">no</a>
      <a href="mailto:x@y.z">mail</a><a href="https://other.example/c">C</a><a>no href</a></body></html>`;
    const out = extractHtml(html, 'https://shop.example/p/1', { maxTextChars: 1000, maxLinks: 10 });
    expect(out.title).toBe('Tiles & more');
    expect(out.text).toBe('Porcelain Matt finish 60x60 A B A again no mail C no href');
    expect(out.links).toEqual(['https://cdn.example/shop/a.html', 'https://cdn.example/b', 'https://other.example/c']);
    expect(out.jsonLd).toEqual(['{"@type":"Product","name":"A"}']);
  });

  it('caps text and links', () => {
    const links = Array.from({ length: 20 }, (_, index) => `<a href="/p/${index}">${'word '.repeat(10)}</a>`).join('');
    const out = extractHtml(`<body>${links}</body>`, 'https://x.example/', { maxTextChars: 30, maxLinks: 5 });
    expect(out.links).toHaveLength(5);
    expect(out.text).toHaveLength(30);
    expect(out.textTruncated).toBe(true);
  });
});

describe('JSON-LD products', () => {
  it('finds products in @graph, arrays and item lists, with offers, brand and image', () => {
    const blocks = [
      JSON.stringify({ '@context': 'https://schema.org', '@graph': [{ '@type': 'Organization', name: 'Shop' }, { '@type': 'schema:Product', name: 'Slate', sku: 'S1', brand: { name: 'Rock' }, image: [{ url: '/i.jpg' }], offers: { '@type': 'AggregateOffer', lowPrice: '10.5', highPrice: '20', priceCurrency: 'GBP' } }] }),
      JSON.stringify([{ '@type': 'ItemList', itemListElement: [{ '@type': 'ListItem', item: { '@type': ['Product', 'Thing'], name: 'Oak', productID: 'O7', url: '/oak', offers: [{ price: 'EUR 12.00', priceCurrency: 'EUR' }] } }] }]),
      '{ broken json',
      JSON.stringify({ '@type': 'Product', description: 'no name' }),
    ];
    expect(productsFromJsonLd(blocks, 'https://shop.example/list')).toEqual([
      { name: 'Slate', sku: 'S1', brand: 'Rock', price: 10.5, currency: 'GBP', image: 'https://shop.example/i.jpg', url: 'https://shop.example/list', pageUrl: 'https://shop.example/list' },
      { name: 'Oak', sku: 'O7', price: 12, currency: 'EUR', url: 'https://shop.example/oak', pageUrl: 'https://shop.example/list' },
    ]);
  });
});
