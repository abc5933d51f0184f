/** Kept in step with package.json by the release process (checked by a unit test). */
export const FIELDGATE_VERSION = '0.1.0';
