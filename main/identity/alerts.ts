import type { RaisedAlert } from '../shared/alert.js';

/** Something about the device identity an operator must see; the composition root routes it to logs and `<prefix>/<id>/alerts`. */
export type IdentityAlert = RaisedAlert<'identity-alert'>;

export type IdentityAlertSink = (alert: IdentityAlert) => void;
