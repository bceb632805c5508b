# Sourced by .ci/run: Debian's Chromium for the status-page browser test (playwright-core drives it).
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi
export SCIM_TEST_CHROMIUM="$(command -v chromium)"
echo "$("$SCIM_TEST_CHROMIUM" --version 2>/dev/null | head -1)"
