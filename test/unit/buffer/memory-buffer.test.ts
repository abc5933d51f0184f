import { MemoryBuffer } from '../../../main/buffer/memory-buffer.js';
import { MemoryStore } from '../../../main/buffer/memory-store.js';
import { silentLogger } from '../../../main/log/logger.js';
import { bufferConformance } from './conformance.js';

bufferConformance('MemoryBuffer', async ({ options, clock, alerts }) => {
  const store = new MemoryStore();
  return {
    open: async (changed) => new MemoryBuffer({ options: changed ?? options, clock, log: silentLogger, onAlert: (alert) => alerts.push(alert) }, store),
    cleanup: async () => {},
  };
});
