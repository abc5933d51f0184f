import { Banner } from './components/banner.js';
import { duration } from './format.js';
import { now } from './state/clock.js';
import { call, sessionEndsAt, signedIn } from './state/session.js';

const WARN_BEFORE_MS = 2 * 60_000;

/** Says before the session ends, and why: idle for too long, or the 12-hour limit. */
export function SessionBanner() {
  const info = signedIn.value;
  const endsAt = sessionEndsAt.value;
  if (!info || info.localWindow || endsAt === undefined) return null;
  const left = endsAt - now.value;
  if (left > WARN_BEFORE_MS) return null;
  const absolute = endsAt >= Date.parse(info.expiresAt);
  return (
    <Banner>
      <span>
        {absolute
          ? `Your session reaches its 12-hour limit in ${duration(Math.max(0, left))}. Save your work; you will be asked to sign in again.`
          : `Your session ends in ${duration(Math.max(0, left))} because nothing happened for a while.`}
      </span>
      {!absolute && (
        <button type="button" onClick={() => void call('session', {})}>
          Stay signed in
        </button>
      )}
    </Banner>
  );
}
