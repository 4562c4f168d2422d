#!/usr/bin/env bash
# Nightly batch encode split over a Slurm job array of 8 tasks: task i encodes shard i of 8
# (`--shard 8` reads SLURM_ARRAY_TASK_ID) and writes its own manifest part in /archive.
# Submit with: sbatch slurm-array.sh   (array indices must be 0..N-1)
#SBATCH --job-name=sigma-nightly
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=1G
#SBATCH --time=04:00:00
#SBATCH --output=sigma-%A-%a.log
set -euo pipefail
sigma batch encode /data -o /archive --shard 8 -T "${SLURM_CPUS_PER_TASK:-0}" --json -q
# When every task is done, one of them (or a follow-up job) can check the whole archive:
#   sigma batch verify /archive --source /data
