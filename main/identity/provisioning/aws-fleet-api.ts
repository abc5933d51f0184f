/**
 * The AWS IoT fleet provisioning MQTT API as AWS documents it ("Device provisioning MQTT API",
 * JSON payload format): CreateCertificateFromCsr and RegisterThing, their topics and payloads.
 * Pure: no connection, so unit tests pin every topic and payload to AWS's examples.
 */

export interface ResponseTopics {
  request: string;
  accepted: string;
  rejected: string;
}

function topicsUnder(request: string): ResponseTopics {
  return { request, accepted: `${request}/accepted`, rejected: `${request}/rejected` };
}

export const CREATE_FROM_CSR_TOPICS: ResponseTopics = topicsUnder('$aws/certificates/create-from-csr/json');

/** AWS's provisioning template names (CreateProvisioningTemplate): 1 to 36 of letters, digits, "_" and "-". */
export const TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;

export function registerThingTopics(templateName: string): ResponseTopics {
  if (!TEMPLATE_NAME.test(templateName)) {
    throw new RangeError(`"--template": AWS IoT provisioning template names have 1 to 36 letters, digits, "_" or "-", got ${JSON.stringify(templateName)}`);
  }
  return topicsUnder(`$aws/provisioning-templates/${templateName}/provision/json`);
}

export function createFromCsrRequest(csrPem: string): string {
  return JSON.stringify({ certificateSigningRequest: csrPem });
}

export function registerThingRequest(certificateOwnershipToken: string, parameters: Readonly<Record<string, string>>): string {
  return JSON.stringify({ certificateOwnershipToken, parameters });
}

export interface CreateFromCsrAccepted {
  certificateOwnershipToken: string;
  certificateId: string;
  certificatePem: string;
}

export interface RegisterThingAccepted {
  thingName: string;
  deviceConfiguration: Record<string, string>;
}

/** The error payload of every `/rejected` topic. */
export interface FleetRejection {
  statusCode: number | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

function parseObject(payload: Buffer | string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString());
  } catch {
    throw new SyntaxError(`${what} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError(`${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function requiredString(object: Record<string, unknown>, field: string, what: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value.length === 0) throw new SyntaxError(`${what} has no "${field}" string`);
  return value;
}

export function parseCreateFromCsrAccepted(payload: Buffer | string): CreateFromCsrAccepted {
  const what = 'the CreateCertificateFromCsr answer';
  const object = parseObject(payload, what);
  return {
    certificateOwnershipToken: requiredString(object, 'certificateOwnershipToken', what),
    certificateId: requiredString(object, 'certificateId', what),
    certificatePem: requiredString(object, 'certificatePem', what),
  };
}

export function parseRegisterThingAccepted(payload: Buffer | string): RegisterThingAccepted {
  const what = 'the RegisterThing answer';
  const object = parseObject(payload, what);
  const configuration = object.deviceConfiguration ?? {};
  if (typeof configuration !== 'object' || configuration === null || Array.isArray(configuration)) throw new SyntaxError(`${what} has a "deviceConfiguration" that is not an object`);
  const deviceConfiguration = Object.fromEntries(Object.entries(configuration).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
  return { thingName: requiredString(object, 'thingName', what), deviceConfiguration };
}

/** Reads a `/rejected` payload; fields AWS left out (or a payload that is not JSON) come back undefined. */
export function parseRejection(payload: Buffer | string): FleetRejection {
  let object: Record<string, unknown> = {};
  try {
    object = parseObject(payload, 'the rejection');
  } catch {
    // Still a rejection: report it with what is known.
  }
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  return {
    statusCode: typeof object.statusCode === 'number' ? object.statusCode : undefined,
    errorCode: text(object.errorCode),
    errorMessage: text(object.errorMessage),
  };
}
