#!/usr/bin/env bash
# Every GPU check and benchmark of the project in one run on an NVIDIA GPU, each part with its
# own time limit (about 8 minutes in all), so a failing part never costs the others:
#
#   1. benchmarks/gpu_check.py     AST kernel correctness on every backend, then the attention
#                                  benchmark (one layer, transformer forward, 28-step estimate)
#   2. benchmarks/regional_bench.py   one regional-prompting layer vs plain SDPA
#   3. benchmarks/gpu_memory_bench.py peak memory per model option (bf16, fp8, NF4, GGUF Q4, offload)
#
#   bash benchmarks/gpu_all.sh [OUT_DIR] [PARTS]   (default: $OUT, else out/gpu; PARTS: a comma
#                                                  list of check, attention, regional, memory;
#                                                  default check,regional,memory -- check includes
#                                                  the attention benchmark, attention runs it alone)
#
# Python packages the machine lacks can be put as wheels in .whl/ (installed with
# --no-deps into /tmp/site first). Logs of every part go to OUT_DIR; the end of the output
# repeats each part's summary.
set -u
cd "$(dirname "$0")/.."
out=${1:-${OUT:-out/gpu}}
parts=",${2:-check,regional,memory},"
mkdir -p "$out"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee "$out/gpu.txt"
python3 -c "import torch, triton, diffusers, transformers; print('torch', torch.__version__, 'triton', triton.__version__,
'diffusers', diffusers.__version__, 'transformers', transformers.__version__)" 2>&1 | tee -a "$out/gpu.txt"

part() {  # part NAME SECONDS COMMAND...   (runs only when NAME is in PARTS)
  local name=$1 limit=$2; shift 2
  [[ $parts == *",$name,"* ]] || return 0
  echo "== $name (at most ${limit} s) =="
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.txt" 2>&1
  echo "== $name: exit $? after $((SECONDS - t0)) s =="
}

part check 290 python3 benchmarks/gpu_check.py --budget 270 --log /dev/null
part attention 220 python3 benchmarks/gpu_attention_bench.py --tune --deadline $(( $(date +%s) + 205 )) ${ATTENTION_ARGS:-}
part regional 70 python3 benchmarks/regional_bench.py --device cuda --repeats 3
part memory 200 python3 benchmarks/gpu_memory_bench.py --budget 170 \
  --only "${MEMORY_OPTIONS:-GGUF Q4_0 + T5 fp8 + model offload,NF4 + T5 fp8 + model offload,bf16,fp8 + T5 fp8,bf16 + model offload}"

echo; echo "######## summaries"
[[ -f "$out/check.txt" ]] && sed -n '/== RESULT/,$p' "$out/check.txt"
[[ -f "$out/attention.txt" ]] && sed -n '/== SUMMARY/,$p' "$out/attention.txt"
[[ -f "$out/regional.txt" ]] && tail -30 "$out/regional.txt"
[[ -f "$out/memory.txt" ]] && tail -12 "$out/memory.txt"
exit 0
