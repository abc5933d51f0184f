import type { ComponentChildren } from 'preact';

/** A full-width message under the top bar (connection lost, session about to expire). */
export function Banner({ tone = 'warn', children }: { tone?: 'warn' | 'error'; children: ComponentChildren }) {
  return (
    <div class={tone === 'error' ? 'banner error' : 'banner'} role="alert">
      {children}
    </div>
  );
}
