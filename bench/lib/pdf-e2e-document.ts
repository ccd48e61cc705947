/**
 * The PDF of the end-to-end benchmark (`bench/pdf-e2e.bench.ts`): A4 pages with the text of
 * the other PDF benchmarks and tests (`makeLongPdf` in the workers' test fixtures, the lines of
 * `pdf-text.bench.ts`), plus what makes rendering cost something on a real catalogue page: a
 * product table drawn with vector rules, colour swatches, a circle, and a raster photo (one of
 * four 320 × 240 PNGs, cycled, so pdf.js decodes images as a catalogue makes it). Each page also
 * has one product line the rule-based material extractor recognises, so materials are found.
 */
import { PDFDocument, rgb, StandardFonts, type PDFFont, type PDFImage, type PDFPage } from 'pdf-lib';
import { encodePng } from './png.js';

/**
 * An RGB PNG of `width` × `height` with a gradient and a ripple pattern seeded by `seed` (so it
 * does not compress to nothing, like a photo). Written by hand: the bench root has no image library.
 */
export function makePhotoPng(width: number, height: number, seed: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const ripple = Math.sin((x + seed * 17) / 9) * Math.cos((y - seed * 11) / 7);
      const at = row + 1 + x * 3;
      raw[at] = (120 + 100 * ripple + x / 4) & 0xff;
      raw[at + 1] = (90 + 60 * ripple + y / 3 + seed * 30) & 0xff;
      raw[at + 2] = (60 + 80 * Math.abs(ripple) + ((x * y) % 23)) & 0xff;
    }
  }
  return encodePng(width, height, 3, raw);
}

const FINISHES = ['polished', 'honed', 'matt', 'flamed'] as const;
const STONES = ['Carrara marble tile', 'Grey granite slab', 'Travertine tile', 'Basalt paver'] as const;

/** A `count`-page catalogue-like PDF (see the module comment). About 14 KB a page. */
export async function makeE2ePdf(count: number): Promise<Buffer> {
  const document = await PDFDocument.create();
  document.setProducer('kai-jobs bench');
  const font = await document.embedFont(StandardFonts.Helvetica);
  const bold = await document.embedFont(StandardFonts.HelveticaBold);
  const photos: PDFImage[] = [];
  for (let seed = 0; seed < 4; seed++) photos.push(await document.embedPng(makePhotoPng(320, 240, seed)));
  for (let pageIndex = 0; pageIndex < count; pageIndex++) {
    const page = document.addPage([595, 842]);
    const n = pageIndex + 1;
    page.drawText(`Stone collection, page ${n}`, { x: 56, y: 800, size: 16, font: bold });
    page.drawImage(photos[pageIndex % photos.length] as PDFImage, { x: 335, y: 610, width: 204, height: 153 });
    for (let swatch = 0; swatch < 6; swatch++) {
      page.drawRectangle({ x: 56 + swatch * 42, y: 700, width: 34, height: 34, color: rgb(0.2 + swatch * 0.12, 0.5 - swatch * 0.05, 0.3 + ((n + swatch) % 5) * 0.1) });
    }
    page.drawCircle({ x: 130, y: 650, size: 30, borderColor: rgb(0.1, 0.1, 0.1), borderWidth: 1.5, color: rgb(0.9, 0.85, 0.7) });
    // The product line the material extractor finds (name, format, finish, thickness).
    const stone = STONES[pageIndex % STONES.length] as string;
    page.drawText(`${stone} ${n % 3 === 0 ? '60x60' : '60x30'} cm, ${FINISHES[pageIndex % FINISHES.length]}, ${10 + (n % 3) * 10} mm`, { x: 56, y: 585, size: 11, font });
    // A product table: rules drawn as vector lines, cells as text.
    const tableTop = 560;
    for (let row = 0; row <= 6; row++) page.drawLine({ start: { x: 56, y: tableTop - row * 16 }, end: { x: 539, y: tableTop - row * 16 }, thickness: 0.6, color: rgb(0.4, 0.4, 0.4) });
    for (const x of [56, 200, 300, 400, 539]) page.drawLine({ start: { x, y: tableTop }, end: { x, y: tableTop - 96 }, thickness: 0.6, color: rgb(0.4, 0.4, 0.4) });
    for (let row = 0; row < 6; row++) {
      const cells = row === 0 ? ['Product', 'Format', 'Finish', 'Thickness'] : [`${stone} ${row}`, `${30 * row} x 60 cm`, FINISHES[row % FINISHES.length] as string, `${10 + row * 2} mm`];
      cells.forEach((cell, column) => page.drawText(cell, { x: [60, 204, 304, 404][column] as number, y: tableTop - row * 16 - 12, size: 9, font }));
    }
    drawBodyParagraphs(page, font, n, 6, 440);
  }
  return Buffer.from(await document.save());
}

/**
 * The body text of the PDF benchmarks (the lines of `makeLongPdf` in the workers' test fixtures):
 * `paragraphs` paragraphs of 3 lines, from `top` down, in 10 pt.
 */
export function drawBodyParagraphs(page: PDFPage, font: PDFFont, pageNumber: number, paragraphs: number, top: number): void {
  let y = top;
  for (let paragraph = 0; paragraph < paragraphs; paragraph++) {
    for (const line of [
      `Page ${pageNumber}, section ${paragraph + 1}: grey granite paving 600 x 400 mm, flamed, 30 mm.`,
      'The stones are cut from one quarry bench so the colour stays consistent across the batch.',
      'Lay them on a compacted sub-base with a bedding layer of sharp sand and joint with mortar.',
    ]) {
      page.drawText(line, { x: 56, y, size: 10, font });
      y -= 13;
    }
    y -= 13;
  }
}
