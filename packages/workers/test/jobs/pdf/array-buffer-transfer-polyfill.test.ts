import { describe, expect, it } from 'vitest';
import { installArrayBufferTransferPolyfill, transferToFixedLength } from '@kai-jobs/workers';

describe('transferToFixedLength polyfill', () => {
  it('copies into a new buffer of the asked length and detaches the old one, like the native method', () => {
    const source = new Uint8Array([1, 2, 3, 4, 5]).buffer;
    const shorter = transferToFixedLength(source, 3);
    expect([...new Uint8Array(shorter)]).toEqual([1, 2, 3]);
    expect(source.byteLength).toBe(0); // detached

    const again = new Uint8Array([9, 8]).buffer;
    const longer = transferToFixedLength(again, 4);
    expect([...new Uint8Array(longer)]).toEqual([9, 8, 0, 0]);

    const same = transferToFixedLength(new Uint8Array([7, 7, 7]).buffer);
    expect(same.byteLength).toBe(3);
    expect(() => transferToFixedLength(new ArrayBuffer(1), -1)).toThrow(RangeError);
  });

  it('is installed once, non-enumerable, and used through the prototype', () => {
    installArrayBufferTransferPolyfill();
    expect(installArrayBufferTransferPolyfill()).toBe(false);
    const descriptor = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transferToFixedLength');
    expect(descriptor?.enumerable).toBe(false);
    const buffer = new Uint8Array([4, 5, 6]).buffer as ArrayBuffer & { transferToFixedLength(length?: number): ArrayBuffer };
    expect([...new Uint8Array(buffer.transferToFixedLength(2))]).toEqual([4, 5]);
  });
});
