export type Tone = 'ok' | 'warn' | 'bad' | 'off';

/** A coloured dot that never stands alone: the words say the same thing. */
export function StatusDot({ tone, label }: { tone: Tone; label: string }) {
  return (
    <span class="status" data-tone={tone}>
      <span class={`dot ${tone}`} aria-hidden="true" />
      {label}
    </span>
  );
}
