/**
 * Crash-test hook: when FIELDGATE_IDENTITY_FAILPOINT names this point, the step fails as an I/O
 * error would (a full or failing disk), so a test can check what the next start recovers.
 * Without the variable this does nothing.
 */
export function identityFailpoint(name: string): void {
  if (process.env.FIELDGATE_IDENTITY_FAILPOINT !== name) return;
  throw Object.assign(new Error(`EIO: i/o error (failpoint ${name})`), { code: 'EIO' });
}
