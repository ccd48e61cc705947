/** The line of text of the recovery drill's canary PDF. */
export const CANARY_TEXT = 'kai-jobs drill: porcelain tile 60x60 cm';

/**
 * A minimal one-page PDF with a line of text, written by hand (no PDF library needed): the
 * recovery drill's canary input. The drill enqueues only its spec (`{ kind: 'canary', text }`
 * as the source); the worker writes the PDF from it, so no document travels in the job data.
 * No whitespace a parser does not need, a page just large enough for the line; offsets in the
 * cross-reference table are computed, so pdf.js opens it cleanly.
 */
export function canaryPdf(text: string = CANARY_TEXT): Buffer {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT/F1 12 Tf 8 8 Td(${escaped})Tj ET`;
  const objects = [
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    '<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 30]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>',
    `<</Length ${Buffer.byteLength(content, 'latin1')}>>stream\n${content}\nendstream`,
    '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${index + 1} 0 obj${object}endobj\n`;
  });
  const xrefAt = Buffer.byteLength(body, 'latin1');
  // Each cross-reference entry must be exactly 20 bytes, its end-of-line included.
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer<</Size ${objects.length + 1}/Root 1 0 R>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
