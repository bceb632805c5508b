/**
 * The Pulumi program: one project, one stack per cloud (`pulumi up -s gcp|digitalocean|azure`).
 * The stack's `scim-bridge:cloud` setting picks the cloud; only that cloud's provider SDK is loaded.
 */
import { CLOUDS, config, oneOf } from './config';

const cloud = oneOf(config(), 'cloud', CLOUDS);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const program: { deploy(): Record<string, unknown> } = require(`./${cloud}`);

// Stack outputs: bridgeUrl (the SCIM base URL for the identity provider) and nextSteps, plus the cloud's own.
module.exports = program.deploy();
