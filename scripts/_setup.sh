# Sourced by scripts/run and scripts/test: makes .venv and installs the project into it.
# Re-installs only when pyproject.toml changed, so the second run starts at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv" >&2
    "$PY" -m venv .venv
fi
STAMP=.venv/.legato-installed
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)${LEGATO_SETUP_EXTRAS:-}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "setup: installing legato into .venv (first run takes a minute or two)" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >&2 2>/dev/null || true
    .venv/bin/python -m pip install --quiet -e ".${LEGATO_SETUP_EXTRAS:-}" >&2
    echo "$WANT" > "$STAMP"
fi
# The npm solc compiler (pure JS, no binary download) lets scripts/compile_contracts.py and the artifact
# test rebuild contracts/build/ from source; Hardhat is the JSON-RPC node the trust tests run forgeries
# against (test_hostile_trust_hardhat.py). Optional: without npm those tests skip. One npm command for
# both, since an install of one alone prunes the other.
if command -v npm >/dev/null 2>&1 && { [ ! -f .tools/node_modules/solc/package.json ] \
        || [ ! -f .tools/node_modules/hardhat/package.json ]; }; then
    echo "setup: installing solcjs and hardhat into .tools/" >&2
    mkdir -p .tools
    (cd .tools && npm install --silent --no-audit --no-fund --no-save solc@0.8.28 hardhat@2.22.19 \
        >/dev/null 2>&1) || echo "setup: npm solc/hardhat not installed; artifacts not rebuilt, node tests skip" >&2
fi
# Debian packages: Noto fonts for the certificate PDF (Arabic, Ethiopic, CJK names), and zbarimg/pdftotext
# that its test reads the PDF back with; espeak-ng (libespeak-ng1, the embedded narrator) and ffmpeg
# (loudness, Opus and MP3) for chapter audio, epubcheck for the read-along EPUB test (docs/speech.md).
# Installed only when missing, and only where apt-get can run.
MISSING_DEBS=""
for pkg in fonts-noto-core fonts-noto-cjk zbar-tools poppler-utils espeak-ng libespeak-ng1 ffmpeg epubcheck; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || MISSING_DEBS="$MISSING_DEBS $pkg"
done
if [ -n "$MISSING_DEBS" ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    echo "setup: installing Debian packages:$MISSING_DEBS" >&2
    { $SUDO apt-get install -y --no-install-recommends $MISSING_DEBS >/dev/null 2>&1 \
        || { $SUDO apt-get update >/dev/null 2>&1 && \
             $SUDO apt-get install -y --no-install-recommends $MISSING_DEBS >/dev/null 2>&1; }; } \
        || echo "setup: could not install$MISSING_DEBS; certificate PDFs need the Noto fonts, chapter audio" \
                "needs espeak-ng and ffmpeg" >&2
fi
# wrk (Debian package) drives scripts/bench_http.py; installed when missing and this user may.
if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing wrk (apt-get) for scripts/bench_http.py" >&2
    { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } >/dev/null 2>&1 \
        || echo "setup: wrk not installed; scripts/bench_http.py needs it" >&2
fi
export PATH="$ROOT/.venv/bin:$PATH"
