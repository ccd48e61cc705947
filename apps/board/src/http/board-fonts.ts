import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router } from 'express';

/**
 * The fonts Bull Board's pages use, served by the board itself from the Fontsource npm
 * packages (pinned in the catalog) instead of Google Fonts: operators behind a firewall or
 * a strict CSP get the same look and no request leaves for a third-party host. The weights
 * are the ones Bull Board 9.x's `index.ejs` asks Google for.
 */
const FONTS = [
  { packageName: '@fontsource/ibm-plex-sans', weights: [400, 500, 600] },
  { packageName: '@fontsource/ibm-plex-mono', weights: [400, 500] },
] as const;

/** Where the stylesheet is served, relative to the board's base path. */
export const FONTS_STYLESHEET_PATH = 'fonts/fonts.css';

const requireFromHere = createRequire(import.meta.url);

/** The short name under `/fonts/` of a Fontsource package (`ibm-plex-sans`). */
function shortName(packageName: string): string {
  return packageName.slice(packageName.indexOf('/') + 1);
}

/**
 * One stylesheet with every `@font-face` of {@link FONTS}; each `url(./files/…)` points at
 * `<short name>/files/…`, relative to the stylesheet's own URL, so it works under any base path.
 */
export function buildFontsStylesheet(): string {
  const parts: string[] = [];
  for (const { packageName, weights } of FONTS) {
    const root = dirname(requireFromHere.resolve(`${packageName}/package.json`));
    for (const weight of weights) {
      const css = readFileSync(join(root, `${weight}.css`), 'utf8');
      parts.push(css.replace(/url\(\.\/files\//g, `url(${shortName(packageName)}/files/`));
    }
  }
  return parts.join('\n');
}

/**
 * `/fonts/fonts.css` and the font files it names (`/fonts/<font>/files/*.woff2|woff`),
 * long-cached: the files are versioned by the pinned package. Nothing else of the
 * packages is served.
 */
export function createFontsRouter(): Router {
  const stylesheet = buildFontsStylesheet();
  const router = Router();
  router.get(`/${FONTS_STYLESHEET_PATH}`, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('text/css').send(stylesheet);
  });
  for (const { packageName } of FONTS) {
    const files = join(dirname(requireFromHere.resolve(`${packageName}/package.json`)), 'files');
    router.use(
      `/fonts/${shortName(packageName)}/files`,
      (req, res, next) => {
        if (!/^\/[a-z0-9-]+\.woff2?$/.test(req.path)) {
          res.status(404).json({ error: 'not found', message: `no font ${req.path}` });
          return;
        }
        next();
      },
      express.static(files, { fallthrough: false, immutable: true, maxAge: '365d', index: false, dotfiles: 'deny' }),
    );
  }
  return router;
}

/** Bull Board's third-party stylesheet link (Google Fonts), as its 9.x `index.ejs` writes it. */
const GOOGLE_FONTS_LINK = /<link[^>]+href="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>/g;

/**
 * Bull Board's page with its Google Fonts link replaced by the board's own stylesheet
 * (relative to the page's `<base href>`), and no other `http(s)://` stylesheet, script or
 * preconnect left: whatever a later Bull Board adds from a third-party host is dropped
 * here, and the page's CSP would refuse it anyway.
 */
export function selfHostBullBoardHtml(html: string): string {
  const ownLink = `<link href="${FONTS_STYLESHEET_PATH}" rel="stylesheet">`;
  let replaced = false;
  let out = html.replace(GOOGLE_FONTS_LINK, () => {
    if (replaced) return '';
    replaced = true;
    return ownLink;
  });
  out = out.replace(/<link[^>]+href="(?:https?:)?\/\/[^"]*"[^>]*>/g, '');
  out = out.replace(/<script[^>]+src="(?:https?:)?\/\/[^"]*"[^>]*><\/script>/g, '');
  if (!replaced) out = out.replace('</head>', `${ownLink}</head>`);
  return out;
}
