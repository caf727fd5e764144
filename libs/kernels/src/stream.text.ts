/**
 * Appends stream text to what is already shown, applying backspaces and carriage returns as a
 * terminal-like notebook frontend does: `\b` deletes the previous character of its line, text after
 * the last `\r` of a line replaces that line, and a trailing `\r` waits for the text that overwrites it.
 */
export function appendStreamText(current: string, chunk: string): string {
  // Only the last, unterminated line of the current text can still be rewritten.
  const cut = current.lastIndexOf('\n') + 1;
  return current.slice(0, cut) + normalizeStreamText(current.slice(cut) + chunk);
}

/** Resolves every `\b` and `\r` in a text (see appendStreamText). */
export function normalizeStreamText(text: string): string {
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
