/**
 * The `vectors.f32` artifact: `count × dimensions` float32 values, little-endian, row-major
 * (row i is chunk i). Binary because JSON would triple the size and the parse time; float32
 * because embedding similarity needs no more precision.
 */

/** Encodes equal-length vectors; throws when one has another length. */
export function encodeVectors(vectors: readonly (readonly number[])[], dimensions: number): Buffer {
  const buffer = Buffer.alloc(vectors.length * dimensions * 4);
  vectors.forEach((vector, row) => writeVectorRow(buffer, row, vector, dimensions));
  return buffer;
}

/**
 * Writes `vector` as row `row` of a {@link encodeVectors} buffer (`rows × dimensions × 4`
 * bytes), so a caller can fill the artifact batch by batch instead of holding every vector as
 * a JavaScript array (8+ bytes a number) until the end. Throws when the length is not `dimensions`.
 */
export function writeVectorRow(buffer: Buffer, row: number, vector: readonly number[], dimensions: number): void {
  if (vector.length !== dimensions) throw new Error(`vector ${row} has ${vector.length} dimensions, expected ${dimensions}`);
  for (let column = 0; column < dimensions; column++) buffer.writeFloatLE(vector[column] as number, (row * dimensions + column) * 4);
}

/** Decodes {@link encodeVectors}'s bytes. */
export function decodeVectors(bytes: Uint8Array, dimensions: number): number[][] {
  if (bytes.byteLength % (dimensions * 4) !== 0) {
    throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dimensions}-dimension float32 vectors`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows = bytes.byteLength / (dimensions * 4);
  const vectors: number[][] = [];
  for (let row = 0; row < rows; row++) {
    const vector: number[] = new Array<number>(dimensions);
    for (let column = 0; column < dimensions; column++) vector[column] = view.getFloat32((row * dimensions + column) * 4, true);
    vectors.push(vector);
  }
  return vectors;
}
