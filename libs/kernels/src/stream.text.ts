/**
 * Appends stream text to what is already shown, applying backspaces and carriage returns as a
 * terminal-like notebook frontend does: `\b` deletes the previous character of its line, text after
 * the last `\r` of a line replaces that line, and a trailing `\r` waits for the text that overwrites it.
 */
export function appendStreamText(current: string, chunk: string): string {
  const { settled, open } = appendToSplitText(splitStreamText(current), chunk);
  return settled + open;
}

/**
 * Stream text split where it can no longer change: `settled` ends at the last newline, `open` is the
 * unterminated last line that a later `\r` or `\b` may still rewrite.
 */
export interface SplitStreamText {
  settled: string;
  open: string;
}

/** Splits a stream text into its settled part and its open last line. */
export function splitStreamText(text: string): SplitStreamText {
  const cut = text.lastIndexOf('\n') + 1;
  return { settled: text.slice(0, cut), open: text.slice(cut) };
}

/**
 * appendStreamText on a split text: only the open line and the chunk are read, never the settled
 * part, so appending many small chunks stays linear (reading the whole text each time would make
 * V8 flatten it, quadratic over a long print).
 */
export function appendToSplitText(text: SplitStreamText, chunk: string): SplitStreamText {
  const rewritten = normalizeStreamText(text.open + chunk);
  const cut = rewritten.lastIndexOf('\n') + 1;
  return cut === 0 ? { settled: text.settled, open: rewritten } : { settled: text.settled + rewritten.slice(0, cut), open: rewritten.slice(cut) };
}

/** Resolves every `\b` and `\r` in a text (see appendStreamText). */
export function normalizeStreamText(text: string): string {
  if (!text.includes('\r') && !text.includes('\b')) return text;
  return text
    .replace(/\r+\n/g, '\n')
    .split('\n')
    .map((line) => overwriteLine(applyBackspaces(line)))
    .join('\n');
}

function applyBackspaces(line: string): string {
  if (!line.includes('\b')) return line;
  const kept: string[] = [];
  for (const char of line) {
    if (char === '\b') kept.pop();
    else kept.push(char);
  }
  return kept.join('');
}

function overwriteLine(line: string): string {
  const pending = line.endsWith('\r');
  const body = line.replace(/\r+$/, '');
  const shown = body.slice(body.lastIndexOf('\r') + 1);
  return pending ? `${shown}\r` : shown;
}
