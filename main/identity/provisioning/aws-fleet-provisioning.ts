import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { withoutUserinfo } from '../../shared/config/cloud.js';
import type { Config } from '../../shared/config/schema.js';
import { UserError } from '../../shared/errors.js';
import { classifyConnectError, reasonCodeOf } from '../../uplink/errors.js';
import { profileLimits } from '../../uplink/profiles/index.js';
import type { CertificateInfo } from '../certificate.js';
import { IdentityError } from '../errors.js';
import { identityStoreFromConfig } from '../from-config.js';
import { assertPrivate } from '../secure-files.js';
import type { IdentityStore } from '../store.js';
import {
  CREATE_FROM_CSR_TOPICS,
  createFromCsrRequest,
  parseCreateFromCsrAccepted,
  parseRegisterThingAccepted,
  parseRejection,
  registerThingRequest,
  registerThingTopics,
  type FleetRejection,
  type ResponseTopics,
} from './aws-fleet-api.js';

export interface FleetProvisioningRequest {
  config: Config;
  /** The claim certificate and its key: read for the TLS connection only, never copied or logged. */
  claimCertFile: string;
  claimKeyFile: string;
  template: string;
  /** Sent as RegisterThing's `parameters`; see templateParameters. */
  parameters: Readonly<Record<string, string>>;
  /** How long each step (connect, each answer) may take. */
  timeoutMs: number;
  now(): number;
}

export interface FleetProvisioningResult {
  thingName: string;
  /** False when AWS registered a thing whose name is not gateway.id: the certificate is installed, the config must change. */
  thingNameMatches: boolean;
  certificateId: string;
  certificate: CertificateInfo;
  deviceConfiguration: Record<string, string>;
  keyCreated: boolean;
  /** The certificate that was replaced, if there was one. */
  replacedSerial: string | undefined;
  certFile: string;
  originFile: string;
}

/**
 * RegisterThing's `parameters`: `ThingName` = gateway.id (the thing name the gateway connects
 * as), then each `KEY=VALUE` in order, a later one replacing an earlier one or the default.
 */
export function templateParameters(config: Pick<Config, 'gateway'>, pairs: readonly string[]): Record<string, string> {
  const parameters: Record<string, string> = { ThingName: config.gateway.id };
  for (const pair of pairs) {
    const split = pair.indexOf('=');
    if (split < 1) throw new FleetProvisioningError(`"--parameter": expected KEY=VALUE (e.g. SerialNumber=SN-0042), got ${JSON.stringify(pair)}`);
    parameters[pair.slice(0, split)] = pair.slice(split + 1);
  }
  return parameters;
}

/** Everything the claim connection can fail with; the message names the fix. */
export class FleetProvisioningError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'FleetProvisioningError';
  }
}

function requireAwsCloud(config: Config): NonNullable<Config['cloud']> {
  const cloud = config.cloud;
  if (cloud?.profile !== 'aws-iot-core') {
    throw new FleetProvisioningError('fleet provisioning needs cloud.profile: aws-iot-core, with cloud.url your AWS IoT endpoint (mqtts://<id>-ats.iot.<region>.amazonaws.com:8883) and cloud.caFile the Amazon root CA');
  }
  if (cloud.certFile !== undefined || cloud.keyFile !== undefined) {
    throw new FleetProvisioningError('cloud.certFile/cloud.keyFile name an externally managed certificate: remove both so fieldgate uses (and provisions) the on-box identity');
  }
  return cloud;
}

function readClaimFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FleetProvisioningError(`cannot read the claim ${what} "${path}": ${code === 'ENOENT' ? 'file not found' : String(code ?? error)}`);
  }
}

