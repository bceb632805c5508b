/**
 * Image references as App Platform takes them: a registry type plus registry / repository / tag or digest fields,
 * not one string. App Platform pulls from the account's own DigitalOcean Container Registry, Docker Hub and GHCR.
 */

/** The App spec's image source fields. */
export interface AppImageSource {
  registryType: 'DOCR' | 'DOCKER_HUB' | 'GHCR';
  /** Docker Hub namespace or GHCR owner; always empty for DOCR (the account's own registry). */
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCR_HOST = 'registry.digitalocean.com';
const DOCKER_HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/**
 * Splits `host/path[:tag][@sha256:…]` into App Platform's fields. Throws with the reason when App Platform cannot
 * pull from that registry or the reference is malformed.
 */
export function parseImageReference(ref: string): AppImageSource {
  const trimmed = ref.trim();
  const [nameAndTag, digest, ...extra] = trimmed.split('@');
  if (extra.length || (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest))) {
    throw new Error(`has a malformed digest (expected @sha256:<64 hex>): "${ref}"`);
  }
  const lastSlash = nameAndTag.lastIndexOf('/');
  const tagColon = nameAndTag.indexOf(':', lastSlash + 1);
  const name = tagColon === -1 ? nameAndTag : nameAndTag.slice(0, tagColon);
  const tag = tagColon === -1 ? undefined : nameAndTag.slice(tagColon + 1);
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new Error(`has a malformed tag: "${ref}"`);

  const parts = name.split('/');
  const hasHost = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost');
  const host = hasHost ? parts[0] : 'docker.io';
  const path = hasHost ? parts.slice(1) : parts;
  if (!/^[a-z0-9.-]+(:\d+)?$/.test(host) || path.some((p) => !/^[a-z0-9]+([._-]+[a-z0-9]+)*$/.test(p))) {
    throw new Error(`is not an image reference such as ghcr.io/owner/scim-bridge:1.0.0 (got "${ref}")`);
  }
  const version = digest !== undefined ? { digest } : { tag: tag ?? 'latest' };

  if (host === DOCR_HOST) {
    // registry.digitalocean.com/<account registry>/<repository>: App Platform knows the account's registry itself.
    if (path.length < 2) throw new Error(`must be ${DOCR_HOST}/<registry>/<repository>[:tag] (got "${ref}")`);
    return { registryType: 'DOCR', repository: path.slice(1).join('/'), ...version };
  }
  if (host === 'ghcr.io') {
    if (path.length < 2) throw new Error(`must be ghcr.io/<owner>/<repository>[:tag] (got "${ref}")`);
    return { registryType: 'GHCR', registry: path[0], repository: path.slice(1).join('/'), ...version };
  }
  if (DOCKER_HUB_HOSTS.includes(host)) {
    const [namespace, ...repository] = path.length === 1 ? ['library', path[0]] : path;
    return { registryType: 'DOCKER_HUB', registry: namespace, repository: repository.join('/'), ...version };
  }
  throw new Error(
    `is on ${host}, which App Platform cannot pull from: use DigitalOcean Container Registry (${DOCR_HOST}/…), Docker Hub or GHCR (ghcr.io/…) (got "${ref}")`,
  );
}

/**
 * The user name and password in a Docker config JSON (what ContainerRegistryDockerCredentials returns), for
 * registries that take them as arguments instead of a config file.
 */
export function dockerLogin(dockerConfigJson: string, server: string): { username: string; password: string } {
  const auth = (JSON.parse(dockerConfigJson) as { auths?: Record<string, { auth?: string }> }).auths?.[server]?.auth;
  if (!auth) throw new Error(`the Docker credentials hold no login for ${server}`);
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new Error(`the Docker credentials for ${server} are not user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
