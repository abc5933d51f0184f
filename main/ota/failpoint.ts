/**
 * Crash-test hooks: when FIELDGATE_OTA_FAILPOINT names this point, the process announces it on
 * stderr and stops making progress, so a test can SIGKILL it at exactly that step (power loss).
 * Without the variable this does nothing.
 */
export async function failpoint(name: string): Promise<void> {
  if (process.env.FIELDGATE_OTA_FAILPOINT !== name) return;
  process.stderr.write(`fieldgate-ota-failpoint ${name}\n`);
  await new Promise<never>(() => {
    setInterval(() => undefined, 60_000);
  });
}
