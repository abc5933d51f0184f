import { Counter, Gauge } from 'prom-client';
import type { Registry } from '../metrics/registry.js';

/** Identity metrics, shared by every instance on one registry (a restarted component reuses them). */
export function daysLeftGauge(registry: Registry): Gauge {
  return (
    (registry.getSingleMetric('fieldgate_identity_cert_days_left') as Gauge | undefined) ??
    new Gauge({ name: 'fieldgate_identity_cert_days_left', help: 'Whole days until the device certificate expires (negative once expired)', registers: [registry] })
  );
}

export function rotationsCounter(registry: Registry): Counter<'result'> {
  return (
    (registry.getSingleMetric('fieldgate_identity_rotations_total') as Counter<'result'> | undefined) ??
    new Counter({ name: 'fieldgate_identity_rotations_total', help: 'Certificate rotations by outcome', labelNames: ['result'], registers: [registry] })
  );
}

export function rotationPendingGauge(registry: Registry): Gauge {
  return (
    (registry.getSingleMetric('fieldgate_identity_rotation_pending') as Gauge | undefined) ??
    new Gauge({ name: 'fieldgate_identity_rotation_pending', help: '1 while a CSR has been sent and its certificate is awaited or being tried', registers: [registry] })
  );
}

/** 1 for the key store in use (`kind` file or pkcs11), so a fleet dashboard can tell which boxes keep their key in hardware. */
export function keyStoreGauge(registry: Registry): Gauge<'kind'> {
  return (
    (registry.getSingleMetric('fieldgate_identity_key_store') as Gauge<'kind'> | undefined) ??
    new Gauge({ name: 'fieldgate_identity_key_store', help: 'Where the device key lives: 1 for the kind in use (file, pkcs11)', labelNames: ['kind'], registers: [registry] })
  );
}
