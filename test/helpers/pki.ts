/**
 * A throw-away certificate authority for tests, built with the real `openssl` CLI in a temp dir.
 *
 *   const pki = await createPki();                       // CA "fieldgate test CA <n>"
 *   const server = await pki.issueServerCert();          // SAN localhost + 127.0.0.1
 *   const client = await pki.issueClientCert({ cn: 'gw-1' });
 *   const expired = await pki.issueClientCert({ cn: 'gw-1', notBefore: daysAgo(10), notAfter: daysAgo(1) });
 *   const pem = await pki.signCsr(csrPem, { days: 30 });
 *   const other = await createPki();                     // a second, unrelated CA
 *   await pki.cleanup();
 *
 * Keys are EC P-256 (fast to make), written 0600. Calls on one Pki are serialised because
 * `openssl ca` keeps a small database in its folder.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface IssuedCert {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export interface ValidityOptions {
  /** Validity in days from now (default 30); ignored when `notAfter` is given. */
  days?: number;
  /** Defaults to one minute ago, so a freshly issued cert is valid at once. */
  notBefore?: Date;
  notAfter?: Date;
}

export interface ClientCertOptions extends ValidityOptions {
  /** Subject CN; with `use_identity_as_username` it becomes the MQTT username (the gateway id). */
  cn: string;
}

export interface ServerCertOptions extends ValidityOptions {
  cn?: string;
  /** DNS names and IP addresses for the subjectAltName; default localhost and 127.0.0.1. */
  hosts?: string[];
}

export interface Pki {
  /** The temp folder holding everything; removed by cleanup(). */
  dir: string;
  ca: { certPath: string; keyPath: string; certPem: string; name: string };
  issueServerCert(options?: ServerCertOptions): Promise<IssuedCert>;
  issueClientCert(options: ClientCertOptions): Promise<IssuedCert>;
  /** Signs a PEM CSR as a client certificate (subject taken from the CSR); returns the certificate PEM. */
  signCsr(csrPem: string, options: ValidityOptions): Promise<string>;
  cleanup(): Promise<void>;
}

export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * 86_400_000);
}

let caCounter = 0;

/** `openssl ca` wants GeneralizedTime-like `YYYYMMDDHHMMSSZ`. */
function opensslTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

async function openssl(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run('openssl', args, { cwd, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export async function createPki(options: { name?: string } = {}): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-pki-'));
  const name = options.name ?? `fieldgate test CA ${++caCounter}-${process.pid}`;
  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  await writeFile(join(dir, 'serial'), `${(Date.now() * 1000 + Math.floor(Math.random() * 1000)).toString(16).padStart(16, '0')}\n`);
  await writeFile(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'certificate = $dir/ca.crt',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      'email_in_dn = no',
      'copy_extensions = none',
      '[policy_any]',
      'commonName = supplied',
      'organizationName = optional',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'req', '-x509', ...EC_KEY, '-keyout', caKeyPath, '-out', caCertPath, '-days', '3650', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const ca = { certPath: caCertPath, keyPath: caKeyPath, certPem: await readFile(caCertPath, 'utf8'), name };

  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  let fileCounter = 0;

  async function sign(csrPath: string, extensions: string, validity: ValidityOptions): Promise<string> {
    const notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = validity.notAfter ?? new Date(notBefore.getTime() + (validity.days ?? 30) * 86_400_000);
    const base = csrPath.replace(/\.csr$/, '');
    const extPath = `${base}.ext`;
    const certPath = `${base}.crt`;
    await writeFile(extPath, extensions);
    await openssl(
      [
        'ca', '-batch', '-config', join(dir, 'ca.cnf'), '-in', csrPath, '-out', certPath, '-notext', '-preserveDN',
        '-startdate', opensslTime(notBefore), '-enddate', opensslTime(notAfter), '-extfile', extPath,
      ],
      dir,
    );
    return readFile(certPath, 'utf8');
  }

  async function issue(cn: string, extensions: string, validity: ValidityOptions): Promise<IssuedCert> {
    const base = join(dir, `cert-${++fileCounter}`);
    const keyPath = `${base}.key`;
    await openssl(['req', '-new', ...EC_KEY, '-keyout', keyPath, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], dir);
    await chmod(keyPath, 0o600);
    const certPem = await sign(`${base}.csr`, extensions, validity);
    return { certPath: `${base}.crt`, keyPath, certPem, keyPem: await readFile(keyPath, 'utf8') };
  }

  const leaf = (usage: string, san?: string) =>
    [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyAgreement',
      `extendedKeyUsage = ${usage}`,
      ...(san ? [`subjectAltName = ${san}`] : []),
      '',
    ].join('\n');

  return {
    dir,
    ca,
    issueServerCert: (opts = {}) =>
      serialised(() => {
        const hosts = opts.hosts ?? ['localhost', '127.0.0.1'];
        const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
        return issue(opts.cn ?? hosts[0] ?? 'localhost', leaf('serverAuth', san), opts);
      }),
    issueClientCert: (opts) => serialised(() => issue(opts.cn, leaf('clientAuth'), opts)),
    signCsr: (csrPem, opts) =>
      serialised(async () => {
        const csrPath = join(dir, `csr-${++fileCounter}.csr`);
        await writeFile(csrPath, csrPem);
        return sign(csrPath, leaf('clientAuth'), opts);
      }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
