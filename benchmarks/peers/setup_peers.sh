#!/usr/bin/env bash
# Create one isolated virtualenv per peer tool under benchmarks/.peer-venvs/ (git-ignored).
#
#   bash benchmarks/peers/setup_peers.sh            # all peers
#   bash benchmarks/peers/setup_peers.sh crrm       # just one (crrm | sionna)
#
# Idempotent: an existing venv whose peer already imports is left alone.
# Peers are NEVER dependencies of cellscape; they only live in these venvs.
# Exit status is 0 even when a peer cannot be installed: a line "PEER <name>: NOT AVAILABLE (<why>)"
# is printed and benchmarks/.peer-venvs/<name>.status records it, so the benchmark can report it.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENVS="${PEER_VENVS:-$ROOT/benchmarks/.peer-venvs}"
PY="${PYTHON:-python3}"
CRRM_SPEC="${CRRM_SPEC:-crrm==2.0.2}"
SIONNA_SPEC="${SIONNA_SPEC:-sionna-no-rt==2.2.0}"
mkdir -p "$VENVS"

status() {  # name, ok|fail, message
    echo "$2 $3" > "$VENVS/$1.status"
    if [ "$2" = ok ]; then echo "PEER $1: available ($3)"; else echo "PEER $1: NOT AVAILABLE ($3)"; fi
}

mkvenv() {  # name -> creates venv, echoes its python
    local v="$VENVS/$1"
    if [ ! -x "$v/bin/python" ]; then
        "$PY" -m venv "$v" >/dev/null 2>&1 || return 1
    fi
    echo "$v/bin/python"
}

setup_crrm() {
    local vpy log="$VENVS/crrm.install.log"
    vpy="$(mkvenv crrm)" || { status crrm fail "python3 -m venv failed"; return; }
    if "$vpy" -c "import CRRM" >/dev/null 2>&1; then
        status crrm ok "already installed: $("$vpy" -c 'import importlib.metadata as m; print("crrm", m.version("crrm"))')"
        return
    fi
    echo "installing $CRRM_SPEC into $VENVS/crrm ..."
    # CRRM's core imports scipy but its wheel does not declare it; install it explicitly.
    if "$vpy" -m pip install -q "$CRRM_SPEC" scipy >"$log" 2>&1 && "$vpy" -c "import CRRM" >>"$log" 2>&1; then
        status crrm ok "$("$vpy" -c 'import importlib.metadata as m; print("crrm", m.version("crrm"))')"
    else
        status crrm fail "pip install $CRRM_SPEC failed, see $log: $(tail -1 "$log")"
    fi
}

setup_sionna() {
    local vpy log="$VENVS/sionna.install.log"
    vpy="$(mkvenv sionna)" || { status sionna fail "python3 -m venv failed"; return; }
    if "$vpy" -c "import sionna.phy.channel.tr38901" >/dev/null 2>&1; then
        status sionna ok "already installed: $("$vpy" -c 'import importlib.metadata as m; print("sionna-no-rt", m.version("sionna-no-rt"), "torch", m.version("torch"))')"
        return
    fi
    echo "installing $SIONNA_SPEC (+ CPU-only PyTorch) into $VENVS/sionna ..."
    : >"$log"
    # Sionna >= 2.0 runs on PyTorch. Prefer a CPU-only torch wheel (~200 MB) over the default CUDA one
    # (several GB of nvidia-* wheels); fall back to whatever torch pip resolves.
    local torch_ok=0 spec
    for spec in "torch==2.13.0+cpu" "torch==2.9.1+cpu" "torch>=2.9.1"; do
        if "$vpy" -m pip install -q "$spec" >>"$log" 2>&1; then torch_ok=1; break; fi
    done
    if [ "$torch_ok" != 1 ]; then status sionna fail "no installable PyTorch >= 2.9.1 (see $log)"; return; fi
    # sionna-no-rt = Sionna PHY+SYS without the ray tracer (which needs mitsuba/drjit and is not used here).
    if "$vpy" -m pip install -q "$SIONNA_SPEC" >>"$log" 2>&1 \
        && "$vpy" -c "import sionna.phy.channel.tr38901, sionna.sys" >>"$log" 2>&1; then
        status sionna ok "$("$vpy" -c 'import importlib.metadata as m; print("sionna-no-rt", m.version("sionna-no-rt"), "torch", m.version("torch"))')"
    else
        status sionna fail "pip install $SIONNA_SPEC failed or does not import on CPU, see $log: $(tail -1 "$log")"
    fi
}

want="${1:-all}"
case "$want" in
    all) setup_crrm; setup_sionna ;;
    crrm) setup_crrm ;;
    sionna) setup_sionna ;;
    *) echo "unknown peer '$want' (crrm | sionna | all)"; exit 2 ;;
esac
echo "install sizes:"; du -sh "$VENVS"/*/ 2>/dev/null | sed "s#$VENVS/##"
exit 0
