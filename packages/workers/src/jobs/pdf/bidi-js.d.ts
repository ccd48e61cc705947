/** Types of the part of bidi-js (MIT, no bundled types) that page-text.ts uses. */
declare module 'bidi-js' {
  /** Embedding levels of a string, per the Unicode bidirectional algorithm. */
  export interface EmbeddingLevels {
    levels: Uint8Array;
    paragraphs: { start: number; end: number; level: number }[];
  }
  /** The bidi functions. */
  export interface Bidi {
    getEmbeddingLevels(text: string, direction?: 'ltr' | 'rtl' | 'auto'): EmbeddingLevels;
    getReorderedString(text: string, levels: EmbeddingLevels, start?: number, end?: number): string;
  }
  /** Builds the bidi functions. */
  export default function bidiFactory(): Bidi;
}
