/**
 * PDFs for the tile-rendering benchmarks (render-soak, render-cores): text in three standard
 * fonts, embedded images (RGB, and RGBA whose alpha becomes a soft mask), vector paths — what
 * pdf.js draws through different code paths of @napi-rs/canvas (glyph paths, image decoding and
 * `putImageData`, masks, fills and strokes).
 */
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';
import { makeLongPdf } from '@kai-jobs/workers/fixtures/pdfs';
import { encodePng } from './png.js';

/** A PDF written to disk, as the render task is given it. */
export interface RenderDocument {
  name: string;
  path: string;
  sha256: string;
  pages: number;
}

function save(folder: string, name: string, bytes: Uint8Array, pages: number): RenderDocument {
  const path = join(folder, `${name}.pdf`);
  writeFileSync(path, bytes);
  return { name, path, sha256: createHash('sha256').update(bytes).digest('hex'), pages };
}

/** CRC-32 of PNG chunks (the zlib polynomial), table-driven. */
/**
 * A photo-like picture (colour waves and rings), as a PNG made here (the bench has no image
 * library of its own): RGB, or RGBA with a radial alpha that pdf-lib turns into a soft mask.
 */
function picture(seed: number, alpha: boolean): Buffer {
  const width = 320;
  const height = 200;
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc((width * channels + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * channels + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const at = row + 1 + x * channels;
      const ring = Math.sin(Math.hypot(x - 160, y - 100) / (6 + (seed % 5)));
      raw[at] = 128 + 127 * Math.sin((x + seed * 17) / 23);
      raw[at + 1] = 128 + 127 * ring;
      raw[at + 2] = 128 + 127 * Math.cos((y + seed * 11) / 19);
      if (alpha) raw[at + 3] = Math.max(0, 255 - Math.hypot(x - 160, y - 100) * 1.4);
    }
  }
  return encodePng(width, height, alpha ? 4 : 3, raw);
}

/** `pages` A4 pages, each with two pictures (one RGB, one with a soft mask), a caption and ruled lines. */
async function makeImagePdf(pages: number): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.TimesRoman);
  for (let index = 0; index < pages; index++) {
    const page = document.addPage([595, 842]);
    const opaque = await document.embedPng(picture(index, false));
    const masked = await document.embedPng(picture(index + 100, true));
    page.drawImage(opaque, { x: 56, y: 480, width: 480, height: 300 });
    page.drawImage(masked, { x: 56, y: 120, width: 240, height: 150 });
    page.drawText(`Figure ${index + 1}: travertine floor, honed and filled.`, { x: 56, y: 455, size: 11, font });
    for (let row = 0; row < 8; row++) page.drawLine({ start: { x: 310, y: 280 - row * 20 }, end: { x: 540, y: 280 - row * 20 }, thickness: 0.5, color: rgb(0.3, 0.3, 0.3) });
  }
  return document.save();
}

/** `pages` A4 pages of vector drawing (rectangles, circles, SVG paths) and Courier labels. */
async function makeVectorPdf(pages: number): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Courier);
  for (let index = 0; index < pages; index++) {
    const page = document.addPage([595, 842]);
    for (let shape = 0; shape < 60; shape++) {
      const x = 40 + ((shape * 71 + index * 13) % 480);
      const y = 60 + ((shape * 113 + index * 29) % 700);
      const colour = rgb((shape % 7) / 7, ((shape + index) % 5) / 5, (shape % 3) / 3);
      if (shape % 3 === 0) page.drawRectangle({ x, y, width: 40, height: 25, borderColor: colour, borderWidth: 1.5, color: rgb(1, 1, 1), opacity: 0.6 });
      else if (shape % 3 === 1) page.drawCircle({ x, y, size: 18, color: colour, opacity: 0.7 });
      else page.drawSvgPath('M 0 0 L 30 10 Q 45 40 10 35 C 0 30 -10 20 0 0 Z', { x, y, color: colour, borderColor: rgb(0, 0, 0), borderWidth: 0.8 });
      page.drawText(`S${shape}`, { x: x + 2, y: y - 10, size: 7, font });
    }
  }
  return document.save();
}

/**
 * The soak's documents: a 10-page text PDF (the "same" document), and 4 others of 3 pages each:
 * text in Times, pictures, vector drawing, and text again (a different file, so a different
 * document cache entry in the thread).
 */
export async function makeRenderDocuments(folder: string): Promise<RenderDocument[]> {
  return [
    save(folder, 'text-10', await makeLongPdf(10), 10),
    save(folder, 'images-3', await makeImagePdf(3), 3),
    save(folder, 'vectors-3', await makeVectorPdf(3), 3),
    save(folder, 'text-3', await makeLongPdf(3), 3),
    save(folder, 'images-vectors-4', await mixed(), 4),
  ];
  async function mixed(): Promise<Uint8Array> {
    const images = await PDFDocument.load(await makeImagePdf(2));
    const vectors = await PDFDocument.load(await makeVectorPdf(2));
    const document = await PDFDocument.create();
    for (const source of [images, vectors]) for (const page of await document.copyPages(source, source.getPageIndices())) document.addPage(page);
    return document.save();
  }
}

/** A `pages`-page text PDF for the cores benchmark (8 paragraphs of 3 lines per page). */
export async function makeTextDocument(folder: string, pages: number): Promise<RenderDocument> {
  return save(folder, `text-${pages}`, await makeLongPdf(pages), pages);
}
