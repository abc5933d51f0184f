/**
 * Sizes of MQTT PUBLISH packets (MQTT 5 §3.3, MQTT 3.1.1 §3.3), so batches fit the broker's
 * Maximum Packet Size: the limit counts the whole packet, not just the payload.
 */

/** The largest Remaining Length a packet can have (four varint bytes). */
const MAX_REMAINING_LENGTH = 268_435_455;

function varintBytes(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

/** A QoS 1 PUBLISH (the uplink sends nothing else), which carries a packet identifier. */
export interface PublishShape {
  /** UTF-8 bytes of the topic name. */
  topicBytes: number;
  protocolVersion: 4 | 5;
  /** MQTT 5: encoded properties, without their length prefix (0 when none are sent). */
  propertiesBytes?: number;
}

/** What the Remaining Length counts besides the payload: topic, packet identifier, properties. */
function variableHeaderBytes(shape: PublishShape): number {
  const packetId = 2;
  const properties = shape.protocolVersion === 5 ? varintBytes(shape.propertiesBytes ?? 0) + (shape.propertiesBytes ?? 0) : 0;
  return 2 + shape.topicBytes + packetId + properties;
}

/** The whole PUBLISH packet's size in bytes, as the broker compares it to its Maximum Packet Size. */
export function publishPacketBytes(shape: PublishShape, payloadBytes: number): number {
  const remaining = variableHeaderBytes(shape) + payloadBytes;
  return 1 + varintBytes(remaining) + remaining;
}

/** The largest payload whose PUBLISH packet is at most `maximumPacketSize` bytes (0 or less when not even an empty one fits). */
export function maxPayloadBytes(shape: PublishShape, maximumPacketSize: number): number {
  const remaining = (lengthBytes: number) => Math.min(maximumPacketSize - 1 - lengthBytes, MAX_REMAINING_LENGTH);
  let lengthBytes = 1;
  while (lengthBytes < 4 && varintBytes(remaining(lengthBytes)) > lengthBytes) lengthBytes++;
  return remaining(lengthBytes) - variableHeaderBytes(shape);
}
