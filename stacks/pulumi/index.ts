/**
 * The Pulumi program: one project, one stack per cloud (`pulumi up -s gcp|digitalocean|azure`).
 * The stack's `scim-bridge:cloud` setting picks the cloud; only that cloud's provider SDK is loaded.
 */
import { CLOUDS, config, oneOf } from './config';

const cloud = oneOf(config(), 'cloud', CLOUDS);

const program: { deploy(): Promise<Record<string, unknown>> } = require(`./${cloud}`);

// Stack outputs: scimBaseUrl, dnsRecords and nextSteps (OUTPUT_NAMES, the same on every cloud), databaseVersion and
// databaseSize (read back by the next run), plus the cloud's own. A promise: the program first reads its last outputs.
module.exports = program.deploy();
