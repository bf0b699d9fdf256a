#!/usr/bin/env bash
# End-to-end peer benchmark on one generated input (the driver can instead hand its own IN.npz to run_<peer>.py).
#
#   bash benchmarks/peers/bench_peers.sh [N_UE] [N_CELL]       # default 200000 57
#
# Writes benchmarks/out/peers_<N_UE>x<N_CELL>{,_crrm,_sionna}.npz and prints links/s + model comparison.
# Env passed through to the peers: PEER_MAX_SECONDS, PEER_CHUNK_UE, PEER_MEM_GIB, PEER_PRECISION, ...
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENVS="${PEER_VENVS:-$ROOT/benchmarks/.peer-venvs}"
N_UE="${1:-200000}"; N_CELL="${2:-57}"
OUT="$ROOT/benchmarks/out"; mkdir -p "$OUT"
IN="$OUT/peers_${N_UE}x${N_CELL}.npz"

bash "$HERE/setup_peers.sh" >/dev/null
PY="$VENVS/crrm/bin/python"; [ -x "$PY" ] || PY=python3
[ -f "$IN" ] || "$PY" "$HERE/make_test_input.py" "$IN" --n-ue "$N_UE" --n-cell "$N_CELL"

outs=()
for peer in crrm sionna; do
    st="$(cat "$VENVS/$peer.status" 2>/dev/null || echo 'fail not set up')"
    if [ "${st%% *}" != ok ]; then echo "PEER $peer: not available (${st#* })"; continue; fi
    echo "== $peer"
    if "$VENVS/$peer/bin/python" "$HERE/run_$peer.py" "$IN" "$OUT/peers_${N_UE}x${N_CELL}_$peer.npz" \
        >"$OUT/peers_${N_UE}x${N_CELL}_$peer.log" 2>&1; then
        grep -E '"(seconds|n_links|links_per_s|peak_rss_gib|complete)"' "$OUT/peers_${N_UE}x${N_CELL}_$peer.log"
        outs+=("$OUT/peers_${N_UE}x${N_CELL}_$peer.npz")
    else
        echo "PEER $peer: run failed, see $OUT/peers_${N_UE}x${N_CELL}_$peer.log"; tail -3 "$OUT/peers_${N_UE}x${N_CELL}_$peer.log"
    fi
done
[ ${#outs[@]} -gt 0 ] && "$PY" "$HERE/compare_outputs.py" "$IN" "${outs[@]}"
exit 0
