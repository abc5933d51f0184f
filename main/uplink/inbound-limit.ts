/**
 * Watches the bytes the broker sends and reports the first packet larger than a limit as soon as
 * its fixed header says so, before the rest of it arrives. mqtt.js checks our Maximum Packet Size
 * only after the parser has buffered the whole packet (up to 256 MiB); this lets the session drop
 * the connection first. It also covers MQTT 3.1.1, which cannot announce a limit.
 */
export class InboundPacketLimit {
  /** Bytes of the current packet still to skip; -1 while reading a fixed header. */
  private toSkip = -1;
  private headerBytes = 0;
  private remainingLength = 0;
  private multiplier = 1;

  constructor(private readonly maximumPacketSize: number) {}

  /** Feeds received bytes; returns the size of the first packet over the limit, else undefined. */
  feed(chunk: Uint8Array): number | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.toSkip >= 0) {
        const skipped = Math.min(this.toSkip, chunk.length - offset);
        this.toSkip -= skipped;
        offset += skipped;
        if (this.toSkip === 0) this.toSkip = -1;
        continue;
      }
      const byte = chunk[offset++] as number;
      this.headerBytes++;
      if (this.headerBytes === 1) continue; // packet type and flags
      this.remainingLength += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80 && this.headerBytes < 5) continue;
      const size = this.headerBytes + this.remainingLength;
      if (size > this.maximumPacketSize) return size;
      this.toSkip = this.remainingLength === 0 ? -1 : this.remainingLength;
      this.headerBytes = 0;
      this.remainingLength = 0;
      this.multiplier = 1;
    }
    return undefined;
  }
}
