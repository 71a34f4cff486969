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
# Debian packages the project uses, each installed only when missing and only where apt-get can run (as
# root, or with passwordless sudo); a package that cannot be installed is reported with what goes without it.
ensure_debs() {  # ensure_debs "what goes without them" PACKAGE...
    local without="$1" missing="" pkg sudo=""
    shift
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    if [ -z "$missing" ] || ! command -v apt-get >/dev/null 2>&1; then return 0; fi
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    echo "setup: installing Debian packages:$missing" >&2
    { $sudo apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 \
        || { $sudo apt-get update >/dev/null 2>&1 && \
             $sudo apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; }; } \
        || echo "setup: could not install$missing; $without" >&2
}
# Noto fonts for the certificate PDF (Arabic, Ethiopic, CJK names), and zbarimg/pdftotext its test reads
# the PDF back with.
ensure_debs "certificate PDFs need the Noto fonts" fonts-noto-core fonts-noto-cjk zbar-tools poppler-utils
# Apertium and its pairs: the embedded translation engine (ai/translation/apertium.py).
ensure_debs "translation answers 503 TRANSLATION_ENGINE_UNAVAILABLE and its tests skip" \
    apertium apertium-eng-spa apertium-fr-es apertium-es-pt apertium-eng-cat
# Chromium: the browser the web journeys drive through Playwright for Python at /usr/bin/chromium (never
# `playwright install`).
ensure_debs "the browser tests skip" chromium
# espeak-ng through libespeak-ng (the embedded narrator), ffmpeg (loudness, Opus, MP3) and epubcheck (the
# read-along EPUB test): chapter audio (docs/speech.md).
ensure_debs "chapter audio answers SPEECH_UNAVAILABLE and its tests skip" espeak-ng libespeak-ng1 ffmpeg epubcheck
# wrk drives scripts/bench_http.py.
ensure_debs "scripts/bench_http.py needs wrk" wrk
export PATH="$ROOT/.venv/bin:$PATH"
