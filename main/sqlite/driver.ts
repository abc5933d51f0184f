import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * better-sqlite3 12 is the last line that runs on Node 20, but on Node ≥ 24.19 its statements
 * abort the process when garbage-collected (a cleanup-hook check that Node added to ObjectWrap).
 * 13 fixes that and ships N-API prebuilds, but needs Node ≥ 22. Electron 45 embeds Node 24, the
 * headless service may still run Node 20: load the line that is safe on the running Node.
 */
export const Database: typeof BetterSqlite3 = require(nodeMajor >= 22 ? 'better-sqlite3-node22' : 'better-sqlite3');
