/** One HTTP request with an optional bearer token and SCIM JSON body; the answer's status, headers and parsed body. */
export async function call(url: string, method: string, token: string | undefined, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}
