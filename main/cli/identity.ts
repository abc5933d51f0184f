import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { KeyStoreSummary } from '../identity/key-store/key-store.js';
import type { IdentityStore } from '../identity/store.js';
import type { Config } from '../shared/config/schema.js';
import { reportCertificate, type CertificateReport } from '../identity/certificate.js';
import { identityReport } from '../identity/identity-service.js';
import { identityStoreFromConfig } from '../identity/from-config.js';
import { provisionThroughAws, templateParameters, type FleetProvisioningResult } from '../identity/provisioning/aws-fleet-provisioning.js';
import { wipeDevice } from '../identity/wipe.js';
import { UserError } from '../shared/errors.js';
import { printJson } from './output.js';

interface ConfigOption {
  config: string;
}

function readCertificateArgument(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read certificate "${file}": ${code === 'ENOENT' ? 'file not found' : String(code ?? error)}`);
  }
}

type ShowReport = CertificateReport & {
  status: string;
  managed: 'on-box' | 'external';
  rotationDueAt?: string;
  rotationPending?: { requestId: string; since: string };
  keyStore?: KeyStoreSummary;
  keyFile?: string;
  certFile: string;
};

/** The shared identity report, flattened as `identity show` has always printed it; no certificate is an error here. */
function showReport(config: Config, store: IdentityStore, now: number): ShowReport {
  const report = identityReport(config, store, now);
  if (report.certificate === null) throw new UserError(report.status);
  return {
    ...report.certificate,
    status: report.status,
    managed: report.managed,
    ...(report.rotationDueAt !== undefined ? { rotationDueAt: new Date(report.rotationDueAt).toISOString() } : {}),
    ...(report.rotationPending ? { rotationPending: { requestId: report.rotationPending.requestId, since: new Date(report.rotationPending.since).toISOString() } } : {}),
    ...(report.keyStore ? { keyStore: report.keyStore } : {}),
    ...(report.keyFile !== undefined ? { keyFile: report.keyFile } : {}),
    certFile: report.certFile,
  };
}

function describeKeyStore(keyStore: KeyStoreSummary): string {
  return keyStore.kind === 'pkcs11' ? `pkcs11, ${keyStore.token ?? 'token'}: hardware-backed, not extractable` : 'file: the key is a 0600 file on this box';
}

function formatReport(report: ShowReport): string {
  const lines = [
    `subject:     ${report.subject}`,
    `issuer:      ${report.issuer}`,
    `serial:      ${report.serial}`,
    `not before:  ${report.notBefore.toISOString()}`,
    `not after:   ${report.notAfter.toISOString()}`,
    `days left:   ${report.daysLeft}${report.validity === 'valid' ? '' : ` (${report.validity})`}`,
    ...(report.subjectAltNames.length > 0 ? [`alt names:   ${report.subjectAltNames.join(', ')}`] : []),
    `sha256:      ${report.fingerprint256}`,
    ...(report.rotationDueAt ? [`rotation at: ${report.rotationDueAt}`] : []),
    ...(report.rotationPending ? [`rotating:    request ${report.rotationPending.requestId} since ${report.rotationPending.since}`] : []),
    ...(report.keyStore ? [`key store:   ${describeKeyStore(report.keyStore)}`] : []),
    ...(report.keyFile ? [`key file:    ${report.keyFile}${report.keyStore?.kind === 'pkcs11' ? ' (names the token object; no secret)' : ''}`] : []),
    `cert file:   ${report.certFile}${report.managed === 'external' ? ' (externally managed: fieldgate does not rotate it)' : ''}`,
    `status:      ${report.status}`,
  ];
  return `${lines.join('\n')}\n`;
}

function formatProvisioning(result: FleetProvisioningResult, now: number): string {
  const report = reportCertificate(result.certificate, now);
  const configuration = Object.entries(result.deviceConfiguration);
  return [
    `thing:       ${result.thingName}`,
    `certificate: ${result.certificateId}`,
    `subject:     ${report.subject}`,
    `issuer:      ${report.issuer}`,
    `serial:      ${report.serial}${result.replacedSerial ? ` (replaces ${result.replacedSerial})` : ''}`,
    `not after:   ${report.notAfter.toISOString()} (${report.daysLeft} days)`,
    `installed:   ${result.certFile} (origin recorded in ${result.originFile})`,
    ...configuration.map(([key, value], index) => `${index === 0 ? 'device configuration: ' : '                      '}${key}=${value}`),
    '',
  ].join('\n');
}

export function registerIdentityCommands(program: Command): void {
  const identity = program.command('identity').description('device key, CSR, certificate: csr | import | provision-aws | show | wipe');

  identity
    .command('csr')
    .description('create the device key on first use (it never leaves the box) and write a CSR for it; prints the CSR')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('-o, --out <file>', 'also write the CSR to this file')
    .action(async (options: ConfigOption & { out?: string }) => {
      const config = loadConfig(options.config);
      const store = identityStoreFromConfig(config);
      const { csrPem, keyCreated } = await store.writeProvisioningCsr();
      if (options.out) writeFileSync(options.out, csrPem);
      process.stderr.write(
        `${keyCreated ? `generated a new ${config.identity.keyAlgorithm} key ${store.keyStore.summary.kind === 'pkcs11' ? `inside ${store.keyStore.summary.token ?? 'the token'} (not extractable; ${store.paths.key} names it)` : `in ${store.paths.key}`}\n` : ''}` +
          `wrote ${store.paths.csr}${options.out ? ` and ${options.out}` : ''} (CN=${config.gateway.id}); ` +
          `have it signed by your CA, then: fieldgate identity import --config ${options.config} CERT.pem\n`,
      );
      process.stdout.write(csrPem);
    });

  identity
    .command('import')
    .description('install the signed certificate: it must match the device key and chain to the configured CA')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .argument('<cert>', 'PEM certificate (leaf first; intermediates may follow)')
    .action((certFile: string, options: ConfigOption) => {
      const config = loadConfig(options.config);
      const store = identityStoreFromConfig(config);
      const info = store.importCertificate(readCertificateArgument(certFile), certFile, Date.now());
      const report = reportCertificate(info, Date.now());
      process.stdout.write(`installed ${store.paths.cert}: ${info.subject}, serial ${info.serial}, valid until ${info.notAfter.toISOString()} (${report.daysLeft} days)\n`);
    });

  identity
    .command('provision-aws')
    .description('AWS IoT fleet provisioning by claim with the on-box key: CreateCertificateFromCsr, RegisterThing, then install the certificate')
    .requiredOption('-c, --config <file>', 'YAML config file (cloud.profile aws-iot-core)')
    .requiredOption('--claim-cert <file>', 'the claim certificate (PEM)')
    .requiredOption('--claim-key <file>', 'the claim certificate\'s private key (PEM, 0600); only used for the TLS connection')
    .requiredOption('--template <name>', 'the fleet provisioning template')
    .option('--parameter <key=value>', 'a template parameter (repeatable); ThingName=<gateway.id> is sent unless given', (pair: string, pairs: string[]) => [...pairs, pair], [] as string[])
    .option('--timeout-seconds <n>', 'how long to wait for the connection and for each answer', '30')
    .option('--json', 'print JSON')
    .action(async (options: ConfigOption & { claimCert: string; claimKey: string; template: string; parameter: string[]; timeoutSeconds: string; json?: boolean }) => {
      const timeoutSeconds = Number(options.timeoutSeconds);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UserError(`"--timeout-seconds": expected a number of seconds > 0, got ${JSON.stringify(options.timeoutSeconds)}`);
      const config = loadConfig(options.config);
      const result = await provisionThroughAws({
        config,
        claimCertFile: options.claimCert,
        claimKeyFile: options.claimKey,
        template: options.template,
        parameters: templateParameters(config, options.parameter),
        timeoutMs: timeoutSeconds * 1000,
        now: Date.now,
      });
      if (result.keyCreated) process.stderr.write(`generated a new ${config.identity.keyAlgorithm} key for this box; only its CSR went to AWS IoT\n`);
      if (options.json) printJson({ ...result, certificate: reportCertificate(result.certificate, Date.now()) });
      else process.stdout.write(formatProvisioning(result, Date.now()));
      if (!result.thingNameMatches) {
        process.stderr.write(
          `fieldgate: AWS IoT registered the thing as "${result.thingName}" but gateway.id is "${config.gateway.id}". The certificate is installed; ` +
            `set gateway.id: ${result.thingName} in ${options.config} (under aws-iot-core it is the MQTT client id and must be the thing name), or make template "${options.template}" name the thing from ThingName\n`,
        );
        process.exitCode = 1;
      }
    });

  identity
    .command('show')
    .description('print subject, issuer, serial, validity and days left of the device certificate')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('--json', 'print JSON')
    .action((options: ConfigOption & { json?: boolean }) => {
      const config = loadConfig(options.config);
      const store = identityStoreFromConfig(config);
      const report = showReport(config, store, Date.now());
      if (options.json) printJson(report);
      else process.stdout.write(formatReport(report));
      if (report.status !== 'ok') process.exitCode = 1;
    });

  identity
    .command('wipe')
    .description('secure decommission: destroy keys, certificates, bind keys and the buffer (stop the service first)')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('--yes', 'confirm: this cannot be undone')
    .action((options: ConfigOption & { yes?: boolean }) => {
      if (!options.yes) {
        throw new UserError('identity wipe destroys the device key, certificates, bind keys and buffered readings for good; add --yes to confirm');
      }
      const config = loadConfig(options.config);
      const report = wipeDevice(config);
      printJson(report);
      if (report.state !== 'first-run') {
        process.stderr.write(`fieldgate: wipe incomplete, ${report.remaining.length} secret(s) remain: ${report.remaining.map((r) => `${r.path} (${r.error})`).join('; ')}\n`);
        process.exitCode = 1;
      }
    });
}
