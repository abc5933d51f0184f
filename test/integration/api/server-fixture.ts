// The API server over real HTTP with in-memory backends (test/unit/api/fake-backends.ts), for
// the transport and contract tests of areas whose services other modules build.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { ControlApi } from '../../../main/api/control-api.js';
import { apiDataDir } from '../../../main/config/location.js';
import { ApiServer } from '../../../main/api/http-server.js';
import { readSetupCode } from '../../../main/api/setup-code.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { uiSchema } from '../../../main/shared/config/gateway.js';
import { fakeBackends, type FakeBackends } from '../../unit/api/fake-backends.js';
import { ADMIN_PASSWORD, BrowserClient } from './fixture.js';

const RENDERER = fileURLToPath(new URL('../../../renderer/', import.meta.url));

export interface FakeServer {
  server: ApiServer;
  control: ControlApi;
  fake: FakeBackends;
  url: string;
  dataDir: string;
  admin(): Promise<BrowserClient>;
}

export async function startFakeServer(t: TestContext, options: { ui?: Record<string, unknown>; maxUploadBytes?: number } = {}): Promise<FakeServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-api-fake-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const ui = uiSchema.parse({ port: 0, ...options.ui });
  const metrics = createMetricsRegistry({ processMetrics: false });
  const holder: { control?: ControlApi } = {};
  const fake = fakeBackends(() => holder.control!.events);
  const control = new ControlApi({ backends: fake.backends, ui, dataDir, metrics, log: silentLogger, now: () => Date.now() });
  holder.control = control;
  await control.start();
  const server = new ApiServer({ control, metrics, ui, gatewayId: 'gw-fake', maxUploadBytes: options.maxUploadBytes ?? 1024 * 1024, staticDir: RENDERER, log: silentLogger, now: () => Date.now() });
  await server.start();
  t.after(async () => {
    await server.stop();
    await control.stop();
  });
  let admin: BrowserClient | undefined;
  return {
    server,
    control,
    fake,
    url: server.url,
    dataDir,
    admin: async () => {
      if (admin) return admin;
      admin = new BrowserClient(server.url);
      await admin.open();
      const code = readSetupCode(apiDataDir(dataDir), Date.now())!.code;
      const answer = await admin.call('completeSetup', { code, password: ADMIN_PASSWORD });
      if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
      return admin;
    },
  };
}
