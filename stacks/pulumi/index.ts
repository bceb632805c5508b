/**
 * The Pulumi program: one project, one stack per cloud (`pulumi up -s gcp|digitalocean|azure`).
 * The stack's `scim-bridge:cloud` setting picks the cloud; only that cloud's provider SDK is loaded.
 */
import { CLOUDS, config, oneOf } from './config';

const cloud = oneOf(config(), 'cloud', CLOUDS);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const program: { deploy(): Record<string, unknown> } = require(`./${cloud}`);

// Stack outputs: scimBaseUrl, dnsRecords and nextSteps (OUTPUT_NAMES, the same on every cloud), plus the cloud's own.
module.exports = program.deploy();
