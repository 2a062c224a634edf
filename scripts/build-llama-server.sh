#!/usr/bin/env bash
# Builds llama-server (CPU only, server target only, Release) from the llama.cpp source that
# node-llama-cpp ships (node_modules/node-llama-cpp/llama/gitRelease.bundle), offline.
# The build is cached outside the repository, keyed by the bundle's commit, and is rebuilt
# only when that key changes. Prints the binary's path on its last line.
#
# GGML_NATIVE=OFF: with it ON the binary segfaulted at the first decode on an AMX-capable Xeon
# (ggml_backend_amx_mul_mat); AVX2/FMA/F16C cover every x86-64 host CI runs on.
# LLAMA_BUILD_UI=OFF, LLAMA_USE_PREBUILT_UI=OFF: by default the build fetches the web UI from a
# Hugging Face bucket (scripts/ui-assets.cmake); that is network at build time, for a UI the tests
# turn off (--no-webui). Only the llama-server target and what it links are compiled (ggml CPU
# backend statically, no tests/examples/other tools): cold, 320 s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f "$bundle" ] || { echo "build-llama-server: $bundle is missing; run npm ci first" >&2; exit 1; }
key=$(git bundle list-heads "$bundle" | awk 'NR==1{print substr($1,1,12)}')
cache_root=${STAGEB_LLAMA_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stageb/llama-server}
out="$cache_root/$key"
binary="$out/llama-server"
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

for tool in cmake ninja g++ git; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-llama-server: '$tool' is missing (apt-get install -y cmake ninja-build g++ git)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/llama-server-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone --quiet "$bundle" "$work/src"
start=$(date +%s)
cmake -S "$work/src" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_ALL_WARNINGS=OFF \
  >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 || { tail -50 "$work/build.log" >&2; exit 1; }
mkdir -p "$out"
cp "$work/build/bin/llama-server" "$binary.tmp"
mv "$binary.tmp" "$binary"
echo "build-llama-server: built in $(( $(date +%s) - start )) s (key $key)" >&2
echo "$binary"
