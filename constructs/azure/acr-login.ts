/**
 * Pushing to an Azure Container Registry whose admin user is disabled.
 *
 * There is no registry password to list, so the program does what `az acr login` does: it exchanges the
 * deployer's own Microsoft Entra token (the one the azure-native provider already uses) for a short-lived ACR
 * refresh token, and hands that to the image build as the registry password. No long-lived credential exists,
 * nothing is written to ~/.docker, and the token stays a Pulumi secret. docker-build ignores password-only
 * changes in its diff, so a fresh token on every run does not rebuild the image.
 */

/** The fixed user name ACR expects alongside a refresh token obtained from an Entra token exchange. */
export const ACR_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

/** Exchanges an Entra access token (ARM audience) for an ACR refresh token; never logs or echoes the tokens. */
export async function exchangeAcrRefreshToken(
  loginServer: string,
  tenantId: string,
  entraAccessToken: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const response = await fetchImpl(`https://${loginServer}/oauth2/exchange`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'access_token',
      service: loginServer,
      tenant: tenantId,
      access_token: entraAccessToken,
    }).toString(),
  });
  if (!response.ok) {
    throw new Error(
      `ACR token exchange with ${loginServer} failed (HTTP ${response.status}). The identity running pulumi needs ` +
        'push rights on the registry (Owner, Contributor or AcrPush on the resource group or registry).',
    );
  }
  const body = (await response.json()) as { refresh_token?: unknown };
  if (typeof body.refresh_token !== 'string' || body.refresh_token === '') {
    throw new Error(`ACR token exchange with ${loginServer} returned no refresh_token`);
  }
  return body.refresh_token;
}
