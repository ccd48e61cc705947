import { describe, expect, it } from 'vitest';
import { HostLanes } from '@kai-jobs/workers';

const urls = (result: ReturnType<HostLanes['take']>) => result.start.map(({ entry }) => entry.url);

describe('HostLanes', () => {
  it('keeps per-origin concurrency, the overall limit and each origin’s delay', () => {
    const lanes = new HostLanes({ perHost: 2, total: 3 });
    for (const url of ['a1', 'a2', 'a3']) lanes.push('https://a.example', { url, depth: 1 }, 100);
    for (const url of ['b1', 'b2']) lanes.push('https://b.example', { url, depth: 1 }, 0);

    const first = lanes.take(0);
    expect(urls(first)).toEqual(['a1', 'b1', 'b2']); // a2 waits for a's delay, b has none
    expect(first.nextStartAt).toBe(100);
    expect(lanes.inFlight).toBe(3);

    expect(urls(lanes.take(150))).toEqual([]); // total limit reached
    lanes.release('https://b.example');
    const second = lanes.take(150);
    expect(urls(second)).toEqual(['a2']);
    expect(second.nextStartAt).toBeNull();
    expect(second.queued).toBe(true);

    lanes.release('https://b.example');
    expect(urls(lanes.take(200))).toEqual([]); // a has 2 in flight
    lanes.release('https://a.example');
    const third = lanes.take(249);
    expect(urls(third)).toEqual([]);
    expect(third.nextStartAt).toBe(250); // 100 ms after a2 started at 150
    const last = lanes.take(250);
    expect(urls(last)).toEqual(['a3']);
    expect(last.queued).toBe(false);
    expect(() => lanes.release('https://c.example')).toThrow(/no request in flight/);
  });

  it('serves lanes in creation order and each lane first in, first out', () => {
    const lanes = new HostLanes({ perHost: 5, total: 100 });
    for (let index = 0; index < 3000; index += 1) lanes.push('https://a.example', { url: `a${index}`, depth: 2 }, 0);
    lanes.push('https://b.example', { url: 'b0', depth: 1 }, 0);
    expect(urls(lanes.take(0))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0']);
    for (let round = 0; round < 599; round += 1) {
      for (let release = 0; release < 5; release += 1) lanes.release('https://a.example');
      expect(urls(lanes.take(0))[0]).toBe(`a${5 + round * 5}`);
    }
  });
});
