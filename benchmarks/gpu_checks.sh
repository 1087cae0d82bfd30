#!/usr/bin/env bash
# Everything this repository measures on a GPU, in one call (a lent GPU is short-lived):
#   tests    the CUDA-only tests (CUDA-graph training against eager training),
#   train    benchmarks/train_bench.py  (training loop vs the DataLoader reference, eval cost),
#   speed    benchmarks/eval_speed.py   (one evaluation job, by inference variant),
#   jobs     benchmarks/eval_bench.py   (k concurrent evaluation jobs vs one; batch 1024, 4096),
#   ceiling  the RQ viii noise-ceiling runs: every demo TSS CIFAR-10 network trained for its
#            full 10 epochs with seeds 0, 1 and 2 (`calstudy early`, resumable), until a
#            deadline; needs CIFAR-10 in DATA_DIR.
#
#   bash benchmarks/gpu_checks.sh [DATA_DIR]        # DATA_DIR holds cifar10-jpeg.tar.gz
#   STEPS="speed ceiling" bash benchmarks/gpu_checks.sh .demo_data    # some steps only
#
# Results go to $OUT (default gpu-out/): log.txt, the benchmarks' JSON files (named
# <card>-<date>-*.json, for benchmarks/results/) and early-full.tar (the ceiling runs' files,
# for data/demo/early-full/). BUDGET_S (default 520) bounds the whole script: the ceiling runs
# stop at that deadline and a rerun resumes them. Steps run even when an earlier one failed.
set -u
start=$SECONDS
budget=${BUDGET_S:-520}
steps=" ${STEPS:-tests train speed jobs ceiling} "
want() { [[ $steps == *" $1 "* ]]; }
data_dir=${1:-.demo_data}
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export CALSTUDY_CACHE=${CALSTUDY_CACHE:-/tmp/calstudy-cache}
log=$OUT/log.txt
say() { echo "### [$((SECONDS - start)) s] $*" | tee -a "$log"; }
step() {
    say "$*"
    timeout "$1" "${@:2}" 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
    say "exit $status"
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>&1 | tee -a "$log"
# The model in the card's name ("NVIDIA H100 80GB HBM3" -> h100), for the results' file names.
card=$(python3 -c "import re, torch; n = torch.cuda.get_device_name()
print((re.findall(r'\b[A-Z]+[0-9]+[A-Za-z]*\b', n) or ['gpu'])[0].lower())")
stamp="$card-$(date -u +%F)"
python3 -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)" \
    | tee -a "$log"

graph=""
if want tests; then
    step 150 python3 -m pytest -q -p no:cacheprovider tests/test_train.py -k cuda_graph
    [ "$status" -eq 0 ] || graph="--no-cuda-graph"  # the ceiling runs still come back, eagerly
fi
want train && step 150 python3 benchmarks/train_bench.py --device cuda --steps 200 \
    --json "$OUT/$stamp-train_bench.json"
want speed && step 120 python3 benchmarks/eval_speed.py --device cuda \
    --json "$OUT/$stamp-eval_speed.json"
if want jobs; then
    step 120 python3 benchmarks/eval_bench.py --device cuda --jobs 1 2 4 8 --repeats 1 \
        --json "$OUT/$stamp-eval_bench.json"
    step 90 python3 benchmarks/eval_bench.py --device cuda --jobs 1 8 --repeats 1 \
        --batch-size 4096 --json "$OUT/$stamp-eval_bench-b4096.json"
fi

if ! want ceiling; then
    :
elif [ -f "$data_dir/cifar10-jpeg.tar.gz" ] || [ -d "$data_dir/cifar10" ]; then
    left=$((budget - (SECONDS - start)))
    if [ "$left" -lt 90 ]; then
        say "under 90 s of BUDGET_S left: noise-ceiling runs skipped"
    else
        step 120 python3 -c "from calstudy.data import load_dataset; load_dataset('cifar10', '$data_dir')"
        left=$((budget - (SECONDS - start)))
        say "noise-ceiling runs for $left s: 3 seeds x 4 workers ${graph:-with CUDA graphs}"
        mkdir -p data/demo/early-full
        for seed in 0 1 2; do
            for w in 0 1 2 3; do
                OMP_NUM_THREADS=1 timeout "$left" python3 -m calstudy early \
                    --config configs/demo-tss-seeds.yaml --seed "$seed" --space tss \
                    --dataset cifar10 --epochs 10 --n-val 10000 --data-dir "$data_dir" \
                    --device cuda --worker "$w/4" --out data/demo/early-full --quiet $graph \
                    >>"$OUT/early-$seed-$w.txt" 2>&1 &
            done
        done
        wait
        tail -n 3 "$OUT"/early-*.txt >>"$log"
        rm -f "$OUT"/early-*.txt
        python3 - <<'EOF' 2>&1 | tee -a "$log"
from calstudy.early import load_early_signals
frame = load_early_signals("data/demo/early-full")
full = frame.dropna(subset=["early_ece_e10"])
print(f"{len(full)} full runs; per seed: {full.groupby('seed').size().to_dict()}; "
      f"archs with 3 seeds: {(full.groupby('arch').size() == 3).sum()}; "
      f"median seconds per network {full['seconds'].median():.1f}")
EOF
        tar -cf "$OUT/early-full.tar" -C data/demo early-full
    fi
else
    say "no CIFAR-10 in $data_dir: noise-ceiling runs skipped"
fi
say "done"
