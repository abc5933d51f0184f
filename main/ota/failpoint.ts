/**
 * Crash-test hooks: when FIELDGATE_OTA_FAILPOINT names this point, the process announces it on
 * stderr and stops making progress, so a test can SIGKILL it at exactly that step (power loss).
 * Without the variable this does nothing.
 */
/**
 * Race-test hook: when FIELDGATE_OTA_PAUSEPOINT names this point, the step waits
 * FIELDGATE_OTA_PAUSE_MS, so two processes can be made to contend at exactly that step.
 */
export async function pausepoint(name: string): Promise<void> {
  if (process.env.FIELDGATE_OTA_PAUSEPOINT !== name) return;
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.FIELDGATE_OTA_PAUSE_MS ?? 0)));
}

export async function failpoint(name: string): Promise<void> {
  if (process.env.FIELDGATE_OTA_FAILPOINT !== name) return;
  process.stderr.write(`fieldgate-ota-failpoint ${name}\n`);
  await new Promise<never>(() => {
    setInterval(() => undefined, 60_000);
  });
}
