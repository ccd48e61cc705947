/**
 * `ArrayBuffer.prototype.transferToFixedLength` for Node 20.
 *
 * Why: pdf.js 5 serialises font data with `buffer.transferToFixedLength(length)`. The method
 * is ES2024 and arrived in Node 22 (V8 11.4+ behind a flag before that); on Node 20 the call
 * throws inside pdf.js's font loading, which pdf.js swallows, so the page renders with no
 * glyphs: blank tiles, and no error anywhere. The `legacy` build bundles a core-js polyfill
 * for it, but whether that one installs depends on the build and on feature probes, so we
 * install our own before pdf.js loads (in every thread that loads pdf.js) and never depend
 * on it. Where the method exists natively this module does nothing.
 */

/**
 * What `buffer.transferToFixedLength(newLength)` returns: a new non-resizable buffer of
 * `newLength` bytes (default: the old length) holding the old bytes (truncated, or
 * zero-filled past the old end); the old buffer is detached afterwards, like the native.
 */
export function transferToFixedLength(buffer: ArrayBuffer, newLength?: number): ArrayBuffer {
  const length = newLength === undefined ? buffer.byteLength : toIndex(newLength);
  const copy = new ArrayBuffer(length);
  new Uint8Array(copy).set(new Uint8Array(buffer, 0, Math.min(length, buffer.byteLength)));
  detach(buffer);
  return copy;
}

function toIndex(value: number): number {
  const integer = Math.trunc(Number(value));
  if (!Number.isFinite(integer) || integer < 0 || integer > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`invalid array buffer length ${String(value)}`);
  }
  return integer;
}

/** Detaches `buffer` the only portable way: transfer it through structuredClone. */
function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

/** True when this runtime has the method natively or through an earlier polyfill. */
export function hasTransferToFixedLength(): boolean {
  return typeof (ArrayBuffer.prototype as { transferToFixedLength?: unknown }).transferToFixedLength === 'function';
}

/**
 * Installs {@link transferToFixedLength} on `ArrayBuffer.prototype` when missing
 * (non-enumerable, like a built-in). Idempotent; returns true when it installed it.
 */
export function installArrayBufferTransferPolyfill(): boolean {
  if (hasTransferToFixedLength()) return false;
  Object.defineProperty(ArrayBuffer.prototype, 'transferToFixedLength', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function (this: ArrayBuffer, newLength?: number): ArrayBuffer {
      return transferToFixedLength(this, newLength);
    },
  });
  return true;
}
