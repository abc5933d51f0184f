import { z } from 'zod';
import { filePath, identifier } from './common.js';

export const cloudSchema = z
  .strictObject({
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s/]+/, { error: 'expected a broker URL such as mqtts://broker.example.com:8883' }),
    /** Plaintext `mqtt://` is refused unless this is true. */
    allowInsecure: z.boolean().default(false),
    caFile: filePath.optional(),
    certFile: filePath.optional(),
    keyFile: filePath.optional(),
    topicPrefix: identifier.default('fieldgate'),
    protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
  })
  .superRefine((cloud, ctx) => {
    if (/^(mqtt|ws):/.test(cloud.url) && !cloud.allowInsecure) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        input: cloud.url,
        message: 'plaintext MQTT is refused: use mqtts:// with caFile, certFile and keyFile, or set cloud.allowInsecure: true',
      });
    }
    if (/^(mqtts|wss):/.test(cloud.url)) {
      for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
        if (!cloud[key]) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            input: undefined,
            message: `mutual TLS needs cloud.${key}: give the path to the PEM file`,
          });
        }
      }
    }
  });

export type CloudConfig = z.infer<typeof cloudSchema>;
