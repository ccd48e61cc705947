import { Parser } from 'htmlparser2';

/** What a page yields before product extraction. */
export interface ExtractedHtml {
  title: string | null;
  /** Visible text, whitespace collapsed, at most `maxTextChars`. */
  text: string;
  /** True when the text was cut at `maxTextChars`. */
  textTruncated: boolean;
  /** Absolute http(s) links (fragment removed), deduplicated, in document order. */
  links: string[];
  /** Raw contents of each `<script type="application/ld+json">`. */
  jsonLd: string[];
}

/** Limits of {@link extractHtml}. */
export interface ExtractHtmlLimits {
  maxTextChars: number;
  maxLinks: number;
}

/** Elements whose contents are not visible text. */
const HIDDEN = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head']);

/** Normalises `href` against `base` to an absolute http(s) URL without fragment, or null. */
export function absoluteLink(href: string, base: URL): string | null {
  const trimmed = href.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  let url: URL;
  try {
    url = new URL(trimmed, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  return url.href;
}

/**
 * Extracts title, visible text, links and JSON-LD blocks from an HTML document in one
 * streaming pass (htmlparser2: tolerant of broken markup, no DOM built).
 */
export function extractHtml(html: string, pageUrl: string, limits: ExtractHtmlLimits): ExtractedHtml {
  let base = new URL(pageUrl);
  let baseSeen = false;
  let title: string | null = null;
  let inTitle = false;
  let titleText = '';
  let hiddenDepth = 0;
  let jsonLdText: string | null = null;
  const jsonLd: string[] = [];
  const textParts: string[] = [];
  let textLength = 0;
  let textTruncated = false;
  const links = new Set<string>();

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'base' && !baseSeen && attributes['href'] !== undefined) {
          baseSeen = true;
          try {
            base = new URL(attributes['href'], base);
          } catch {
            // A broken <base> is ignored, as browsers do.
          }
        }
        if ((name === 'a' || name === 'area') && attributes['href'] !== undefined && links.size < limits.maxLinks) {
          const link = absoluteLink(attributes['href'], base);
          if (link !== null) links.add(link);
        }
        if (name === 'title' && title === null) inTitle = true;
        if (name === 'script' && (attributes['type'] ?? '').trim().toLowerCase() === 'application/ld+json') jsonLdText = '';
        if (HIDDEN.has(name)) hiddenDepth += 1;
      },
      ontext(text) {
        if (jsonLdText !== null) {
          jsonLdText += text;
          return;
        }
        if (inTitle) titleText += text;
        if (hiddenDepth > 0 || textTruncated) return;
        textParts.push(text);
        textLength += text.length;
        if (textLength > limits.maxTextChars * 2) textTruncated = true;
      },
      onclosetag(name) {
        if (name === 'title' && inTitle) {
          inTitle = false;
          title = titleText.replace(/\s+/g, ' ').trim();
        }
        if (name === 'script' && jsonLdText !== null) {
          jsonLd.push(jsonLdText);
          jsonLdText = null;
        }
        if (HIDDEN.has(name) && hiddenDepth > 0) hiddenDepth -= 1;
        // Block boundaries separate words that markup alone kept apart.
        textParts.push(' ');
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();

  let text = textParts.join('').replace(/\s+/g, ' ').trim();
  if (text.length > limits.maxTextChars) {
    text = text.slice(0, limits.maxTextChars);
    textTruncated = true;
  }
  return { title: title === '' ? null : title, text, textTruncated, links: [...links], jsonLd };
}
