import { describe, expect, it } from 'vitest';
import { appendStreamText, normalizeStreamText } from './stream.text.js';

describe(appendStreamText.name, () => {
  it('appends plain text', () => {
    expect(appendStreamText('a\n', 'b\n')).toBe('a\nb\n');
  });

  it('replaces the current line with the text after a carriage return', () => {
    expect(appendStreamText('progress 10%', '\rprogress 20%')).toBe('progress 20%');
  });

  it('keeps a trailing carriage return pending until the next chunk overwrites the line', () => {
    const first = appendStreamText('', ' 10%\r');
    expect(first).toBe(' 10%\r');
    const second = appendStreamText(first, ' 20%\r');
    expect(second).toBe(' 20%\r');
    expect(appendStreamText(second, 'done\n')).toBe('done\n');
  });

  it('treats \\r\\n as a newline', () => {
    expect(appendStreamText('', 'a\r\nb\r\r\nc')).toBe('a\nb\nc');
  });

  it('never rewrites lines before the last newline', () => {
    expect(appendStreamText('kept\nold', '\rnew')).toBe('kept\nnew');
    expect(appendStreamText('kept\n', '\b\bx')).toBe('kept\nx');
  });

  it('deletes the previous character for each backspace, across chunks', () => {
    expect(appendStreamText('abc', '\b\bX')).toBe('aX');
    expect(normalizeStreamText('ab\b\b\bc')).toBe('c');
  });

  it('collapses a whole progress bar in one chunk', () => {
    const text = Array.from({ length: 5 }, (_, i) => `\r${i * 25}%`).join('') + '\n';
    expect(normalizeStreamText(text)).toBe('100%\n');
  });
});
