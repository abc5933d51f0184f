/** For test child processes: exit when the test process is gone, so a killed test run leaves no orphan behind. */
export function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 500).unref();
  process.stdout.on('error', () => process.exit(1));
}
