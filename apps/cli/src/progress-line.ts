/** Where the progress line is drawn: stderr, or any stream with `write` and an `isTTY` flag. */
export interface ProgressTarget {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * A one-line progress bar on stderr: redrawn in place on a terminal, printed at every tenth
 * otherwise (so logs stay readable), and closed with a newline.
 */
export class ProgressLine {
  private lastTenth = -1;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly target: ProgressTarget = process.stderr,
  ) {}

  /** Shows `done` of `total`. */
  update(done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const line = `${this.label} ${bar(fraction)} ${Math.floor(fraction * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
    if (this.target.isTTY) {
      this.target.write(`\r${line}`);
      this.drawn = true;
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.target.write(`${line}\n`);
  }

  /** Ends the line (on a terminal). */
  finish(): void {
    if (this.drawn) this.target.write('\n');
    this.drawn = false;
  }
}

/** A 20-character bar. */
function bar(fraction: number): string {
  const filled = Math.round(fraction * 20);
  return `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}]`;
}
