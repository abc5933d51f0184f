import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdentityError } from '../../../main/identity/errors.js';
import { credentialError } from '../../../main/uplink/credentials.js';
import { classifyConnack, classifyConnectError, classifyDisconnect, classifyPubackRefusal, UPLINK_ERROR_KINDS } from '../../../main/uplink/errors.js';

const now = Date.UTC(2026, 5, 1);
const ctx = { url: 'mqtts://broker:8883', gatewayId: 'gw-1', now, cert: { commonName: 'gw-9', validFrom: now - 86_400_000, validTo: now + 86_400_000 } };
const err = (code: string | number, message = 'boom') => Object.assign(new Error(message), { code });

describe('uplink error classification', () => {
  it('gives each TLS failure its own kind', () => {
    const cases: Array<[string, string]> = [
      ['SELF_SIGNED_CERT_IN_CHAIN', 'unknown-ca'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown-ca'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'hostname-mismatch'],
      ['CERT_HAS_EXPIRED', 'server-cert-expired'],
      ['CERT_NOT_YET_VALID', 'server-cert-not-yet-valid'],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'client-cert-rejected'],
      ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'client-cert-rejected'],
      ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'client-cert-expired'],
      ['ECONNREFUSED', 'connection-refused'],
      ['ENOTFOUND', 'dns'],
      ['ECONNRESET', 'connection-lost'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ];
    for (const [code, kind] of cases) assert.equal(classifyConnectError(err(code), ctx).kind, kind, code);
    const messages = new Set(cases.map(([code]) => classifyConnectError(err(code), ctx).message.split(':')[0]));
    assert.ok(messages.size >= 8, 'messages differ by kind');
  });

  it('recognises TLS alerts by number, whatever name the OpenSSL version gives them', () => {
    const openssl35 = (name: string, alert: number) =>
      err(`ERR_SSL_SSL/TLS_ALERT_${name}`, `error:0A000415:SSL routines:ssl3_read_bytes:ssl/tls alert ...:SSL alert number ${alert}`);
    assert.equal(classifyConnectError(openssl35('CERTIFICATE_EXPIRED', 45), ctx).kind, 'client-cert-expired');
    assert.equal(classifyConnectError(openssl35('BAD_CERTIFICATE', 42), ctx).kind, 'client-cert-rejected');
    assert.equal(classifyConnectError(openssl35('UNKNOWN_CA', 48), ctx).kind, 'client-cert-rejected');
    assert.equal(classifyConnectError(openssl35('HANDSHAKE_FAILURE', 40), ctx).kind, 'tls');
    // Over wss:// the same alert arrives as a bare EPROTO from the https request.
    const oldTls = classifyConnectError(err('EPROTO', 'write EPROTO 80FC…:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:…:SSL alert number 70'), ctx);
    assert.equal(oldTls.kind, 'tls');
    assert.match(oldTls.message, /share no TLS protocol version: the gateway requires TLS 1\.2 or newer/);
  });

  it('uses the local certificate dates to explain a generic bad-certificate alert', () => {
    const future = { ...ctx, cert: { ...ctx.cert, validFrom: now + 3_600_000 } };
    const e = classifyConnectError(err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), future);
    assert.equal(e.kind, 'client-cert-not-yet-valid');
    assert.match(e.message, /check the system clock \(it says 2026-06-01T00:00:00\.000Z/);
    const expired = { ...ctx, cert: { ...ctx.cert, validTo: now - 1 } };
    assert.equal(classifyConnectError(err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), expired).kind, 'client-cert-expired');
    assert.match(classifyConnectError(err('CERT_NOT_YET_VALID'), ctx).message, /check the system clock/);
  });

  it('classifies CONNACK refusals for MQTT 5 and 3.1.1', () => {
    assert.equal(classifyConnack(0x87, 5, ctx).kind, 'not-authorized');
    assert.equal(classifyConnack(5, 4, ctx).kind, 'not-authorized');
    assert.equal(classifyConnack(0x88, 5, ctx).kind, 'protocol');
    assert.match(classifyConnack(0x88, 5, ctx).message, /server unavailable \(0x88\)/);
  });

  it('explains a PUBACK 0x87 as the CN / gateway.id mismatch it usually is', () => {
    const e = classifyPubackRefusal(0x87, 'fieldgate/gw-1/readings/t1', ctx);
    assert.equal(e.kind, 'publish-not-authorized');
    assert.match(e.message, /CN \(here "gw-9"\); set gateway\.id to that CN \("gw-1" now\)/);
    assert.equal(classifyPubackRefusal(0x97, 't', ctx).kind, 'publish-rejected');
    assert.match(classifyPubackRefusal(0x95, 't', ctx).message, /lower cloud\.batch\.maxBytes/);
  });

  it('names a broker DISCONNECT 0x95 packet-too-large, with the fix, and other reasons by name', () => {
    const tooLarge = classifyDisconnect(0x95, ctx);
    assert.equal(tooLarge.kind, 'packet-too-large');
    assert.equal(tooLarge.code, 0x95);
    assert.match(tooLarge.message, /lower cloud\.batch\.maxBytes below its max_packet_size/);
    const takenOver = classifyDisconnect(0x8e, ctx);
    assert.equal(takenOver.kind, 'connection-lost');
    assert.match(takenOver.message, /session taken over .*\(0x8e\)/);
    assert.match(classifyDisconnect(0xa2, ctx).message, /reason code \(0xa2\)/);
  });

  it('names an inbound packet over our own Maximum Packet Size packet-too-large', () => {
    const e = classifyConnectError(err(149, 'exceeding packets size publish: 70000 bytes, maximumPacketSize is 65536'), ctx);
    assert.equal(e.kind, 'packet-too-large');
    assert.match(e.message, /larger than the gateway's Maximum Packet Size/);
  });

  it('tells an on-box certificate outside its validity from unusable credential files', () => {
    assert.equal(credentialError(new IdentityError('expired', 'device certificate expired on …')).kind, 'client-cert-expired');
    assert.equal(credentialError(new IdentityError('not-yet-valid', 'device certificate is not valid yet: system clock looks wrong')).kind, 'client-cert-not-yet-valid');
    assert.equal(credentialError(new IdentityError('expired', 'x')).message, 'x', "the identity's own message, with its fix");
    const missing = credentialError(new IdentityError('missing', 'no device key'));
    assert.equal(missing.kind, 'bad-credentials');
    assert.match(missing.message, /^cannot load the client certificate: no device key/);
    assert.equal(credentialError(new Error('EACCES')).kind, 'bad-credentials');
  });

  it('has a stable list of kinds for the status counters', () => {
    assert.equal(new Set(UPLINK_ERROR_KINDS).size, UPLINK_ERROR_KINDS.length);
  });
});
