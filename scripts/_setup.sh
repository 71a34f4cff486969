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
# axe-core (the accessibility checker the browser tests inject into each page) rides on the same command.
if command -v npm >/dev/null 2>&1 && { [ ! -f .tools/node_modules/solc/package.json ] \
        || [ ! -f .tools/node_modules/hardhat/package.json ] \
        || [ ! -f .tools/node_modules/axe-core/axe.min.js ]; }; then
    echo "setup: installing solcjs, hardhat and axe-core into .tools/" >&2
    mkdir -p .tools
    (cd .tools && npm install --silent --no-audit --no-fund --no-save solc@0.8.28 hardhat@2.22.19 \
        axe-core@4.10.2 >/dev/null 2>&1) \
        || echo "setup: npm solc/hardhat/axe-core not installed; artifacts not rebuilt, node and axe tests skip" >&2
fi
# Debian packages: Noto fonts for the certificate PDF (Arabic, Ethiopic, CJK names), and zbarimg/pdftotext
# that its test reads the PDF back with. Installed only when missing, and only where apt-get can run.
MISSING_DEBS=""
for pkg in fonts-noto-core fonts-noto-cjk zbar-tools poppler-utils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || MISSING_DEBS="$MISSING_DEBS $pkg"
done
if [ -n "$MISSING_DEBS" ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    echo "setup: installing Debian packages:$MISSING_DEBS" >&2
    { $SUDO apt-get install -y --no-install-recommends $MISSING_DEBS >/dev/null 2>&1 \
        || { $SUDO apt-get update >/dev/null 2>&1 && \
             $SUDO apt-get install -y --no-install-recommends $MISSING_DEBS >/dev/null 2>&1; }; } \
        || echo "setup: could not install$MISSING_DEBS; certificate PDFs need the Noto fonts" >&2
fi
# Apertium and its pairs: the embedded translation engine (ai/translation/apertium.py). Without them the
# translation routes answer 503 TRANSLATION_ENGINE_UNAVAILABLE and their tests skip.
TRANSLATION_DEBS=""
for pkg in apertium apertium-eng-spa apertium-fr-es apertium-es-pt apertium-eng-cat; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || TRANSLATION_DEBS="$TRANSLATION_DEBS $pkg"
done
if [ -n "$TRANSLATION_DEBS" ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    echo "setup: installing Debian packages:$TRANSLATION_DEBS" >&2
    { $SUDO apt-get install -y --no-install-recommends $TRANSLATION_DEBS >/dev/null 2>&1 \
        || { $SUDO apt-get update >/dev/null 2>&1 && \
             $SUDO apt-get install -y --no-install-recommends $TRANSLATION_DEBS >/dev/null 2>&1; }; } \
        || echo "setup: could not install$TRANSLATION_DEBS; translation answers 503 until they are" >&2
fi
# Chromium (Debian package) is the browser the web journeys drive through Playwright for Python, launched
# at /usr/bin/chromium (never `playwright install`). Installed when missing and this user may; without it
# the browser tests skip and say why.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    echo "setup: installing Debian package: chromium (for the browser tests)" >&2
    { $SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
        || { $SUDO apt-get update >/dev/null 2>&1 && \
             $SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }; } \
        || echo "setup: could not install chromium; the browser tests skip" >&2
fi
# wrk (Debian package) drives scripts/bench_http.py; installed when missing and this user may.
if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing wrk (apt-get) for scripts/bench_http.py" >&2
    { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } >/dev/null 2>&1 \
        || echo "setup: wrk not installed; scripts/bench_http.py needs it" >&2
fi
export PATH="$ROOT/.venv/bin:$PATH"
