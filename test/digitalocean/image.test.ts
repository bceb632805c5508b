/**
 * Image references mapped to App Platform's image fields (registry type / registry / repository / tag or digest;
 * App Platform pulls from DOCR, Docker Hub and GHCR only), and Docker credential decoding for the DOCR push.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BRIDGE_IMAGE } from '../../contract';
import { BOOTSTRAP_RUN_COMMAND, dockerLogin, parseImageReference } from '../../constructs/digitalocean';

const DIGEST = `sha256:${'12'.repeat(32)}`;

describe('parseImageReference', () => {
  test.each([
    ['ghcr.io/acme/scim-bridge:1.2.3', { registryType: 'GHCR', registry: 'acme', repository: 'scim-bridge', tag: '1.2.3' }],
    ['ghcr.io/acme/tools/scim-bridge:1.2.3', { registryType: 'GHCR', registry: 'acme', repository: 'tools/scim-bridge', tag: '1.2.3' }],
    [`ghcr.io/acme/scim-bridge@${DIGEST}`, { registryType: 'GHCR', registry: 'acme', repository: 'scim-bridge', digest: DIGEST }],
    ['acme/scim-bridge', { registryType: 'DOCKER_HUB', registry: 'acme', repository: 'scim-bridge', tag: 'latest' }],
    ['docker.io/acme/scim-bridge:2', { registryType: 'DOCKER_HUB', registry: 'acme', repository: 'scim-bridge', tag: '2' }],
    ['nginx:1.27', { registryType: 'DOCKER_HUB', registry: 'library', repository: 'nginx', tag: '1.27' }],
    ['registry.digitalocean.com/acme/scim-bridge:3', { registryType: 'DOCR', repository: 'scim-bridge', tag: '3' }],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toEqual(expected);
  });

  test.each([
    ['quay.io/acme/scim-bridge:1', /quay.io, which App Platform cannot pull from/],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/scim-bridge:1', /cannot pull from/],
    ['ghcr.io/scim-bridge:1', /ghcr.io\/<owner>\/<repository>/],
    ['registry.digitalocean.com/scim-bridge', /registry.digitalocean.com\/<registry>\/<repository>/],
    ['acme/scim-bridge@sha256:abc', /malformed digest/],
    ['Acme/Scim-Bridge:1', /is not an image reference/],
  ])('rejects %s', (ref, message) => {
    expect(() => parseImageReference(ref)).toThrow(message);
  });
});

describe('dockerLogin', () => {
  const config = (auth: string) => JSON.stringify({ auths: { 'registry.digitalocean.com': { auth } } });

  test('decodes user:password (the password may hold colons)', () => {
    const auth = Buffer.from('me@example.com:tok:en').toString('base64');
    expect(dockerLogin(config(auth), 'registry.digitalocean.com')).toEqual({ username: 'me@example.com', password: 'tok:en' });
  });

  test('fails clearly when the server is missing', () => {
    expect(() => dockerLogin(config('eDp5'), 'ghcr.io')).toThrow('no login for ghcr.io');
  });
});

describe("the image's entry point, which the bootstrap job's run command starts from", () => {
  test('bridge/Dockerfile has the ENTRYPOINT the contract names, and `serve` as its CMD', () => {
    const dockerfile = readFileSync(path.resolve(__dirname, '../../', BRIDGE_IMAGE.dockerfile), 'utf8');
    const instruction = (name: string) => JSON.parse(new RegExp(`^${name} (\\[.*\\])$`, 'm').exec(dockerfile)?.[1] ?? 'null');
    expect(instruction('ENTRYPOINT')).toEqual(BRIDGE_IMAGE.entrypoint);
    expect(instruction('CMD')).toEqual(['serve']);
    expect(BOOTSTRAP_RUN_COMMAND).toBe('node /app/scim-bridge.cjs db bootstrap');
  });
});