/** What to do about a rejection, by AWS's HTTP-like status code. */
function rejectionHint(step: 'CreateCertificateFromCsr' | 'RegisterThing', rejection: FleetRejection, template: string): string {
  const status = rejection.statusCode ?? 0;
  if (status === 401 || status === 403) {
    return step === 'RegisterThing'
      ? `The claim certificate may not use template "${template}", or the template's provisioning role lacks permissions (attach AWSIoTThingsRegistration to it)`
      : 'The claim certificate is not allowed to create certificates: check that it is ACTIVE and its policy allows the $aws/certificates/create-from-csr/* topics';
  }
  if (status === 404) return `No provisioning template "${template}" in this account and region: check --template and the endpoint in cloud.url`;
  if (status === 429) return 'AWS IoT throttled the request: wait a minute and run the command again';
  if (status >= 500) return 'AWS IoT had an internal error: run the command again later';
  return step === 'RegisterThing'
    ? `The template refused the parameters (a missing required parameter, or a pre-provisioning hook said no): check the --parameter values against template "${template}"`
    : `AWS IoT refused the CSR: it takes RSA keys of 2048 bits or more, or EC P-256/P-384/P-521 (identity.keyAlgorithm)`;
}

function describeRejection(rejection: FleetRejection): string {
  return [
    `statusCode ${rejection.statusCode ?? '(none)'}`,
    `errorCode ${rejection.errorCode ?? '(none)'}`,
    `errorMessage ${JSON.stringify(rejection.errorMessage ?? '')}`,
  ].join(', ');
}

/** The MQTT connection made with the claim certificate; each request publishes and waits for the first answer on `/accepted` or `/rejected`. */
class ClaimConnection {
  private readonly waiting = new Map<string, (payload: Buffer) => void>();
  private closedBecause: string | undefined;
  private readonly onClosed = new Set<(reason: string) => void>();

  private constructor(
    private readonly client: MqttClient,
    private readonly endpoint: string,
    private readonly timeoutMs: number,
  ) {
    client.on('message', (topic, payload) => this.waiting.get(topic)?.(payload));
    const closed = (reason: string) => {
      this.closedBecause ??= reason;
      for (const listener of this.onClosed) listener(this.closedBecause);
    };
    client.on('close', () => closed('AWS IoT closed the connection'));
    client.on('error', (error) => closed(error.message));
  }

