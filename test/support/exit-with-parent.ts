/** Exits this child process once its parent is gone (re-parented), so a killed test or bench leaves no server behind. */
export function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1000).unref();
}
