import { describe, expect, it } from '@jest/globals';
import { BufferPool, TextList } from '../src/load/texts.js';

describe('TextList', () => {
  it('keeps texts back to back, frames them as a body, and grows past its first buffer', () => {
    const pool = new BufferPool(4);
    const list = new TextList(pool, '{"requests":[', ',');
    const texts = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ uid: `u${i}`, name: 'Zoë ✓ 𝄞'.repeat(i % 7) }));
    for (const t of texts) list.push(t);
    expect(list.length).toBe(2000);
    expect(list.text(0)).toBe(texts[0]);
    expect(list.text(1999)).toBe(texts[1999]);
    expect(list.slice(3, 6)).toEqual(texts.slice(3, 6));
    const whole = list.framed(0, 2000, ']}');
    expect(JSON.parse(whole.toString('utf8'))).toEqual({ requests: texts.map((t) => JSON.parse(t)) });
    const part = list.framed(10, 20, ']}');
    expect(JSON.parse(part.toString('utf8'))).toEqual({ requests: texts.slice(10, 20).map((t) => JSON.parse(t)) });
  });

  it('a released buffer is reused by the next list', () => {
    const pool = new BufferPool(1);
    const a = new TextList(pool);
    a.push('first');
    const buf = a.framed(0, 1, '');
    a.release();
    const b = new TextList(pool);
    b.push('x');
    expect(b.framed(0, 1, '').buffer).toBe(buf.buffer);
    expect(b.text(0)).toBe('x');
  });
});