  static async open(url: string, options: IClientOptions, timeoutMs: number, gatewayId: string): Promise<ClaimConnection> {
    const endpoint = withoutUserinfo(url);
    const client = mqtt.connect(url, options);
    let fail: (error: unknown) => void = () => undefined;
    // Stays attached after a failure: mqtt.js may emit more errors while it closes.
    const onError = (error: Error) => fail(error);
    client.on('error', onError);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
        fail = (error) => (clearTimeout(timer), reject(error));
        client.once('connect', () => (clearTimeout(timer), resolve()));
        client.once('close', () => fail(Object.assign(new Error('the connection was closed during the handshake'), { code: 'ECONNRESET' })));
      });
    } catch (error) {
      client.end(true);
      throw claimConnectError(error, endpoint, gatewayId);
    }
    client.removeListener('error', onError);
    return new ClaimConnection(client, endpoint, timeoutMs);
  }

  async subscribe(topics: string[]): Promise<void> {
    let granted: { topic: string; qos: number }[];
    try {
      granted = await this.client.subscribeAsync(topics, { qos: 1 });
    } catch (error) {
      throw new FleetProvisioningError(`subscribing to the fleet provisioning answers failed: ${(error as Error).message}. ${POLICY_HINT}`);
    }
    const refused = granted.filter((grant) => grant.qos >= 0x80).map((grant) => grant.topic);
    if (refused.length > 0) throw new FleetProvisioningError(`AWS IoT refused the subscription to ${refused.join(', ')}. ${POLICY_HINT}`);
  }

  /** Publishes `payload` on `topics.request` and resolves with the accepted payload; a rejection, a closed connection and the timeout throw. */
  async request(step: 'CreateCertificateFromCsr' | 'RegisterThing', topics: ResponseTopics, payload: string, template: string): Promise<Buffer> {
    if (this.closedBecause !== undefined) throw this.closedError(step, topics, this.closedBecause);
    let settle: { resolve(payload: Buffer): void; reject(error: Error): void } | undefined;
    const answer = new Promise<Buffer>((resolve, reject) => (settle = { resolve, reject }));
    // It may settle while the publish is still awaited; the await below takes the outcome.
    answer.catch(() => undefined);
    const timer = setTimeout(
      () =>
        settle?.reject(
          new FleetProvisioningError(
            `no answer to ${step} on ${topics.accepted} or ${topics.rejected} within ${Math.round(this.timeoutMs / 1000)} s. ${POLICY_HINT}.${step === 'RegisterThing' ? ` Check the template name "${template}".` : ''} On a slow link, raise --timeout-seconds`,
          ),
        ),
      this.timeoutMs,
    );
    const onClosed = (reason: string) => settle?.reject(this.closedError(step, topics, reason));
    this.onClosed.add(onClosed);
    this.waiting.set(topics.accepted, (body) => settle?.resolve(body));
    this.waiting.set(topics.rejected, (body) => {
      const rejection = parseRejection(body);
      settle?.reject(new FleetProvisioningError(`AWS IoT rejected ${step}: ${describeRejection(rejection)}. ${rejectionHint(step, rejection, template)}`));
    });
    try {
      await this.client.publishAsync(topics.request, payload, { qos: 1 }).catch((error: unknown) => {
        const reason = reasonCodeOf(error);
        throw new FleetProvisioningError(`AWS IoT refused the publish on ${topics.request}${reason === undefined ? '' : ` (reason code 0x${reason.toString(16)})`}: ${(error as Error).message}. ${POLICY_HINT}`);
      });
      return await answer;
    } finally {
      clearTimeout(timer);
      this.onClosed.delete(onClosed);
      this.waiting.delete(topics.accepted);
      this.waiting.delete(topics.rejected);
    }
  }

  private closedError(step: string, topics: ResponseTopics, reason: string): FleetProvisioningError {
    return new FleetProvisioningError(
      `the connection to ${this.endpoint} ended while waiting for the ${step} answer on ${topics.accepted} (${reason}). AWS IoT disconnects a client that publishes or subscribes outside its policy: ${POLICY_HINT}`,
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}

const POLICY_HINT =
  'The claim certificate\'s IoT policy must allow iot:Publish and iot:Receive on topic/$aws/certificates/create-from-csr/* and topic/$aws/provisioning-templates/<template>/provision/*, and iot:Subscribe on the same topicfilter/… resources (README: AWS IoT fleet provisioning)';

function claimConnectError(error: unknown, endpoint: string, gatewayId: string): FleetProvisioningError {
  const classified = classifyConnectError(error, { url: endpoint, gatewayId, now: Date.now() });
  const fix: Partial<Record<typeof classified.kind, string>> = {
    'unknown-ca': 'cloud.caFile must hold the Amazon root CA that signed the endpoint (AmazonRootCA1.pem for -ats endpoints)',
    'client-cert-rejected': 'AWS IoT does not accept the claim certificate: check that it is registered and ACTIVE in this account and region, and that --claim-key belongs to it',
    'client-cert-expired': 'the claim certificate has expired (or the box clock is wrong): get a current claim certificate',
    'bad-credentials': '--claim-cert and --claim-key must be PEM files that belong together',
    'not-authorized': 'the claim certificate\'s policy must allow iot:Connect for this client id (gateway.id)',
    'connection-lost': 'AWS IoT closed the connection: the claim certificate may be inactive or revoked, or its policy may not allow iot:Connect for this client id (gateway.id)',
  };
  const specific = fix[classified.kind];
  // The uplink's own wording names cloud.certFile and the like; for the claim connection the fix above replaces it.
  const detail = specific === undefined ? classified.message : `${(error as Error).message ?? String(error)}. Fix: ${specific}`;
  return new FleetProvisioningError(`cannot connect to ${endpoint} with the claim certificate (${classified.kind}): ${detail}`);
}

function claimOptions(config: Config, cloud: NonNullable<Config['cloud']>, request: FleetProvisioningRequest, ca: string): IClientOptions {
  const tls = {
    minVersion: 'TLSv1.2',
    ca,
    cert: readClaimFile(request.claimCertFile, 'certificate'),
    key: readClaimFile(request.claimKeyFile, 'key'),
    rejectUnauthorized: true,
    ...profileLimits(cloud).tls,
  } satisfies ConnectionOptions;
  return {
    protocolVersion: cloud.protocolVersion,
    // AWS IoT: the client id is the thing name, which the thing is about to get.
    clientId: config.gateway.id,
    clean: true,
    keepalive: cloud.keepaliveSeconds,
    connectTimeout: request.timeoutMs,
    reconnectPeriod: 0,
    ...tls,
  };
}

function previousSerial(store: IdentityStore): string | undefined {
  try {
    return store.describe().serial;
  } catch {
    return undefined;
  }
}

/**
 * AWS IoT fleet provisioning by claim, with the key that is already on the box: connect with the
 * claim certificate, CreateCertificateFromCsr with the on-box CSR, check the certificate against
 * the device key, RegisterThing with the template, then install the certificate. Until the last
 * step nothing but the key and CSR that `identity csr` makes is written, so every failure before
 * it leaves the current identity as it was.
 */
export async function provisionThroughAws(request: FleetProvisioningRequest): Promise<FleetProvisioningResult> {
  const { config } = request;
  const cloud = requireAwsCloud(config);
  const register = registerThingTopics(request.template);
  const store = identityStoreFromConfig(config);
  const options = claimOptions(config, cloud, request, store.readCa());
  assertPrivate(request.claimKeyFile, 'file');
  const { csrPem, keyCreated } = await store.writeProvisioningCsr();
  const endpoint = withoutUserinfo(cloud.url);
  const connection = await ClaimConnection.open(cloud.url, options, request.timeoutMs, config.gateway.id);
  try {
    await connection.subscribe([CREATE_FROM_CSR_TOPICS.accepted, CREATE_FROM_CSR_TOPICS.rejected, register.accepted, register.rejected]);
    const created = answerOf(
      'CreateCertificateFromCsr',
      await connection.request('CreateCertificateFromCsr', CREATE_FROM_CSR_TOPICS, createFromCsrRequest(csrPem), request.template),
      parseCreateFromCsrAccepted,
    );
    const source = `the certificate AWS IoT issued (certificateId ${created.certificateId})`;
    // Before RegisterThing activates it: a certificate this key cannot use must not become the thing's.
    try {
      store.verifyProvisioned(created.certificatePem, source, request.now());
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      throw new FleetProvisioningError(`AWS IoT issued a certificate this box cannot use, so the thing was not registered and nothing was installed: ${error.message}`);
    }
    const registered = answerOf(
      'RegisterThing',
      await connection.request('RegisterThing', register, registerThingRequest(created.certificateOwnershipToken, request.parameters), request.template),
      parseRegisterThingAccepted,
    );
    const replacedSerial = previousSerial(store);
    const certificate = store.installProvisionedCertificate(
      created.certificatePem,
      { source, endpoint, certificateId: created.certificateId, registeredAs: registered.thingName, template: request.template },
      request.now(),
    );
    return {
      thingName: registered.thingName,
      thingNameMatches: registered.thingName === config.gateway.id,
      certificateId: created.certificateId,
      certificate,
      deviceConfiguration: registered.deviceConfiguration,
      keyCreated,
      replacedSerial,
      certFile: store.paths.cert,
      originFile: store.paths.certOrigin,
    };
  } finally {
    await connection.close();
  }
}

function answerOf<T>(step: string, payload: Buffer, parse: (payload: Buffer) => T): T {
  try {
    return parse(payload);
  } catch (error) {
    throw new FleetProvisioningError(`AWS IoT answered ${step} with a payload fieldgate cannot use (${(error as Error).message}); nothing was installed`);
  }
}
