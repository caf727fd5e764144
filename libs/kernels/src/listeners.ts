/** A set of listeners of one kind; one listener's exception neither stops the others nor the caller. */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  /** Adds a listener and returns the function that removes it. */
  add(listener: (...args: A) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  /** Calls every listener in the order they were added. */
  emit(...args: A): void {
    for (const listener of this.set) {
      try {
        listener(...args);
      } catch (error) {
        process.emitWarning(error as Error);
      }
    }
  }
}
